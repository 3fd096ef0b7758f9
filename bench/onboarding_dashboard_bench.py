"""Customer Onboarding Dashboard benchmark: the page against the raw SQL of its widgets, in one run.

    .venv/bin/python bench/onboarding_dashboard_bench.py [--accounts 100000] [--runs 30]

Creates a dedicated database (``tamarind_bench_dashboard`` on PostgreSQL, dropped and recreated; without a
reachable PostgreSQL, a SQLite file under ``var/bench/``), six regions with a manager and ten TAMs each through the
services, then by COPY: N accounts, each with an onboarding record (three years of contract starts, most records
completed, recent ones open and some late, a few unassigned, a few with reversed dates), every account's standing
against the rules, and N/50 qualifying accounts with no TAM and no onboarding yet (accounts to staff).

Then, for an admin (every region: the heaviest page) and for one region's manager, it prints:

- the page: the dashboard view function (filters, every widget's query, the template, the chart data), N runs;
- the floor: the very SQL statements that page ran, captured from one render and replayed with
  ``cursor.execute`` + ``fetchall`` in the same process, N runs, interleaved with the page's runs;
- the ratio of the two p95s (target <= 1.5x), and each widget's selector against its own SQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import common
from common import bench_admin_and_manager, bench_page

PG_DB = os.environ.get("BENCH_DASHBOARD_PG_DB", "tamarind_bench_dashboard")
TARGET_RATIO = 1.5
REGIONS = common.DASHBOARD_REGIONS


def prepare_environment(force_sqlite: bool) -> str:
    """Point Django at a fresh bench database (before it is set up) and say which."""
    return common.prepare_environment(PG_DB, sqlite_name="dashboard.sqlite3", force_sqlite=force_sqlite)


# --- Data ---------------------------------------------------------------------------------------------------------


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _days(rng: random.Random, low: int, mode: int, high: int) -> dt.timedelta:
    return dt.timedelta(days=round(rng.triangular(low, high, mode)))


def onboarding_dates(rng: random.Random, contract: dt.date, today: dt.date, done: bool) -> dict[str, dt.date | None]:
    """A plausible record: milestones after their starts (a few reversed: data errors), none in the future."""
    start = contract + _days(rng, 0, 3, 15)
    dates: dict[str, dt.date | None] = {
        "contract_start": contract,
        "onboarding_start": start,
        "first_engagement": start + _days(rng, 1, 9, 35),
        "infrastructure_ready": start + _days(rng, 3, 14, 40),
        "first_value": contract + _days(rng, 7, 26, 80),
        "onboarding_finish": start + _days(rng, 15, 40, 110),
    }
    if rng.random() < 0.002:
        dates["first_value"] = contract - dt.timedelta(days=rng.randint(1, 20))
    if not done:
        # An open record has reached some of its milestones; the later ones are still missing.
        for name in ("first_engagement", "infrastructure_ready", "first_value", "onboarding_finish"):
            if rng.random() < 0.45:
                dates[name] = None
        dates["onboarding_finish"] = None
    for name, value in dates.items():
        if value is not None and value > today and name != "contract_start":
            dates[name] = None
    return dates


def populate(n: int, seed: int) -> None:
    """People through the services; accounts, onboarding records and standings by COPY."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from tamarind.accounts.models import Account, LifecycleStage, ProductTier
    from tamarind.assignment.models import Qualification
    from tamarind.assignment.selectors import live_rules
    from tamarind.core.bulk import bulk_insert
    from tamarind.imports.writer import ACCOUNT_COLUMNS
    from tamarind.onboarding.models import Onboarding, OnboardingStatus

    rng = random.Random(seed)
    regions, tams = common.dashboard_people(REGIONS)
    tiers = [pk for pk, rung in ProductTier.objects.values_list("pk", "rung") if rung >= 2]
    version = live_rules().version
    defaults = {f.attname: f.get_default() for f in Account._meta.concrete_fields if not f.primary_key}
    defaults["currency"] = settings.TAMARIND_DEFAULT_CURRENCY
    onboarding_columns = _columns(Onboarding)
    onboarding_defaults: dict[str, Any] = {str(f.column): f.get_default() for f in Onboarding._meta.concrete_fields}
    qualification_columns = _columns(Qualification)
    now = timezone.now()
    today = timezone.localdate()
    accounts: list[tuple[Any, ...]] = []
    records: list[tuple[Any, ...]] = []
    standings: list[tuple[Any, ...]] = []
    open_statuses = [OnboardingStatus.NOT_STARTED, OnboardingStatus.SCHEDULED, OnboardingStatus.IN_PROGRESS]
    to_staff = n // 50
    for pk in range(1, n + to_staff + 1):
        region = rng.choice(regions)
        has_record = pk <= n
        contract = today - dt.timedelta(days=rng.randint(0, 3 * 365))
        age = (today - contract).days
        done = has_record and rng.random() < (0.15 if age < 60 else 0.6 if age < 150 else 0.97)
        tam = rng.choice(tams[region.pk]) if has_record and (done or rng.random() > 0.03) else None
        arr = Decimal(round(rng.lognormvariate(11.9, 0.8), -2)) + Decimal(50_100)
        account = {
            **defaults,
            "id": pk,
            "crm_id": f"D{pk:08d}",
            "name": f"Onboarding Customer {pk}",
            "region_id": region.pk,
            "segment": rng.choice(["mid_market", "enterprise"]),
            "arr": arr,
            "product_tier_id": rng.choice(tiers),
            "licenses": max(5, int(arr / 400)),
            "priority": 1,
            "tam_id": tam,
            "customer_since": contract,
            "lifecycle_stage": LifecycleStage.ADOPTION if done else LifecycleStage.ONBOARDING,
            "created_at": now,
            "updated_at": now,
        }
        accounts.append(tuple(account[c] for c in ACCOUNT_COLUMNS))
        standing = {"account_id": pk, "qualifies": True, "rule_version": version, "qualified_at": now}
        standings.append(
            tuple({**standing, "disengagement_flagged_at": None, "evaluated_at": now}[c] for c in qualification_columns)
        )
        if not has_record:
            continue
        record: dict[str, Any] = {
            **onboarding_defaults,
            "id": pk,
            "account_id": pk,
            "tam_id": tam,
            **onboarding_dates(rng, contract, today, done),
            "created_at": now,
            "updated_at": now,
        }
        if done:
            record.update(status=OnboardingStatus.COMPLETED, notes="Onboarded.", experience_score=rng.randint(2, 5))
            for name in ("onboarding_start", "first_engagement", "infrastructure_ready", "first_value"):
                record[name] = record[name] or today
            record["onboarding_finish"] = record["onboarding_finish"] or today
        elif rng.random() < 0.04:
            record.update(status=OnboardingStatus.ON_HOLD, delay_reason="Waiting on the customer's security review.")
        else:
            record["status"] = rng.choice(open_statuses)
        records.append(tuple(record[c] for c in onboarding_columns))
    with transaction.atomic():
        for start in range(0, len(accounts), 20_000):
            bulk_insert(Account._meta.db_table, ACCOUNT_COLUMNS, accounts[start : start + 20_000])
        for start in range(0, len(records), 20_000):
            bulk_insert(Onboarding._meta.db_table, onboarding_columns, records[start : start + 20_000])
        for start in range(0, len(standings), 20_000):
            bulk_insert(Qualification._meta.db_table, qualification_columns, standings[start : start + 20_000])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("accounts_account", "onboarding_onboarding"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [n + to_staff])
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")


# --- Measuring ----------------------------------------------------------------------------------------------------


def bench_user(user: Any, runs: int) -> float:
    """The page for ``user`` and each widget, against their own SQL. Returns the page's p95 ratio."""
    from django.utils import timezone

    from tamarind.dashboards import selectors as s
    from tamarind.dashboards.views import onboarding_dashboard
    from tamarind.onboarding.selectors import onboarding_targets

    def widgets() -> dict[str, Callable[[], Any]]:
        today = timezone.localdate()
        regions = s.dashboard_regions(user)
        filters = s.DashboardFilters.from_params({}, user=user, regions=regions, today=today)
        targets = onboarding_targets().as_days()
        records = s.dashboard_records(user, filters)
        loose = s.dashboard_records(user, filters, with_tam=False)
        first, last = filters.chart_window(today)
        return {
            "targets": onboarding_targets,
            "regions": lambda: s.dashboard_regions(user),
            "widget_in_onboarding": lambda: s.widget_in_onboarding(records, targets=targets, today=today),
            "widget_metrics (all)": lambda: s.widget_metrics(records, targets=targets, today=today),
            "widget_metrics (by region)": lambda: s.widget_metrics(records, targets=targets, today=today, by="region"),
            "widget_metrics (by TAM)": lambda: s.widget_metrics(records, targets=targets, today=today, by="tam"),
            "widget_unassigned_counts": lambda: s.widget_unassigned_counts(loose, user, filters),
            "dashboard_tams": lambda: s.dashboard_tams(user, [r.pk for r in regions], []),
            "widget_over_target": lambda: s.widget_over_target(records, targets=targets, today=today),
            "widget_first_value_by_month": lambda: s.widget_first_value_by_month(
                records, targets=targets, first=first, last=last
            ),
            "widget_unassigned_records": lambda: s.widget_unassigned_records(loose),
            "widget_unassigned_accounts": lambda: s.widget_unassigned_accounts(user, filters),
        }

    return bench_page(user, runs, path="/dashboards/onboarding/", view=onboarding_dashboard, widgets=widgets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="Accounts with an onboarding record.")
    parser.add_argument("--runs", type=int, default=30, help="Timed renders of the page per user.")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even when PostgreSQL is reachable.")
    args = parser.parse_args()
    where = prepare_environment(args.sqlite)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tamarind.onboarding.models import Onboarding

    n = args.accounts
    print(f"Customer Onboarding Dashboard over {n:,} accounts with onboarding records on {where}")
    started = time.perf_counter()
    populate(n, args.seed)
    open_records = Onboarding.objects.exclude(status="completed").count()
    print(
        f"(set-up in {time.perf_counter() - started:.1f} s: {Onboarding.objects.count():,} records, "
        f"{open_records:,} open, {n // 50:,} accounts to staff; {args.runs} timed runs each, interleaved)"
    )
    print("Figures: ours vs the same SQL through cursor.execute + fetchall; ratio = p95 / p95.")

    bench_admin_and_manager(bench_user, runs=args.runs, what=f"{n:,} records", target=TARGET_RATIO)


if __name__ == "__main__":
    main()
