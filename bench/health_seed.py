"""A health book for the benchmarks: N accounts with everything the health recompute and its dashboard read,
seeded fast (COPY), then scored by the real full recompute. Not a benchmark itself (``bench/run.py`` runs the files
named ``*_bench.py``); import it by name, as ``common``.

    import health_seed
    info = health_seed.seed_health_book(100_000, seed=5)   # after django.setup() and migrate

What it writes, by COPY (``core.bulk.bulk_insert``), in one transaction:

- people through the services (``common.dashboard_people``): an admin ``bench-admin@bench.test``, a director, six
  regions with a manager (``manager0@bench.test`` ...) and ten TAMs each;
- N accounts: region, segment (SMB, Mid-Market, Enterprise), priority 1-4, ARR, licenses, a TAM for 98% (2% wait
  for one), customer since up to five years ago, a next renewal from a month ago to 400 days ahead, lifecycle
  Adoption / Optimize and grow (1% will churn: out of health reporting);
- one or two TAM sentiments for 92% (a fifth of them older than the staleness days), one to three calls or
  meetings for 95%;
- two months of licenses and active-user rollups for 90% of the accounts, with their ``UsageState``; tickets for
  about half (some urgent and open), with their monthly rollups and the state's ``tickets_updated_at``;
- an open onboarding record for 6% (some past the first-value target without one) and an open triage case for 5%
  (some not updated in time).

Then ``health_recompute_all`` scores every account (writing the score columns and today's mix snapshots, raising
the stale-review tasks and triage proposals a first run raises) and ``history_days - 1`` earlier days of
``HealthMixSnapshot`` rows are written by COPY from today's (a drifting copy: the trend chart's rows, as a year of
hourly full runs would leave them). Finally VACUUM ANALYZE, as autovacuum would leave a settled database.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import common


@dataclass
class SeededBook:
    accounts: int
    regions: list[Any]
    scored_seconds: float
    seeded_seconds: float
    snapshots: int


def _plain(model: Any, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The columns COPY writes for ``model`` (an auto id left to the database) and their defaults under ``values``."""
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
    ]
    return [f.column for f in fields], {**{f.column: f.get_default() for f in fields}, **values}


class Rows:
    """Rows per table, for COPY."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}

    def add(self, model: Any, **values: Any) -> None:
        columns, row = _plain(model, values)
        self.tables.setdefault(model._meta.db_table, (columns, []))[1].append(tuple(row[c] for c in columns))

    def write(self, order: list[Any]) -> None:
        from tamarind.core.bulk import bulk_insert

        for model in order:
            columns, rows = self.tables.get(model._meta.db_table, ([], []))
            for start in range(0, len(rows), 20_000):
                bulk_insert(model._meta.db_table, columns, rows[start : start + 20_000])


def seed_health_book(n: int, *, seed: int = 5, history_days: int = 90, verbose: bool = True) -> SeededBook:
    """Seed ``n`` accounts and what health reads, score them with the full recompute and write the trend's history
    (see the module docstring). Django must be set up and migrated on an empty database."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from tamarind.accounts.models import Account, LifecycleStage, ProductTier
    from tamarind.health.models import HealthMixSnapshot, Sentiment
    from tamarind.health.services import health_recompute_all
    from tamarind.imports.writer import ACCOUNT_COLUMNS
    from tamarind.onboarding.models import Onboarding, OnboardingStatus
    from tamarind.timeline.models import TimelineEntry
    from tamarind.triage.models import TriageCase
    from tamarind.usage import models as usage

    started = time.perf_counter()
    rng = random.Random(seed)
    regions, tams = common.dashboard_people()
    tiers = [pk for pk, rung in ProductTier.objects.values_list("pk", "rung") if rung >= 2]
    defaults = {f.attname: f.get_default() for f in Account._meta.concrete_fields if not f.primary_key}
    defaults["currency"] = settings.TAMARIND_DEFAULT_CURRENCY
    metrics = dict(usage.UsageMetric.objects.filter(key__in=["active_users", "licenses"]).values_list("key", "pk"))
    now = timezone.now()
    today = timezone.localdate()
    latest = today.replace(day=1)
    previous = (latest - dt.timedelta(days=1)).replace(day=1)
    accounts: list[tuple[Any, ...]] = []
    rows = Rows()
    ticket = 0
    for pk in range(1, n + 1):
        region = rng.choice(regions)
        arr = Decimal(round(rng.lognormvariate(11.9, 0.8), -2)) + Decimal(50_100)
        since = today - dt.timedelta(days=rng.randint(30, 5 * 365))
        account = {
            **defaults,
            "id": pk,
            "crm_id": f"H{pk:08d}",
            "name": f"Health Customer {pk}",
            "region_id": region.pk,
            "segment": rng.choice(["smb", "mid_market", "enterprise"]),
            "arr": arr,
            "product_tier_id": rng.choice(tiers),
            "licenses": max(5, int(arr / 400)),
            "priority": rng.choice([1, 1, 2, 2, 3, 4]),
            "tam_id": rng.choice(tams[region.pk]) if rng.random() > 0.02 else None,
            "customer_since": since,
            "next_renewal_date": today + dt.timedelta(days=rng.randint(-30, 400)),
            "lifecycle_stage": rng.choice([LifecycleStage.ADOPTION, LifecycleStage.OPTIMIZE_GROW])
            if rng.random() > 0.01
            else LifecycleStage.WILL_CHURN,
            "created_at": now,
            "updated_at": now,
        }
        accounts.append(tuple(account[c] for c in ACCOUNT_COLUMNS))
        if rng.random() < 0.92:
            for _ in range(rng.choice([1, 1, 2])):
                stale = rng.random() < 0.2
                rows.add(
                    Sentiment, account_id=pk, color=rng.choices(["green", "yellow", "red"], [6, 3, 1])[0],
                    reason="Quarterly review.", requires_triage=rng.random() < 0.05,
                    set_at=now - dt.timedelta(days=rng.randint(91, 200) if stale else rng.randint(0, 90), minutes=rng.randint(0, 600)),
                )  # fmt: skip
        if rng.random() < 0.95:
            for _ in range(rng.choice([1, 1, 2, 3])):
                rows.add(
                    TimelineEntry, account_id=pk, kind=rng.choice(["call", "meeting"]), title="Cadence call",
                    occurred_at=now - dt.timedelta(days=rng.randint(0, 120)), created_at=now,
                )  # fmt: skip
        used = rng.random() < 0.9
        last_day = None
        if used:
            licenses = rng.choice([20, 50, 100, 250])
            active = {previous: int(licenses * rng.uniform(0.3, 1.0))}
            active[latest] = max(0, active[previous] + rng.randint(-10, 5))
            for month in (previous, latest):
                last_day = month + dt.timedelta(days=min(today.day, 28) - 1 if month == latest else 27)
                for key, value in (("licenses", licenses), ("active_users", active[month])):
                    rows.add(
                        usage.UsageMonthly, account_id=pk, month=month, metric_id=metrics[key], last_value=value,
                        last_day=last_day, max_value=value, days_reported=last_day.day, updated_at=now,
                    )  # fmt: skip
        opened = [
            now - dt.timedelta(days=rng.randint(0, 45), minutes=rng.randint(0, 600))
            for _ in range(rng.choice([0, 0, 1, 2, 3, 8]))
        ]
        for at in opened:
            ticket += 1
            urgent = rng.random() < 0.03
            closed = rng.random() < 0.7
            rows.add(
                usage.SupportTicket, account_id=pk, external_id=f"B{ticket:09d}", opened_at=at,
                closed_at=at + dt.timedelta(hours=5) if closed else None, priority="urgent" if urgent else "normal",
                status="closed" if closed else "open", updated_at=now,
            )  # fmt: skip
        for month in sorted({at.date().replace(day=1) for at in opened}):
            count = sum(1 for at in opened if at.date().replace(day=1) == month)
            rows.add(usage.TicketMonthly, account_id=pk, month=month, opened=count, urgent_opened=0, updated_at=now)
        if used or opened:
            rows.add(
                usage.UsageState, account_id=pk, latest_month=latest if used else None,
                previous_month=previous if used else None, last_day=last_day,
                tickets_updated_at=now if opened else None,
            )  # fmt: skip
        if rng.random() < 0.06:
            start = today - dt.timedelta(days=rng.randint(5, 80))
            rows.add(
                Onboarding, account_id=pk, tam_id=account["tam_id"], contract_start=start, onboarding_start=start,
                status=rng.choice([OnboardingStatus.IN_PROGRESS, OnboardingStatus.NOT_STARTED]),
                first_value=start + dt.timedelta(days=20) if rng.random() < 0.4 else None, created_at=now, updated_at=now,
            )  # fmt: skip
        if rng.random() < 0.05:
            rows.add(
                TriageCase, account_id=pk, health_color=rng.choice(["red", "yellow"]), status="investigating",
                opened_at=now - dt.timedelta(days=60), last_update_at=now - dt.timedelta(days=rng.randint(0, 45)),
            )  # fmt: skip
    with transaction.atomic():
        for start in range(0, len(accounts), 20_000):
            from tamarind.core.bulk import bulk_insert

            bulk_insert(Account._meta.db_table, ACCOUNT_COLUMNS, accounts[start : start + 20_000])
        rows.write(
            [
                Sentiment,
                TimelineEntry,
                usage.UsageMonthly,
                usage.SupportTicket,
                usage.TicketMonthly,
                usage.UsageState,
                Onboarding,
                TriageCase,
            ]
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_account', 'id'), %s)", [n])
    seeded = time.perf_counter() - started
    if verbose:
        print(f"(seeded {n:,} accounts and what health reads in {seeded:.1f} s; scoring them with the full recompute)")
    _vacuum()
    started = time.perf_counter()
    health_recompute_all(source="bench", today=today)
    scored = time.perf_counter() - started
    snapshots = _history(rng, today, history_days, HealthMixSnapshot)
    _vacuum()
    return SeededBook(n, regions, scored, seeded, snapshots)


def _history(rng: random.Random, today: dt.date, days: int, model: Any) -> int:
    """``days - 1`` earlier days of snapshots, each a drifting copy of today's rows (by COPY)."""
    from tamarind.core.bulk import bulk_insert

    today_rows = list(model.objects.filter(day=today).values())
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    out = []
    for back in range(1, days):
        day = today - dt.timedelta(days=back)
        drift = 1 + (rng.random() - 0.5) * 0.1
        for row in today_rows:
            moved = {**row, "day": day}
            for color in ("green", "yellow", "red"):
                moved[color] = int(row[color] * (drift if color != "green" else 2 - drift))
                moved[f"{color}_arr"] = (row[f"{color}_arr"] * Decimal(str(round(drift, 4)))).quantize(Decimal("0.01"))
            out.append(tuple(moved[c] for c in columns))
    for start in range(0, len(out), 20_000):
        bulk_insert(model._meta.db_table, columns, out[start : start + 20_000])
    return len(out) + len(today_rows)


def _vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
