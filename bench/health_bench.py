"""Health recompute benchmark: the full recompute against the raw aggregate over the same usage rows, in one run.

    .venv/bin/python bench/health_bench.py [--accounts 100000] [--days 20]

Creates a dedicated database (``tamarind_bench_health`` on PostgreSQL, dropped and recreated; without PostgreSQL a
SQLite file under ``var/bench/``), six regions with managers and TAMs through the services, N accounts by COPY,
and ``N x days x 5 metrics`` daily usage rows (100,000 x 20 x 5 = 10,000,000 by default: licenses, active users and
three use cases) by COPY, with their monthly rollups built by one SQL statement (what ingest keeps up to date), plus
support tickets. Then it prints, from one run:

- the raw PostgreSQL aggregate over the same daily rows: each account's latest value of each metric (what the
  health score needs of usage, computed straight from raw history);
- DuckDB's time for the same aggregate over the same rows (exported to Parquet), printed as the reference floor;
- Tamarind's full recompute (``health_recompute_all``: every account's inputs, score, history, run record, and the
  consequences of changes), as ratios of the PostgreSQL aggregate (target <= 1.5x), four times: the first run (no
  scores yet: every score written, the first stale-review tasks and triage proposals raised), again (nothing
  changed: nothing written), the next day (every "days since" moves, but a score keeps dates, not day counts: only
  the accounts a band edge, a contract-age column or a turning-stale review reaches that day are scored again and
  rewritten) and a week later (a week of such edges at once);
- one more day of usage for 1,000 accounts (every metric, continuing each account's numbers): the ingest with its
  rollups, then the incremental recompute of the touched accounts (what the ingest service runs after it), each as a
  share of the full recompute (target for the recompute: < 1%).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time

import common
from common import ROOT

PG_DB = os.environ.get("BENCH_HEALTH_PG_DB", "tamarind_bench_health")

RAW_AGGREGATE = """
SELECT DISTINCT ON (account_id, metric_id) account_id, metric_id, day, value
FROM usage_usagedaily
ORDER BY account_id, metric_id, day DESC
"""
DUCK_AGGREGATE = """
SELECT account_id, metric_id, arg_max(day, day) AS day, arg_max(value, day) AS value
FROM usage GROUP BY account_id, metric_id
"""


def prepare_environment() -> str:
    """A fresh bench database; follow-up work (emails) is queued for the worker, as in production, not done inside
    the measured calls."""
    return common.prepare_environment(PG_DB, sqlite_name="health.sqlite3", tasks="database")


def populate(n: int, days: int, seed: int) -> tuple[int, dt.date]:
    """People through the services; accounts, daily usage, rollups and tickets by COPY / SQL. Returns the row count
    of daily usage and the last day reported."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from tamarind.accounts.models import Account, LifecycleStage, ProductTier
    from tamarind.core.bulk import bulk_insert, insert_instances
    from tamarind.health.models import Sentiment
    from tamarind.imports.writer import ACCOUNT_COLUMNS
    from tamarind.people.models import Role
    from tamarind.people.services import region_create, user_create
    from tamarind.timeline.models import EntryKind, TimelineEntry
    from tamarind.usage.models import MetricKind, SupportTicket, UsageDaily, UsageMetric

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
    tier = ProductTier.objects.order_by("-rung").first()
    defaults = {f.attname: f.get_default() for f in Account._meta.concrete_fields if not f.primary_key}
    defaults["currency"] = settings.TAMARIND_DEFAULT_CURRENCY
    now = timezone.now()
    today = timezone.localdate()
    accounts = []
    licenses = {}
    for pk in range(1, n + 1):
        region = rng.choice(regions)
        seats = rng.choice([25, 50, 100, 250, 500, 1000])
        licenses[pk] = seats
        row = {
            **defaults,
            "id": pk,
            "crm_id": f"H{pk:08d}",
            "name": f"Health Customer {pk}",
            "region_id": region.pk,
            "segment": rng.choice(["mid_market", "enterprise"]),
            "arr": seats * 400,
            "product_tier_id": tier.pk if tier else None,
            "licenses": seats,
            "priority": rng.choice([1, 1, 2]),
            "tam_id": rng.choice(tams[region.pk]),
            "customer_since": today - dt.timedelta(days=rng.randint(30, 900)),
            "lifecycle_stage": LifecycleStage.ADOPTION,
            "created_at": now,
            "updated_at": now,
        }
        accounts.append(tuple(row[c] for c in ACCOUNT_COLUMNS))
    metrics = list(UsageMetric.objects.order_by("pk"))
    by_kind = {m.kind: m for m in metrics}
    use_cases = [m for m in metrics if m.kind == MetricKind.USE_CASE][:3]
    chosen = [by_kind[MetricKind.LICENSES], by_kind[MetricKind.ACTIVE], *use_cases]
    first_day = today - dt.timedelta(days=days)
    columns = [str(f.column) for f in UsageDaily._meta.concrete_fields if not f.primary_key]
    total = 0
    with transaction.atomic():
        for start in range(0, n, 20_000):
            bulk_insert(Account._meta.db_table, ACCOUNT_COLUMNS, accounts[start : start + 20_000])
        for first in range(1, n + 1, 2_000):
            rows = []
            for pk in range(first, min(first + 2_000, n + 1)):
                seats = licenses[pk]
                active = int(seats * rng.uniform(0.05, 1.0))
                for d in range(days):
                    day = first_day + dt.timedelta(days=d)
                    for metric in chosen:
                        if metric.kind == MetricKind.LICENSES:
                            value = seats
                        elif metric.kind == MetricKind.ACTIVE:
                            value = max(0, active + rng.randint(-3, 3))
                        else:
                            value = int(active * 0.4)
                        values = {"account_id": pk, "day": day, "metric_id": metric.pk, "value": value}
                        rows.append(tuple(values[c] for c in columns))
            bulk_insert(UsageDaily._meta.db_table, columns, rows)
            total += len(rows)
        ticket_columns = [str(f.column) for f in SupportTicket._meta.concrete_fields if not f.primary_key]
        tickets = []
        for k in range(n // 2):
            values = {
                "account_id": rng.randint(1, n),
                "external_id": f"T{k:08d}",
                "opened_at": now - dt.timedelta(days=rng.randint(0, 60)),
                "closed_at": None,
                "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
                "status": rng.choice(["open", "solved", "closed"]),
            }
            for f in SupportTicket._meta.concrete_fields:
                if not f.primary_key and f.column not in values:
                    values[str(f.column)] = f.get_default()
            tickets.append(tuple(values[c] for c in ticket_columns))
        bulk_insert(SupportTicket._meta.db_table, ticket_columns, tickets)
        # TAM sentiments (two thirds of the book, a few stale) and the last call (most accounts): the other inputs a
        # real recompute reads.
        sentiments, calls = [], []
        for pk in range(1, n + 1):
            if rng.random() < 0.67:
                sentiments.append(
                    Sentiment(
                        account_id=pk,
                        color=rng.choice(["green", "green", "green", "yellow", "red"]),
                        reason="Bench review",
                        requires_triage=False,
                        set_at=now - dt.timedelta(days=rng.randint(0, 120)),
                    )
                )
            if rng.random() < 0.8:
                calls.append(
                    TimelineEntry(
                        account_id=pk,
                        kind=EntryKind.CALL,
                        occurred_at=now - dt.timedelta(days=rng.randint(0, 100)),
                        title="Cadence call",
                        created_at=now,
                    )
                )
        insert_instances(sentiments)
        insert_instances(calls)
    rebuild_rollups(n, first_day, days)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_account', 'id'), %s)", [n])
            cursor.execute("ANALYZE")
    return total, today - dt.timedelta(days=1)


def rebuild_rollups(n: int, first_day: dt.date, days: int) -> None:
    """The monthly rollups of every (account, month, metric), the accounts' usage state and the ticket months: what
    ingest maintains as it goes (every account reports every day from ``first_day``)."""
    from django.db import transaction

    from tamarind.usage.models import SupportTicket
    from tamarind.usage.services import _refresh_ticket_months, _refresh_usage_months

    months = sorted({(first_day + dt.timedelta(days=d)).replace(day=1) for d in range(days)})
    with transaction.atomic():
        _refresh_usage_months({(pk, month) for pk in range(1, n + 1) for month in months})
        ticket_months = {
            (a, opened.date().replace(day=1))
            for a, opened in SupportTicket.objects.values_list("account_id", "opened_at")
        }
        _refresh_ticket_months(ticket_months)


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def duckdb_floor() -> float | None:
    """DuckDB's time for the aggregate over the same rows, exported from PostgreSQL to Parquet first."""
    try:
        import duckdb
    except ImportError:
        print("DuckDB not installed (pip install duckdb): no reference floor.")
        return None
    from django.db import connection

    path = ROOT / "var" / "bench" / "usage.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    query = "COPY usage_usagedaily (account_id, metric_id, day, value) TO STDOUT WITH CSV"
    with connection.cursor() as cursor, path.open("wb") as out, cursor.cursor.copy(query) as copy:
        for block in copy:
            out.write(block)
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE usage AS SELECT * FROM read_csv('{path}', header=false, "
        "columns={'account_id': 'INTEGER', 'metric_id': 'INTEGER', 'day': 'DATE', 'value': 'INTEGER'})"
    )
    path.unlink()
    seconds, _ = timed(lambda: con.execute(DUCK_AGGREGATE).fetchall())
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    where = prepare_environment()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from django.urls import reverse
    from django.utils import timezone

    from tamarind.accounts.models import Account
    from tamarind.health.models import HealthScore
    from tamarind.health.services import health_recompute_accounts, health_recompute_all
    from tamarind.usage.models import MetricKind, UsageDaily, UsageMetric
    from tamarind.usage.rows import UsageRow
    from tamarind.usage.services import usage_ingest_chunks

    # A worker has its URLconf loaded: load it here too, so no timing below includes that one-off import.
    reverse("accounts:detail", args=[1])
    n = args.accounts
    print(f"Health recompute over {n:,} accounts on {where}")
    started = time.perf_counter()
    rows, last_day = populate(n, args.days, args.seed)
    print(
        f"(set-up: {n:,} accounts, {rows:,} daily usage rows and their rollups in {time.perf_counter() - started:.1f} s)"
    )

    if connection.vendor != "postgresql":
        print("The targets are PostgreSQL's; run with PostgreSQL for the figures that count.")
    with connection.cursor() as cursor:
        raw, _ = timed(lambda: (cursor.execute(RAW_AGGREGATE), cursor.fetchall()))
    print(f"{'raw aggregate over the daily rows (PostgreSQL, DISTINCT ON)':<62} {raw:8.2f} s   1.00x")
    floor = duckdb_floor()
    if floor is not None:
        print(f"{'the same aggregate in DuckDB (reference floor)':<62} {floor:8.2f} s   {floor / raw:.2f}x")

    active_key = UsageMetric.objects.get(kind=MetricKind.ACTIVE, builtin=True).key
    today = timezone.localdate()
    runs: list[tuple[str, float]] = []

    def full_run(label: str, day: dt.date) -> float:
        seconds, result = timed(lambda: health_recompute_all(source="bench", today=day))
        print(f"{label:<62} {seconds:8.2f} s   {seconds / raw:.2f}x   ({result.summary()})")
        runs.append((label, seconds))
        return seconds

    full_run("full recompute, first run (no scores yet: all written)", today)
    assert HealthScore.objects.count() == n
    full_run("full recompute again (nothing changed: nothing written)", today)
    full = full_run(
        "full recompute the next day (day counts move: what changed rewritten)", today + dt.timedelta(days=1)
    )

    # One more day of usage for 1,000 accounts, as the populated days continue (licenses, active users within a few
    # of the day before, use cases): ingest with its rollups first, then the recompute of the touched accounts, each
    # timed (together they are what ``usage_ingest_daily`` does).
    day = last_day + dt.timedelta(days=1)
    rng = random.Random(args.seed + 1)
    sample = sorted(rng.sample(range(1, n + 1), min(1000, n)))
    crm = dict(Account.objects.filter(pk__in=sample).values_list("pk", "crm_id"))
    previous = {
        (a, m): v
        for a, m, v in UsageDaily.objects.filter(account_id__in=sample, day=last_day).values_list(
            "account_id", "metric__key", "value"
        )
    }
    new_rows = [
        UsageRow(account=crm[a], day=day, metric=m, value=max(0, v + (rng.randint(-3, 3) if m == active_key else 0)))
        for (a, m), v in sorted(previous.items())
    ]
    ingest, ingested = timed(
        lambda: usage_ingest_chunks(actor=None, batches=[new_rows], source="bench", consequences=False)
    )
    incremental, third = timed(
        lambda: health_recompute_accounts(
            account_ids=ingested.account_ids, source="bench", today=today + dt.timedelta(days=1)
        )
    )
    share = incremental / full * 100
    print(
        f"{f'one day of usage for {len(sample):,} accounts ({len(new_rows):,} rows): ingest + rollups':<62} "
        f"{ingest:8.2f} s   {ingest / full * 100:.2f}% of the next day's full recompute"
    )
    print(
        f"{'incremental recompute of those accounts':<62} {incremental:8.2f} s   {share:.2f}% of the next day's "
        f"full recompute, {incremental / runs[0][1] * 100:.2f}% of the first   ({third.summary()})"
    )
    full_run("full recompute a week later (a week of band edges at once)", today + dt.timedelta(days=8))
    for label, seconds in runs:
        verdict = "met" if seconds / raw <= 1.5 else "NOT met"
        print(f"target: {label.split(' (')[0]} <= 1.5x the raw aggregate: {seconds / raw:.2f}x, {verdict}")
    verdict = "met" if share < 1 else "NOT met"
    print(f"target: the incremental recompute < 1% of the next day's full recompute: {share:.2f}%, {verdict}")


if __name__ == "__main__":
    main()
