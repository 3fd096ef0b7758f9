"""Manager's cockpit benchmark: the TAM Regional Dashboard and My week for a TAM Manager and a director, against
minimal SQL for the same figures in the same run, and opening a review's checklist.

    .venv/bin/python bench/reviews_bench.py [--accounts 20000] [--runs 20] [--sqlite]
    .venv/bin/python bench/reviews_bench.py --accounts 100000      # the issue's size

Seeds ``book.seed_book`` (the demo's plan and cast, scored by the product's own health recompute) in a dedicated
database (``tamarind_bench_reviews`` on PostgreSQL, dropped and recreated), plans the reviews (the scheduler job)
and counts today's burn-down. Then for each user it prints the page's p50/p95 against two floors measured
interleaved with it: the SQL the page itself ran, replayed; and (the dashboard) a hand-written SQL query set
computing the same figures (per-TAM counts, ARR, priority 1, health mix, stale, renewals in 90 days, open
onboardings, red/yellow and unassigned-renewing lists, renewals by quarter). Target: page p95 <= 1.5x the
hand-written SQL's p95 at 100,000 accounts on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import time
from typing import Any

import common

PG_DB = os.environ.get("BENCH_REVIEWS_PG_DB", "tamarind_bench_reviews")
TARGET_RATIO = 1.5


def reference_dashboard(region_id: int | None, today: dt.date) -> None:
    """The dashboard's figures in plain SQL over the same scope."""
    from django.db import connection

    where = "a.region_id = %s" if region_id is not None else "TRUE"
    args: list[Any] = [region_id] if region_id is not None else []
    end90 = today + dt.timedelta(days=90)
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT a.region_id, a.tam_id, count(*), sum(a.arr),
                       count(*) FILTER (WHERE a.priority = 1),
                       count(*) FILTER (WHERE h.color = 'green'), count(*) FILTER (WHERE h.color = 'yellow'),
                       count(*) FILTER (WHERE h.color = 'red'), count(*) FILTER (WHERE h.stale),
                       count(*) FILTER (WHERE a.next_renewal_date BETWEEN %s AND %s),
                       count(*) FILTER (WHERE a.priority = 1 AND a.lifecycle_stage <> 'will_churn' AND NOT EXISTS (
                           SELECT 1 FROM success_successplan p WHERE p.account_id = a.id
                           AND p.status IN ('draft', 'active') AND p.color = 'green')),
                       count(*) FILTER (WHERE a.priority = 1 AND a.lifecycle_stage <> 'will_churn' AND NOT EXISTS (
                           SELECT 1 FROM success_ebr e WHERE e.account_id = a.id
                           AND e.status = 'completed' AND e.held_on >= %s))
                FROM accounts_account a LEFT JOIN health_healthscore h ON h.account_id = a.id
                WHERE {where} GROUP BY a.region_id, a.tam_id""",
            [today, end90, today - dt.timedelta(days=365), *args],
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT a.tam_id, count(*) FROM onboarding_onboarding o JOIN accounts_account a ON a.id = o.account_id
                WHERE o.status <> 'completed' AND {where} GROUP BY a.tam_id""",
            args,
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT a.id, a.name, a.arr, h.color FROM accounts_account a JOIN health_healthscore h
                ON h.account_id = a.id WHERE h.color IN ('red', 'yellow') AND {where} ORDER BY a.arr DESC, a.id LIMIT 25""",
            args,
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT a.id, a.name, a.next_renewal_date FROM accounts_account a WHERE a.tam_id IS NULL
                AND a.next_renewal_date BETWEEN %s AND %s AND {where} ORDER BY a.next_renewal_date, a.id LIMIT 25""",
            [today, end90, *args],
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT date_trunc('quarter', a.next_renewal_date), count(*), sum(a.arr) FROM accounts_account a
                WHERE a.next_renewal_date BETWEEN %s AND %s AND {where} GROUP BY 1""",
            [today, today + dt.timedelta(days=366), *args],
        )
        cur.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000, help="Accounts (the issue's size: 100000).")
    parser.add_argument("--runs", type=int, default=20, help="Timed runs of each page and of each reference.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even when PostgreSQL is reachable.")
    args = parser.parse_args()
    where = common.prepare_environment(PG_DB, sqlite_name="reviews.sqlite3", force_sqlite=args.sqlite)

    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")
    django.setup()
    from django.conf import settings
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import RequestFactory, override_settings
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    from book import seed_book

    from tamarind.people.models import Role, User
    from tamarind.reviews import burndown, services, views
    from tamarind.reviews.models import ReviewKind, ReviewOccurrence

    print(f"Manager's cockpit over {args.accounts:,} accounts on {where}")
    book = seed_book(args.accounts, seed=args.seed)
    started = time.perf_counter()
    services.occurrences_schedule()
    burndown.burndown_snapshot()
    print(
        f"(seeded in {book.seconds:.1f} s; reviews planned and burn-down counted in {time.perf_counter() - started:.1f} s)"
    )
    today = timezone.localdate()
    factory = RequestFactory()

    def page(view: Any, path: str, user: Any) -> Any:
        def run() -> None:
            request = factory.get(path)
            request.user = user
            request.session = {}  # type: ignore[assignment]
            request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
            response = view(request)
            assert response.status_code == 200, response.status_code

        return run

    manager = (
        User.objects.with_region().filter(role=Role.MANAGER, managed_region__isnull=False).order_by("email").first()
    )
    director = User.objects.with_region().filter(role=Role.DIRECTOR).first() or User.objects.with_region().get(
        role=Role.ADMIN, email__startswith="admin"
    )
    assert manager is not None
    ratios = {}
    for who, user, region_id in (("manager", manager, manager.managed_region.pk), ("director", director, None)):
        print(f"\n{who} ({user.full_name}; {'one region' if region_id else 'every region'}):")
        dash = page(views.regional_dashboard, "/reviews/dashboard/", user)
        ours, raw, queries = common.compare(dash, args.runs)
        common.report("regional dashboard vs its own SQL replayed", ours, raw, queries)
        # The page against the hand-written figures, interleaved so both see the same machine.
        reference = functools.partial(reference_dashboard, region_id, today)
        ours, ref = [], []
        for _ in range(args.runs):
            ours.append(common.timed(dash))
            ref.append(common.timed(reference))
        ratio = common.p95(ours) / common.p95(ref)
        print(
            f"  {'regional dashboard vs hand-written SQL':<44}       p95 {common.ms(common.p95(ours))} vs {common.ms(common.p95(ref))}   {ratio:5.2f}x"
        )
        ratios[f"regional dashboard ({who})"] = ratio
        week = page(views.my_week, "/reviews/my-week/", user)
        ours, raw, queries = common.compare(week, args.runs)
        ratios[f"My week ({who}) vs its own SQL"] = common.report("My week vs its own SQL replayed", ours, raw, queries)

    occurrence = ReviewOccurrence.objects.filter(region=manager.managed_region, kind=ReviewKind.TRIAGE_HEALTH).first()
    if occurrence is not None:
        samples = []
        for _ in range(max(3, args.runs // 4)):
            with transaction.atomic():
                samples.append(common.timed(lambda: services.review_open(actor=manager, review=occurrence)))
                transaction.set_rollback(True)
        print(
            f"\nopening a triage and health review's checklist ({manager.managed_region}): p95 {common.ms(common.p95(samples))}"
        )
    print()
    for label, ratio in ratios.items():
        print(f"target: {label} p95 <= {TARGET_RATIO}x: {ratio:.2f}x, {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    if connection.vendor != "postgresql":
        print("The target is set for PostgreSQL at 100,000 accounts; on SQLite the figures are for orientation only.")


if __name__ == "__main__":
    main()
