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
- Tamarind's full recompute (``health_recompute_all``: every account's inputs, score, history, run record), first
  run and a second run (idempotent: nothing changes), as ratios of the PostgreSQL aggregate (target <= 1.5x);
- an incremental recompute after one day of new usage for 1,000 accounts (ingest through the service, which
  refreshes the rollups and rescores the touched accounts), as a share of the full recompute (target < 1%).
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
    from tamarind.core.bulk import bulk_insert
    from tamarind.imports.writer import ACCOUNT_COLUMNS
    from tamarind.people.models import Role
    from tamarind.people.services import region_create, user_create
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
    rebuild_rollups()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_account', 'id'), %s)", [n])
            cursor.execute("ANALYZE")
    return total, today - dt.timedelta(days=1)


def rebuild_rollups() -> None:
    """The monthly rollups of every (account, month, metric) and ticket month: what ingest maintains as it goes."""
    from django.db import connection, transaction

    from tamarind.usage.models import SupportTicket, UsageDaily
    from tamarind.usage.services import _refresh_ticket_months, _refresh_usage_months

    with transaction.atomic():
        months = set()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT account_id, day FROM {UsageDaily._meta.db_table}")
            for account_id, day in cursor.fetchall():
                months.add((account_id, day.replace(day=1)))
        _refresh_usage_months(months)
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
    from tamarind.accounts.models import Account
    from tamarind.health.models import HealthScore
    from tamarind.health.services import health_recompute_all
    from tamarind.usage.models import UsageMetric
    from tamarind.usage.rows import UsageRow
    from tamarind.usage.services import usage_ingest_daily

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

    full, result = timed(lambda: health_recompute_all(source="bench"))
    print(f"{'Tamarind full recompute, first run':<62} {full:8.2f} s   {full / raw:.2f}x   ({result.summary()})")
    assert HealthScore.objects.count() == n
    again, second = timed(lambda: health_recompute_all(source="bench"))
    print(
        f"{'Tamarind full recompute, second run (nothing changes)':<62} {again:8.2f} s   {again / raw:.2f}x   ({second.summary()})"
    )

    day = last_day + dt.timedelta(days=1)
    metric_key = UsageMetric.objects.filter(kind="active").values_list("key", flat=True)[0]
    ids = list(Account.objects.order_by("?").values_list("pk", "crm_id")[:1000])
    new_rows = [UsageRow(account=crm, day=day, metric=metric_key, value=random.randint(0, 50)) for _, crm in ids]
    incremental, _ = timed(lambda: usage_ingest_daily(actor=None, rows=new_rows, source="bench"))
    share = incremental / full * 100
    print(
        f"{'one day of usage for 1,000 accounts: ingest + rollups + rescore':<62} {incremental:8.2f} s   {share:.2f}% of the full recompute"
    )
    verdict = "met" if full / raw <= 1.5 else "NOT met"
    print(f"target: full recompute <= 1.5x the raw aggregate: {full / raw:.2f}x, {verdict}")
    verdict = "met" if share < 1 else "NOT met"
    print(f"target: incremental < 1% of the full recompute: {share:.2f}%, {verdict}")


if __name__ == "__main__":
    main()
