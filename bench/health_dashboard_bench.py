"""Customer Health Dashboard benchmark: every tab of the page and its API, for an admin and a region's manager,
against the reference 4-widget query set, in one run.

    .venv/bin/python bench/health_dashboard_bench.py [--accounts 100000] [--runs 30] [--sqlite]

Creates a dedicated database (``tamarind_bench_health_dashboard`` on PostgreSQL, dropped and recreated; without a
reachable PostgreSQL, a SQLite file under ``var/bench/``) and seeds it with ``health_seed.seed_health_book``: N
accounts with their sentiments, calls, usage rollups, tickets, onboarding and triage by COPY, scored by the real
full recompute (which writes the score columns the dashboard reads and today's mix snapshots), 90 days of
snapshots for the trend. Then, for the bench admin (every region) and the first region's manager, it times:

- each tab as a user gets it: ``django.test.Client`` GETs (middleware, session, the view, every widget's queries,
  the template), ``--runs`` times each after a warm-up: Overview, Red & Yellow, Stale, Measures, Indicators, the
  Indicators cut to one indicator, and ``GET /api/v1/dashboards/health`` for one tab (``?tab=overview``,
  ``?tab=indicators``: what a client showing that tab asks for) and for every tab's figures at once;
- the reference in the same rounds (interleaved, so both see the same machine): the minimal SQL a database
  engineer would write for a regional dashboard's four widgets, over the plain indexed tables: the health mix
  (accounts per color), ARR per color, the stale count, and renewals in the next 90 days without a TAM, run with
  ``cursor.execute`` + ``fetchall``; for the admin over every region, for the manager over theirs;

and prints p50 and p95 of each side by side with the ratio of the p95s (target: page p95 <= 3x the reference's),
each page's query count and the time its SQL took in the database (one captured run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import common
import health_seed
from common import ms, p95

PG_DB = os.environ.get("BENCH_HEALTH_DASHBOARD_PG_DB", "tamarind_bench_health_dashboard")
TARGET_RATIO = 3.0

# The reference: four indexed aggregates, the minimal SQL for the four widgets of a regional dashboard. ``{scope}``
# is ``a.region_id = %s AND`` for a region, nothing for the whole book.
REFERENCE = [
    (
        "health mix (accounts per color)",
        "SELECT h.color, COUNT(*) FROM accounts_account a JOIN health_healthscore h ON h.account_id = a.id "
        "WHERE {scope} a.lifecycle_stage <> 'will_churn' GROUP BY h.color",
    ),
    (
        "ARR per color",
        "SELECT h.color, SUM(a.arr) FROM accounts_account a JOIN health_healthscore h ON h.account_id = a.id "
        "WHERE {scope} a.lifecycle_stage <> 'will_churn' GROUP BY h.color",
    ),
    (
        "stale count",
        "SELECT COUNT(*) FROM accounts_account a JOIN health_healthscore h ON h.account_id = a.id "
        "WHERE {scope} h.stale AND a.lifecycle_stage <> 'will_churn'",
    ),
    (
        "renewals in 90 days without a TAM",
        "SELECT COUNT(*), SUM(a.arr) FROM accounts_account a WHERE {scope} a.tam_id IS NULL "
        "AND a.next_renewal_date BETWEEN %s AND %s AND a.lifecycle_stage <> 'will_churn'",
    ),
]

PAGES = [
    ("Overview", "/dashboards/health/"),
    ("Red & Yellow", "/dashboards/health/red-yellow/"),
    ("Stale", "/dashboards/health/stale/"),
    ("Measures", "/dashboards/health/measures/"),
    ("Indicators", "/dashboards/health/indicators/"),
    ("Indicators: no call", "/dashboards/health/indicators/?indicator=no_call"),
    ("API ?tab=overview", "/api/v1/dashboards/health?tab=overview"),
    ("API ?tab=indicators", "/api/v1/dashboards/health?tab=indicators"),
    ("API (every tab's figures)", "/api/v1/dashboards/health"),
]


def reference_set(region_id: int | None) -> Callable[[], None]:
    """The reference's four queries for one region (``None``: the whole book), as one callable."""
    from django.db import connection
    from django.utils import timezone

    today = timezone.localdate()
    statements = []
    for _, sql in REFERENCE:
        params: list[Any] = [] if region_id is None else [region_id]
        if "%s AND %s" in sql:
            params += [today, today + dt.timedelta(days=90)]
        statements.append((sql.format(scope="" if region_id is None else "a.region_id = %s AND"), params))

    def run() -> None:
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    return run


def page_getter(user: Any, path: str) -> Callable[[], None]:
    """A GET of ``path`` as ``user`` signed in, through the whole stack (test client), checked for a full answer."""
    from django.test import Client

    client = Client()
    client.force_login(user)

    def get() -> None:
        response = client.get(path, secure=True)
        assert response.status_code == 200, (path, response.status_code)
        assert len(response.content) > 2_000, path

    return get


def sql_of(fn: Callable[[], None]) -> tuple[int, float]:
    """How many queries ``fn`` runs and the seconds they take in the database (one run)."""
    from django.db import connection

    spent = [0.0]
    count = [0]

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - started
            count[0] += 1

    with connection.execute_wrapper(timed):
        fn()
    return count[0], spent[0]


def bench_user(user: Any, region_id: int | None, runs: int) -> dict[str, float]:
    """Every page for ``user`` against the reference for ``region_id``; prints the table, returns p95 ratios."""
    reference = reference_set(region_id)
    pages = [(label, path, page_getter(user, path)) for label, path in PAGES]
    for _ in range(3):  # warm-up: connections, templates, the planner's caches
        reference()
        for _, _, get in pages:
            get()
    ref: list[float] = []
    samples: dict[str, list[float]] = {label: [] for label, _, _ in pages}
    for _ in range(runs):
        ref.append(common.timed(reference))
        for label, _, get in pages:
            samples[label].append(common.timed(get))
    ref_p50, ref_p95 = statistics.median(ref), p95(ref)
    print(f"  {'reference: 4 indexed aggregates':<34} {'4 q':>5}  p50 {ms(ref_p50)}  p95 {ms(ref_p95)}")
    print("      " + "; ".join(label for label, _ in REFERENCE))
    ratios = {}
    print(f"  {'page':<34} {'q':>5}  {'p50':>12}  {'p95':>12}   {'p95 / ref p95':>13}   SQL in the database")
    for label, _, get in pages:
        queries, seconds = sql_of(get)
        ratio = p95(samples[label]) / ref_p95 if ref_p95 else float("inf")
        ratios[label] = ratio
        print(
            f"  {label:<34} {queries:>5}  p50 {ms(statistics.median(samples[label]))}  "
            f"p95 {ms(p95(samples[label]))}   {ratio:10.2f}x   {ms(seconds)}"
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="Accounts.")
    parser.add_argument("--runs", type=int, default=30, help="Timed GETs of each page per user.")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even when PostgreSQL is reachable.")
    args = parser.parse_args()
    where = common.prepare_environment(PG_DB, sqlite_name="health_dashboard.sqlite3", force_sqlite=args.sqlite)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    call_command("migrate", verbosity=0)
    from tamarind.health.models import HealthMixSnapshot, HealthScore
    from tamarind.people.models import Role, User

    n = args.accounts
    print(f"Customer Health Dashboard over {n:,} accounts on {where}")
    book = health_seed.seed_health_book(n, seed=args.seed)
    print(
        f"(seeded in {book.seeded_seconds:.1f} s, scored by the full recompute in {book.scored_seconds:.1f} s: "
        f"{HealthScore.objects.count():,} scores, {HealthMixSnapshot.objects.count():,} snapshot rows; "
        f"{args.runs} timed runs of each page and of the reference, interleaved)"
    )
    # Production settings hash static files at collectstatic time; the bench renders without collecting them.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()
    admin = User.objects.with_region().get(email="bench-admin@bench.test")
    manager = User.objects.with_region().filter(role=Role.MANAGER).order_by("email").first()
    assert manager is not None and manager.managed_region is not None
    print(f"\nadmin (every region, {n:,} accounts; the reference over the whole book):")
    admin_ratios = bench_user(admin, None, args.runs)
    print(f"\nTAM Manager of {manager.managed_region} (one region; the reference over that region):")
    manager_ratios = bench_user(manager, manager.managed_region.pk, args.runs)
    print()
    for who, ratios in (("admin", admin_ratios), ("manager", manager_ratios)):
        for label, ratio in ratios.items():
            verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
            print(f"target: {label} p95 <= {TARGET_RATIO}x the reference's p95 ({who}): {ratio:.2f}x, {verdict}")
    if connection.vendor != "postgresql":
        print("The target is set for PostgreSQL at 100,000 accounts; on SQLite the figures are for orientation only.")


if __name__ == "__main__":
    main()
