"""Manager's cockpit benchmark: the TAM Regional Dashboard and My week for a TAM Manager and a director, against
minimal SQL for the same figures in the same run, and opening a review's checklist.

    .venv/bin/python bench/reviews_bench.py [--accounts 20000] [--runs 20] [--sqlite]
    .venv/bin/python bench/reviews_bench.py --accounts 100000      # the issue's size

Seeds ``book.seed_book`` (the demo's plan and cast, scored by the product's own health recompute) in a dedicated
database (``tamarind_bench_reviews`` on PostgreSQL, dropped and recreated), plans the reviews (the scheduler job)
and counts today's burn-down. Then for each user it prints the page's p50/p95 against two floors measured
interleaved with it: the SQL the page itself ran, replayed; and (the dashboard) a hand-written SQL query set
computing the same figures (per-TAM counts, ARR, priority 1, health mix, stale, renewals in 90 days, open
onboardings, red/yellow and unassigned-renewing lists, the accounts renewing in each fiscal quarter and the
quarter's renewals by forecast: one grouped query), My week (the reviews due, the accounts to staff and their count,
the burn-down's exceptions counted now, one grouped query per table, and a week ago). A Renewal row is seeded for
each account renewing within the coming five quarters. Target: page p95 <= 1.5x the
hand-written SQL's p95 at 100,000 accounts on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import time
from decimal import Decimal
from typing import Any

import common

PG_DB = os.environ.get("BENCH_REVIEWS_PG_DB", "tamarind_bench_reviews")
TARGET_RATIO = 1.5


def reference_dashboard(region_id: int | None, today: dt.date, quarters: list[tuple[dt.date, dt.date]]) -> None:
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
        q_start, q_end = quarters[0][0], quarters[-1][1]
        bucket = " ".join(f"WHEN {{col}} BETWEEN '{a}' AND '{b}' THEN {n}" for n, (a, b) in enumerate(quarters))
        cur.execute(
            f"""SELECT CASE {bucket.format(col="a.next_renewal_date")} END, count(*), sum(a.arr) FROM accounts_account a
                WHERE a.next_renewal_date BETWEEN %s AND %s AND {where} GROUP BY 1""",
            [q_start, q_end, *args],
        )
        cur.fetchall()
        # The quarter's renewals by forecast (ARR at risk, expected): one grouped query over the four quarters.
        join = "JOIN accounts_account a ON a.id = r.account_id" if region_id is not None else ""
        cur.execute(
            f"""SELECT CASE {bucket.format(col="r.renewal_date")} END, r.forecast, count(*), sum(r.arr),
                       sum(CASE WHEN r.status = 'closed' THEN r.new_arr WHEN r.forecast = 'will_churn' THEN 0
                           ELSE r.arr END)
                FROM renewals_renewal r {join} WHERE r.renewal_date BETWEEN %s AND %s AND {where} GROUP BY 1, 2""",
            [q_start, q_end, *args],
        )
        cur.fetchall()


def reference_my_week(region_id: int | None, today: dt.date, cuts: dict[str, Any]) -> None:
    """My week's figures in plain SQL: the reviews due within a week (with region and subject names), the first
    accounts to staff and their count, and the burn-down headline: every exception counted now (one grouped query
    per table) and a week ago (from the daily counts)."""
    from django.db import connection

    where = "a.region_id = %s" if region_id is not None else "TRUE"
    args: list[Any] = [region_id] if region_id is not None else []
    owhere = "o.region_id = %s" if region_id is not None else "TRUE"
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT o.id, o.kind, o.due_on, o.due_at, o.status, r.name, s.full_name
                FROM reviews_reviewoccurrence o JOIN people_region r ON r.id = o.region_id
                LEFT JOIN people_user s ON s.id = o.subject_id
                WHERE o.status <> 'completed' AND o.due_on <= %s AND {owhere}
                ORDER BY o.due_on, o.kind, o.id LIMIT 100""",
            [today + dt.timedelta(days=7), *args],
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT a.id, a.name, a.arr, r.name FROM assignment_qualification q
                JOIN accounts_account a ON a.id = q.account_id JOIN people_region r ON r.id = a.region_id
                WHERE q.qualifies AND a.tam_id IS NULL AND {where} ORDER BY q.qualified_at DESC, a.name LIMIT 10""",
            args,
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT count(*) FROM assignment_qualification q JOIN accounts_account a ON a.id = q.account_id
                WHERE q.qualifies AND a.tam_id IS NULL AND {where}""",
            args,
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT count(*) FILTER (WHERE a.priority = 1 AND (h.engaged_on IS NULL OR h.engaged_on < %s)),
                       count(*) FILTER (WHERE a.priority = 2 AND (h.engaged_on IS NULL OR h.engaged_on < %s)),
                       count(*) FILTER (WHERE a.tam_id IS NOT NULL AND (h.sentiment_on IS NULL OR h.sentiment_on < %s)),
                       count(*) FILTER (WHERE a.priority = 1 AND NOT EXISTS (SELECT 1 FROM success_successplan p
                           WHERE p.account_id = a.id AND p.status IN ('draft', 'active') AND p.color = 'green')),
                       count(*) FILTER (WHERE a.priority = 1 AND NOT EXISTS (SELECT 1 FROM success_ebr e
                           WHERE e.account_id = a.id AND e.status = 'completed' AND e.held_on >= %s))
                FROM accounts_account a LEFT JOIN health_healthscore h ON h.account_id = a.id
                WHERE a.lifecycle_stage <> 'will_churn' AND {where}""",
            [cuts["p1_call"], cuts["p2_call"], cuts["sentiment"], cuts["ebr_since"], *args],
        )
        cur.fetchall()
        cur.execute(
            f"""SELECT count(*) FILTER (WHERE o.first_engagement IS NULL AND o.onboarding_start < %s),
                       count(*) FILTER (WHERE o.first_value IS NULL AND o.contract_start < %s),
                       count(*) FILTER (WHERE o.onboarding_finish IS NULL AND o.onboarding_start < %s)
                FROM onboarding_onboarding o JOIN accounts_account a ON a.id = o.account_id
                WHERE o.status IN ('not_started', 'scheduled', 'in_progress', 'on_hold')
                AND a.lifecycle_stage <> 'will_churn' AND {where}""",
            [cuts["engage"], cuts["first_value"], cuts["onboard"], *args],
        )
        cur.fetchall()
        tjoin = "JOIN accounts_account a ON a.id = t.account_id" if region_id is not None else ""
        cur.execute(
            f"""SELECT count(*) FROM triage_triagecase t {tjoin}
                WHERE t.status <> 'closed' AND t.last_update_at < %s AND {where}""",
            [cuts["at_risk"], *args],
        )
        cur.fetchall()
        bwhere = "b.region_id = %s" if region_id is not None else "TRUE"
        cur.execute(
            f"""SELECT b.exception, b.day, sum(b.count) FROM reviews_burndowncount b
                WHERE b.day BETWEEN %s AND %s AND {bwhere} GROUP BY 1, 2""",
            [today - dt.timedelta(days=14), today - dt.timedelta(days=7), *args],
        )
        cur.fetchall()


def against(page: Any, reference: Any, label: str, runs: int) -> float:
    """The page against the hand-written figures, interleaved so both see the same machine; prints and returns
    the p95 ratio."""
    ours, ref = [], []
    for _ in range(runs):
        ours.append(common.timed(page))
        ref.append(common.timed(reference))
    ratio = common.p95(ours) / common.p95(ref)
    print(
        f"  {label + ' vs hand-written SQL':<44}       p95 {common.ms(common.p95(ours))} vs "
        f"{common.ms(common.p95(ref))}   {ratio:5.2f}x"
    )
    return ratio


def seed_renewals(seed: int) -> int:
    """A Renewal row (random forecast, a few closed) for each account renewing within a year and a quarter, so
    the dashboard's renewals by quarter aggregates real rows. Returns how many."""
    import random

    from django.db import connection
    from django.utils import timezone

    from tamarind.accounts.models import Account
    from tamarind.core.bulk import insert_instances
    from tamarind.renewals.models import Forecast, Renewal, RenewalStatus

    rng = random.Random(seed)
    today, now = timezone.localdate(), timezone.now()
    rows = []
    for pk, renews, arr, tam_id in Account.objects.filter(
        next_renewal_date__gte=today - dt.timedelta(days=92), next_renewal_date__lte=today + dt.timedelta(days=458)
    ).values_list("pk", "next_renewal_date", "arr", "tam_id"):
        closed = renews < today and rng.random() < 0.7
        rows.append(
            Renewal(
                account_id=pk,
                renewal_date=renews,
                arr=arr,
                tam_id=tam_id,
                forecast=rng.choice(Forecast.values),
                status=RenewalStatus.CLOSED if closed else RenewalStatus.OPEN,
                new_arr=arr * rng.choice((Decimal(0), Decimal(1), Decimal(1), Decimal("1.1"))) if closed else None,
                created_at=now,
                updated_at=now,
            )
        )
    written = insert_instances(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE renewals_renewal")
    return written


def burndown_cuts(today: dt.date) -> dict[str, Any]:
    """The burn-down's thresholds as dates (configuration the hand-written SQL takes as given)."""
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from tamarind.onboarding.selectors import onboarding_targets
    from tamarind.reviews.selectors import review_settings

    settings, targets = review_settings(), onboarding_targets().as_days()
    return {
        "p1_call": today - dt.timedelta(days=settings.p1_call_days),
        "p2_call": today - dt.timedelta(days=settings.p2_call_days),
        "sentiment": today - dt.timedelta(days=settings.sentiment_days),
        "ebr_since": today - relativedelta(months=12),
        "engage": today - dt.timedelta(days=targets.engage),
        "first_value": today - dt.timedelta(days=targets.first_value),
        "onboard": today - dt.timedelta(days=targets.onboard),
        "at_risk": timezone.now() - dt.timedelta(days=settings.at_risk_update_days),
    }


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
    renewals = seed_renewals(args.seed)
    services.occurrences_schedule()
    burndown.burndown_snapshot()
    print(
        f"(seeded in {book.seconds:.1f} s; {renewals:,} renewals, reviews planned and burn-down counted in "
        f"{time.perf_counter() - started:.1f} s)"
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
    from tamarind.reviews.cockpit import _quarter_bounds

    quarters = [(a, b) for _, _, a, b in _quarter_bounds(today)]
    cuts = burndown_cuts(today)
    ratios = {}
    for who, user, region_id in (("manager", manager, manager.managed_region.pk), ("director", director, None)):
        print(f"\n{who} ({user.full_name}; {'one region' if region_id else 'every region'}):")
        dash = page(views.regional_dashboard, "/reviews/dashboard/", user)
        ours, raw, queries = common.compare(dash, args.runs)
        common.report("regional dashboard vs its own SQL replayed", ours, raw, queries)
        # The page against the hand-written figures, interleaved so both see the same machine.
        reference = functools.partial(reference_dashboard, region_id, today, quarters)
        ratios[f"regional dashboard ({who})"] = against(dash, reference, "regional dashboard", args.runs)
        week = page(views.my_week, "/reviews/my-week/", user)
        ours, raw, queries = common.compare(week, args.runs)
        common.report("My week vs its own SQL replayed", ours, raw, queries)
        reference = functools.partial(reference_my_week, region_id, today, cuts)
        ratios[f"My week ({who})"] = against(week, reference, "My week", args.runs)

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
