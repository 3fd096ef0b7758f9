"""Page benchmark at scale: whole pages against the reference regional query set, in one run.

    .venv/bin/python bench/pages_bench.py [--accounts 100000] [--runs 30] [--reuse] [--pages onboarding,account]

The database: ``BENCH_DATABASE_URL`` when set (used as it is: migrated, and seeded only when it has no accounts);
otherwise a database of its own, ``tamarind_bench_pages`` on PostgreSQL (``BENCH_PAGES_PG_DB``; dropped, created
and seeded, or with ``--reuse`` kept when it already holds a book of that size), and without a reachable
PostgreSQL a SQLite file under ``var/bench/``. Seeding is ``book.seed_book``: the demo's plan and cast of N
accounts written by COPY, onboarding records, health inputs, and the product's own full health recompute.

Then for an admin (every region) and for the TAM Manager of the largest region, each page is requested through
Django's test client (middleware, session, the view, its queries, the template: the whole response) ``--runs``
times, each run followed by the reference, and it prints per page and role: the queries the page ran, its p50 and
p95, the p50 of its own SQL replayed through a bare cursor (where the time goes), the reference's p50 and p95, and
the ratio of the page's p95 to the reference's (target <= 3x).

The reference is what a database engineer would write for the TAM Regional Dashboard's four widgets over the
same scope (the admin's whole book, the manager's region), as plain SQL over the indexed tables: the health mix
(accounts per color), ARR per color, the stale reviews count, and the accounts without a TAM renewing in the next
90 days (count and ARR). Accounts that will churn are out of health reporting, as on the health dashboard.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import common
from common import ms, p95

PG_DB = os.environ.get("BENCH_PAGES_PG_DB", "tamarind_bench_pages")
TARGET_RATIO = 3.0

REFERENCE = {
    "health mix": """
        SELECT h.color, count(*) FROM accounts_account a JOIN health_healthscore h ON h.account_id = a.id
        WHERE {scope} a.lifecycle_stage <> 'will_churn' GROUP BY h.color""",
    "ARR by color": """
        SELECT h.color, sum(a.arr) FROM accounts_account a JOIN health_healthscore h ON h.account_id = a.id
        WHERE {scope} a.lifecycle_stage <> 'will_churn' GROUP BY h.color""",
    "stale count": """
        SELECT count(*) FROM accounts_account a JOIN health_healthscore h ON h.account_id = a.id
        WHERE {scope} h.stale AND a.lifecycle_stage <> 'will_churn'""",
    "renewals in 90 days without a TAM": """
        SELECT count(*), coalesce(sum(a.arr), 0) FROM accounts_account a
        WHERE {scope} a.tam_id IS NULL AND a.next_renewal_date BETWEEN %(today)s AND %(until)s
        AND a.lifecycle_stage <> 'will_churn'""",
}


def prepare_environment(args: argparse.Namespace) -> tuple[str, bool]:
    """Point Django at the bench database (before it is set up). Returns where, in words, and whether it was just
    created (to be seeded)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        common.bench_settings(tasks="database")
        os.environ["DATABASE_URL"] = url
        return f"BENCH_DATABASE_URL ({url.rsplit('/', 1)[-1]})", False
    if args.reuse and not args.sqlite and _pg_database_exists(PG_DB):
        common.bench_settings(tasks="database")
        os.environ["DATABASE_URL"] = common.PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DB
        return f"PostgreSQL ({PG_DB}, reused)", False
    where = common.prepare_environment(PG_DB, sqlite_name="pages.sqlite3", force_sqlite=args.sqlite, tasks="database")
    return where, True


def _pg_database_exists(name: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(common.PG_ADMIN_URL.replace("postgres://", "postgresql://"), connect_timeout=3) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
    except Exception:
        return False


# --- The reference ------------------------------------------------------------------------------------------------


def reference(region_id: int | None) -> Callable[[], None]:
    """The four widgets' SQL over ``region_id`` (``None``: every region), run through a bare cursor."""
    from django.db import connection
    from django.utils import timezone

    today = timezone.localdate()
    params: dict[str, Any] = {"today": today, "until": today + dt.timedelta(days=90), "region": region_id}
    scope = "a.region_id = %(region)s AND" if region_id is not None else ""
    statements = [sql.format(scope=scope) for sql in REFERENCE.values()]

    def run() -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    return run


# --- Pages --------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    role: str
    page: str
    queries: int
    ours: list[float]
    sql: list[float]
    ref: list[float]

    @property
    def ratio(self) -> float:
        return p95(self.ours) / p95(self.ref) if p95(self.ref) else float("inf")


PAGE_KEYS = ("health", "onboarding", "list", "list-filtered", "list-sorted", "account")


def pages(account_ids: list[int], only: list[str]) -> list[tuple[str, Callable[[int], str]]]:
    """(label, the URL of run ``i``) for each page (those of ``only``, by ``PAGE_KEYS``, when given). The account
    page walks ``account_ids``, one per run."""
    today = dt.date.today()
    until = today + dt.timedelta(days=180)
    every = [
        ("health dashboard", lambda i: "/dashboards/health/"),
        ("onboarding dashboard", lambda i: "/dashboards/onboarding/"),
        ("accounts list: first page", lambda i: "/accounts/"),
        (
            "accounts list: red, renewing in 180 days",
            lambda i: f"/accounts/?health=red&renewal_from={today}&renewal_to={until}",
        ),
        ("accounts list: by TAM, page 3", lambda i: "/accounts/?sort=tam&page=3"),
        ("account page", lambda i: f"/accounts/{account_ids[i % len(account_ids)]}/"),
    ]
    return [page for key, page in zip(PAGE_KEYS, every, strict=True) if not only or key in only]


def bench_role(
    role: str, user: Any, region_id: int | None, account_ids: list[int], runs: int, only: list[str]
) -> list[Result]:
    from django.test import Client

    client = Client()
    client.force_login(user)
    ref = reference(region_id)

    def fetch(url: str) -> None:
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)

    results = []
    for label, url_of in pages(account_ids, only):
        statements = common.capture(lambda url_of=url_of: fetch(url_of(0)))
        for i in range(3):
            fetch(url_of(i))
            ref()
        ours, sql, refs = [], [], []
        for i in range(runs):
            url = url_of(i)
            ours.append(common.timed(lambda url=url: fetch(url)))
            sql.append(common.timed(lambda statements=statements: common.replay(statements)))
            refs.append(common.timed(ref))
        result = Result(role, label, len(statements), ours, sql, refs)
        results.append(result)
        print_row(result)
    return results


def print_header() -> None:
    print(
        f"\n  {'role':<8} {'page':<42} {'q':>3}   {'page p50':>11} {'p95':>11}   {'its SQL p50':>11}"
        f"   {'ref p50':>11} {'ref p95':>11}   {'p95/ref':>7}"
    )


def print_row(r: Result) -> None:
    verdict = "" if r.ratio <= TARGET_RATIO else "  over target"
    print(
        f"  {r.role:<8} {r.page:<42} {r.queries:>3}   {ms(statistics.median(r.ours))} {ms(p95(r.ours))}"
        f"   {ms(statistics.median(r.sql))}   {ms(statistics.median(r.ref))} {ms(p95(r.ref))}"
        f"   {r.ratio:6.2f}x{verdict}",
        flush=True,
    )


def pick_people_and_accounts() -> tuple[Any, Any, int, list[int]]:
    """The first admin, the TAM Manager of the region with the most accounts, and twenty of that region's
    accounts with a TAM, a health score, an onboarding record and timeline entries (the fullest account pages)."""
    from django.db.models import Count

    from tamarind.accounts.models import Account
    from tamarind.people.models import Region, Role, User

    admin = User.objects.active().filter(role=Role.ADMIN).order_by("pk").first()
    region = Region.objects.filter(manager__isnull=False).annotate(n=Count("accounts")).order_by("-n", "pk").first()
    assert admin is not None and region is not None, "The bench needs an admin and a region with a manager."
    manager = User.objects.with_region().get(pk=region.manager_id)
    full = (
        Account.objects.filter(region=region, tam__isnull=False, health__isnull=False)
        .filter(onboardings__isnull=False, timeline__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()[:20]
    )
    ids = list(full) or list(Account.objects.filter(region=region).order_by("pk").values_list("pk", flat=True)[:20])
    return admin, manager, region.pk, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="Accounts in the seeded book.")
    parser.add_argument("--runs", type=int, default=30, help="Timed requests of each page per user.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="Keep the bench database when it holds this book.")
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even when PostgreSQL is reachable.")
    parser.add_argument("--pages", default="", help=f"Only these pages, comma-separated: {', '.join(PAGE_KEYS)}.")
    args, unknown = parser.parse_known_args()
    only = [key.strip() for key in args.pages.split(",") if key.strip()]
    if set(only) - set(PAGE_KEYS):
        parser.error(f"--pages takes {', '.join(PAGE_KEYS)}")
    if unknown:
        print(f"(ignoring {' '.join(unknown)})")
    where, fresh = prepare_environment(args)

    import warnings

    import django

    # WhiteNoise warns that the static root was never collected: the bench renders without collecting.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import setup_test_environment

    from tamarind.accounts.models import Account

    # The test client wants the test environment (it records templates); production settings hash static files at
    # collectstatic time, and the bench renders without collecting them.
    setup_test_environment()
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    call_command("migrate", verbosity=0)
    have = Account.objects.count()
    if have and args.reuse and have != args.accounts and "BENCH_DATABASE_URL" not in os.environ:
        print(f"The bench database holds {have:,} accounts, not {args.accounts:,}: run without --reuse.")
        sys.exit(2)
    if fresh or have == 0:
        print(f"Seeding {args.accounts:,} accounts on {where}")
        from book import seed_book

        book = seed_book(args.accounts, seed=args.seed)
        print(f"(seeded in {book.seconds:.1f} s)")
    n = Account.objects.count()
    admin, manager, region_id, account_ids = pick_people_and_accounts()
    print(f"\nPages over {n:,} accounts on {where}; {args.runs} timed requests each, each followed by the reference.")
    print("Reference: the 4-widget regional query set (health mix, ARR by color, stale count, renewals in 90 days")
    print("without a TAM) as plain SQL over the same scope. Ratio = page p95 / reference p95; target <= 3x.")
    print_header()
    results = bench_role("admin", admin, None, account_ids, args.runs, only)
    results += bench_role("manager", manager, region_id, account_ids, args.runs, only)
    over = [r for r in results if r.ratio > TARGET_RATIO]
    print(
        f"\ntarget: page p95 <= {TARGET_RATIO:g}x the reference's p95, per page and role: "
        + ("met everywhere" if not over else f"NOT met for {', '.join(f'{r.page} ({r.role})' for r in over)}")
    )
    if connection.vendor != "postgresql":
        print("The target is set for PostgreSQL at 100,000 accounts.")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s in all)")
