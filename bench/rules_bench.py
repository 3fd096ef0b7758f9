"""Rule evaluation benchmark: the service path over a whole book against the pure evaluator, in one run.

    .venv/bin/python bench/rules_bench.py [--accounts 100000]

Creates a dedicated database (``tamarind_bench_rules`` on PostgreSQL, dropped and recreated; without a reachable
PostgreSQL, a SQLite file under ``var/bench/``), six regions with managers and TAMs through the services, and N
accounts written with COPY (a realistic mix of ARR, segments, tiers and owners). Then it prints:

- the pure evaluator's rate: the compiled live rules over N in-memory ``AccountFacts`` (the ceiling);
- ``qualification_refresh`` over the whole book, first time: reads every account, evaluates, stores N standings
  and fires the consequences of every newly qualifying account (tasks, notifications, onboarding records);
- the same call again (steady state: nothing changed, nothing written), target >= 100,000 accounts/s;
- an import-sized call: 1,000 accounts of which some changed standing.
Each figure is printed with its rate and its ratio to the pure evaluator measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from decimal import Decimal

import common

PG_DB = os.environ.get("BENCH_RULES_PG_DB", "tamarind_bench_rules")
TARGET_RATE = 100_000


def prepare_environment() -> str:
    """A fresh bench database; follow-up work (emails) is queued for the worker, as in production, not done inside
    the measured calls."""
    return common.prepare_environment(PG_DB, sqlite_name="rules.sqlite3", tasks="database")


def populate(n: int, seed: int) -> None:
    """Regions, managers and TAMs through the services; N accounts by COPY (no standing yet)."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from tamarind.accounts.models import Account, LifecycleStage, ProductTier
    from tamarind.core.bulk import bulk_insert
    from tamarind.imports.writer import ACCOUNT_COLUMNS
    from tamarind.people.models import Role
    from tamarind.people.services import region_create, user_create

    rng = random.Random(seed)
    regions, tams = [], {}
    for i, name in enumerate(["AMER East", "AMER West", "EMEA", "APAC", "LATAM", "Public Sector"]):
        manager = user_create(actor=None, email=f"manager{i}@bench.test", full_name=f"Manager {i}", role=Role.MANAGER)
        region = region_create(actor=None, name=name, manager=manager)
        regions.append(region)
        tams[region.pk] = [
            user_create(
                actor=None, email=f"tam{i}-{k}@bench.test", full_name=f"TAM {i}-{k}", role=Role.TAM, region=region
            ).pk
            for k in range(40)
        ]
    tiers = list(ProductTier.objects.values_list("pk", "rung"))
    defaults = {f.attname: f.get_default() for f in Account._meta.concrete_fields if not f.primary_key}
    defaults["currency"] = settings.TAMARIND_DEFAULT_CURRENCY
    now = timezone.now()
    rows = []
    for pk in range(1, n + 1):
        region = rng.choice(regions)
        segment = rng.choices(["smb", "mid_market", "enterprise"], weights=[55, 30, 15])[0]
        arr = Decimal(round(rng.lognormvariate(10.8 if segment == "smb" else 11.6, 1.0), -2))
        tier_pk, rung = rng.choice(tiers)
        qualifies = arr > 50_000 and segment != "smb" and rung >= 2
        row = {
            **defaults,
            "id": pk,
            "crm_id": f"B{pk:08d}",
            "name": f"Bench Customer {pk}",
            "region_id": region.pk,
            "segment": segment,
            "arr": arr,
            "product_tier_id": tier_pk,
            "licenses": max(5, int(arr / 400)),
            "priority": 1 if qualifies else 4,
            "tam_id": rng.choice(tams[region.pk]) if qualifies and rng.random() < 0.9 else None,
            "lifecycle_stage": LifecycleStage.ONBOARDING if rng.random() < 0.05 else LifecycleStage.ADOPTION,
            "created_at": now,
            "updated_at": now,
        }
        rows.append(tuple(row[c] for c in ACCOUNT_COLUMNS))
    with transaction.atomic():
        for start in range(0, n, 20_000):
            bulk_insert(Account._meta.db_table, ACCOUNT_COLUMNS, rows[start : start + 20_000])
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_account', 'id'), %s)", [n])
            cursor.execute("ANALYZE")


def line(label: str, seconds: float, count: int, floor: float | None = None) -> None:
    rate = count / seconds if seconds else float("inf")
    ratio = f"  {seconds / floor:6.1f}x the pure evaluator" if floor else ""
    print(f"{label:<58} {seconds:8.3f} s  {rate:>12,.0f} accounts/s{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    where = prepare_environment()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tamarind.accounts.models import Account
    from tamarind.actions.models import Task
    from tamarind.assignment import services
    from tamarind.assignment.rules import compile_rules
    from tamarind.assignment.selectors import N_FACTS, account_rows, facts_from_row, live_rules
    from tamarind.notifications.models import Notification
    from tamarind.onboarding.models import Onboarding

    n = args.accounts
    print(f"Rule evaluation over {n:,} accounts on {where}")
    started = time.perf_counter()
    populate(n, args.seed)
    print(f"(set-up: {n:,} accounts written in {time.perf_counter() - started:.1f} s)")

    facts = [facts_from_row(row[1 : N_FACTS + 1]) for rows in account_rows(None) for row in rows]
    qualifies = compile_rules(live_rules().spec())  # over AccountFacts, as the rules tests use it
    t = time.perf_counter()
    yes = sum(1 for f in facts if qualifies(f))
    pure = time.perf_counter() - t
    line("pure evaluator (compiled rules, facts in memory)", pure, n)

    t = time.perf_counter()
    first = services.qualification_refresh(actor=None, account_ids=None, source="bench")
    first_s = time.perf_counter() - t
    assert len(first.newly_qualified) == yes, (len(first.newly_qualified), yes)
    line("service path, first evaluation (+ every consequence)", first_s, n, pure)
    print(
        f"    {len(first.newly_qualified):,} newly qualifying: {Task.objects.count():,} tasks, "
        f"{Notification.objects.count():,} notifications, {Onboarding.objects.count():,} onboarding records"
    )

    t = time.perf_counter()
    again = services.qualification_refresh(actor=None, account_ids=None, source="bench")
    steady = time.perf_counter() - t
    assert not again.newly_qualified and not again.disqualified and again.tasks == 0
    line("service path, whole book again (steady state)", steady, n, pure)

    ids = list(Account.objects.order_by("?").values_list("pk", flat=True)[:1000])
    Account.objects.filter(pk__in=ids[:100]).update(arr=Decimal("1000"))  # 100 drop below the bar
    t = time.perf_counter()
    small = services.qualification_refresh(actor=None, account_ids=ids, source="bench")
    small_s = time.perf_counter() - t
    line(f"service path, 1,000 accounts ({len(small.disqualified)} stop qualifying)", small_s, 1000)

    rate = n / steady
    verdict = "met" if rate >= TARGET_RATE else "NOT met"
    print(f"target: >= {TARGET_RATE:,} accounts/s through the service path (steady state): {rate:,.0f}/s, {verdict}")


if __name__ == "__main__":
    main()
