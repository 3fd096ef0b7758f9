"""Customer Health Dashboard benchmark: the page against the raw SQL it runs, in one run.

    .venv/bin/python bench/health_dashboard_bench.py [--accounts 100000] [--runs 30]

Creates a dedicated database (``tamarind_bench_health_dashboard`` on PostgreSQL, dropped and recreated; without a
reachable PostgreSQL, a SQLite file under ``var/bench/``), six regions with a manager and ten TAMs each through the
services, then by COPY: N accounts (segments, priorities, renewals), each with a current health score whose stored
breakdown rates every measure (a few unscored accounts) and whose stale flag says whether its newest TAM sentiment
is older than the model allows, one or two sentiments per account, and what the early-warning indicators read:
two months of active-user and license rollups for most accounts, a few support tickets (some urgent and open) with
their monthly rollups, and one to three calls or meetings per account.

Then, for an admin (every region: the heaviest page) and for one region's manager, it prints:

- the page: the dashboard view function (filters, every widget's query, the indicators' page, the template), N runs;
- the floor: the very SQL statements that page ran, captured from one render and replayed with
  ``cursor.execute`` + ``fetchall`` in the same process, N runs, interleaved with the page's runs;
- the ratio of the two p95s (target <= 1.5x), and each widget's selector against its own SQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import common
from common import bench_admin_and_manager, bench_page

PG_DB = os.environ.get("BENCH_HEALTH_DASHBOARD_PG_DB", "tamarind_bench_health_dashboard")
TARGET_RATIO = 1.5
REGIONS = common.DASHBOARD_REGIONS


def prepare_environment(force_sqlite: bool) -> str:
    """Point Django at a fresh bench database (before it is set up) and say which."""
    return common.prepare_environment(PG_DB, sqlite_name="health_dashboard.sqlite3", force_sqlite=force_sqlite)


# --- Data ---------------------------------------------------------------------------------------------------------

SCORES = {"green": 100, "yellow": 62, "red": 25}


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def populate(n: int, seed: int) -> None:
    """People through the services; accounts, health scores and sentiments by COPY."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from tamarind.accounts.models import Account, LifecycleStage, ProductTier
    from tamarind.core.bulk import bulk_insert
    from tamarind.health.models import HealthScore, Sentiment
    from tamarind.health.selectors import live_version
    from tamarind.health.spec import MEASURES
    from tamarind.imports.writer import ACCOUNT_COLUMNS

    rng = random.Random(seed)
    regions, tams = common.dashboard_people(REGIONS)
    tiers = [pk for pk, rung in ProductTier.objects.values_list("pk", "rung") if rung >= 2]
    defaults = {f.attname: f.get_default() for f in Account._meta.concrete_fields if not f.primary_key}
    defaults["currency"] = settings.TAMARIND_DEFAULT_CURRENCY
    score_columns = _columns(HealthScore)
    score_defaults = {f.column: f.get_default() for f in HealthScore._meta.concrete_fields}
    staleness_days = live_version().spec().staleness_days
    sentiment_columns = _columns(Sentiment)
    now = timezone.now()
    today = timezone.localdate()
    accounts: list[tuple[Any, ...]] = []
    scores: list[tuple[Any, ...]] = []
    sentiments: list[tuple[Any, ...]] = []
    sentiment_pk = 0
    for pk in range(1, n + 1):
        region = rng.choice(regions)
        arr = Decimal(round(rng.lognormvariate(11.9, 0.8), -2)) + Decimal(50_100)
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
            "customer_since": today - dt.timedelta(days=rng.randint(30, 5 * 365)),
            "next_renewal_date": today + dt.timedelta(days=rng.randint(-30, 400)),
            "lifecycle_stage": rng.choice([LifecycleStage.ADOPTION, LifecycleStage.OPTIMIZE_GROW])
            if rng.random() > 0.01
            else LifecycleStage.WILL_CHURN,
            "created_at": now,
            "updated_at": now,
        }
        accounts.append(tuple(account[c] for c in ACCOUNT_COLUMNS))
        if rng.random() < 0.03:
            continue  # not scored yet
        bands = {k: rng.choices(["green", "yellow", "red", None], [6, 2, 1, 1])[0] for k in MEASURES}
        bands["success_plan"] = None
        bands["sentiment"] = bands["sentiment"] or "green"
        rated = [SCORES[b] for b in bands.values() if b]
        overall = round(sum(rated) / len(rated))
        color = (
            "red" if bands["sentiment"] == "red" else "green" if overall >= 75 else "yellow" if overall >= 50 else "red"
        )
        breakdown = {
            "measures": [
                {
                    "key": k,
                    "value": "",
                    "score": SCORES.get(b) if b else None,
                    "band": b,
                    "weight": "0",
                    "effective_weight": "0",
                    "contribution": "0",
                    "updated_at": None,
                }
                for k, b in bands.items()
            ],
            "red_override": color == "red" and bands["sentiment"] == "red",
            "drag": min(((SCORES[b], k) for k, b in bands.items() if b), default=(0, ""))[1],
        }
        # Each account's reviews first: the stored stale flag says whether the newest is older than the model allows.
        reviews = [
            now - dt.timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 600))
            for _ in range(rng.choice([1, 1, 2]))
        ]
        score = {
            **score_defaults,
            "account_id": pk,
            "score": overall,
            "color": color,
            "red_override": breakdown["red_override"],
            "drag": breakdown["drag"],
            "stale": (today - timezone.localdate(max(reviews))).days > staleness_days,
            "requires_triage": False,
            "breakdown": json.dumps(breakdown),
            "model_version": 1,
            "computed_at": now,
            "color_changed_at": None,
        }
        scores.append(tuple(score[c] for c in score_columns))
        for set_at in reviews:
            sentiment_pk += 1
            row = {
                "id": sentiment_pk,
                "account_id": pk,
                "color": bands["sentiment"],
                "reason": "Quarterly review.",
                "requires_triage": False,
                "set_by_id": None,
                "set_at": set_at,
            }
            sentiments.append(tuple(row[c] for c in sentiment_columns))
    facts = indicator_facts(rng, n, today=today, now=now)
    with transaction.atomic():
        for start in range(0, len(accounts), 20_000):
            bulk_insert(Account._meta.db_table, ACCOUNT_COLUMNS, accounts[start : start + 20_000])
        for start in range(0, len(scores), 20_000):
            bulk_insert(HealthScore._meta.db_table, score_columns, scores[start : start + 20_000])
        for start in range(0, len(sentiments), 20_000):
            bulk_insert(Sentiment._meta.db_table, sentiment_columns, sentiments[start : start + 20_000])
        for table, (columns, rows) in facts.items():
            for start in range(0, len(rows), 20_000):
                bulk_insert(table, columns, rows[start : start + 20_000])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_account', 'id'), %s)", [n])
            cursor.execute("SELECT setval(pg_get_serial_sequence('health_sentiment', 'id'), %s)", [sentiment_pk])
    # As autovacuum leaves a settled database: statistics, and the visibility map index-only scans rely on.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _plain(model: Any, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The columns COPY writes for ``model`` (an auto id left to the database) and their defaults under ``values``."""
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
    ]
    return [f.column for f in fields], {**{f.column: f.get_default() for f in fields}, **values}


def indicator_facts(
    rng: random.Random, n: int, *, today: dt.date, now: dt.datetime
) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """What the early-warning indicators read, per table: (columns, rows) for COPY."""
    from tamarind.timeline.models import TimelineEntry
    from tamarind.usage import models as usage

    metrics = dict(usage.UsageMetric.objects.filter(key__in=["active_users", "licenses"]).values_list("key", "pk"))
    latest = today.replace(day=1)
    previous = (latest - dt.timedelta(days=1)).replace(day=1)
    out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}

    def add(model: Any, **values: Any) -> None:
        columns, row = _plain(model, values)
        out.setdefault(model._meta.db_table, (columns, []))[1].append(tuple(row[c] for c in columns))

    state = getattr(usage, "UsageState", None)  # where an account's usage stands, when the app keeps it
    ticket = 0
    for pk in range(1, n + 1):
        used = rng.random() < 0.9
        last_day = today
        if used:
            licenses = rng.choice([20, 50, 100, 250])
            active = {previous: int(licenses * rng.uniform(0.3, 1.0))}
            active[latest] = max(0, active[previous] + rng.randint(-10, 5))
            for month in (previous, latest):
                last_day = month + dt.timedelta(days=min(today.day, 28) - 1 if month == latest else 27)
                for key, value in (("licenses", licenses), ("active_users", active[month])):
                    add(
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
            add(
                usage.SupportTicket, account_id=pk, external_id=f"B{ticket:09d}", opened_at=at,
                closed_at=at + dt.timedelta(hours=5) if closed else None, priority="urgent" if urgent else "normal",
                status="closed" if closed else "open", updated_at=now,
            )  # fmt: skip
        for month in sorted({at.date().replace(day=1) for at in opened}):
            count = sum(1 for at in opened if at.date().replace(day=1) == month)
            add(usage.TicketMonthly, account_id=pk, month=month, opened=count, urgent_opened=0, updated_at=now)
        if state is not None and (used or opened):
            add(
                state, account_id=pk, latest_month=latest if used else None,
                previous_month=previous if used else None, last_day=last_day if used else None,
                tickets_updated_at=now if opened else None,
            )  # fmt: skip
        for _ in range(rng.choice([1, 1, 2, 3])):
            add(
                TimelineEntry, account_id=pk, kind=rng.choice(["call", "meeting"]), title="Cadence call",
                occurred_at=now - dt.timedelta(days=rng.randint(0, 120)), created_at=now,
            )  # fmt: skip
    return out


# --- Measuring ----------------------------------------------------------------------------------------------------


def bench_user(user: Any, runs: int) -> float:
    """The page for ``user`` and each widget, against their own SQL. Returns the page's p95 ratio."""
    from django.utils import timezone

    from tamarind.dashboards import health_selectors as s
    from tamarind.dashboards.views import health_dashboard

    def widgets() -> dict[str, Callable[[], Any]]:
        regions = s.health_regions(user)
        filters = s.HealthFilters.from_params({}, user=user, regions=regions)
        accounts = s.health_accounts(user, filters)
        now = timezone.now()
        today = timezone.localdate(now)
        limits = s.thresholds(s.live_version().spec())
        return {
            "widget_mix (all)": lambda: s.widget_mix(accounts),
            "widget_mix (by region)": lambda: s.widget_mix(accounts, by="region"),
            "widget_mix (by TAM)": lambda: s.widget_mix(accounts, by="tam"),
            "widget_mix (by segment)": lambda: s.widget_mix(accounts, by="segment"),
            "widget_mix (by priority)": lambda: s.widget_mix(accounts, by="priority"),
            "widget_color_list (red)": lambda: s.widget_color_list(accounts, "red"),
            "widget_color_list (yellow)": lambda: s.widget_color_list(accounts, "yellow"),
            "widget_stale_counts": lambda: s.widget_stale_counts(accounts),
            "widget_stale_list": lambda: s.widget_stale_list(accounts),
            "widget_measures": lambda: s.widget_measures(accounts),
            "indicators (one page)": lambda: s.account_signals(list(s.indicator_page(accounts, page=1).object_list)),
            "widget_indicator_totals": lambda: s.widget_indicator_totals(accounts, limits, today=today, now=now),
        }

    return bench_page(user, runs, path="/dashboards/health/", view=health_dashboard, widgets=widgets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="Accounts.")
    parser.add_argument("--runs", type=int, default=30, help="Timed renders of the page per user.")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even when PostgreSQL is reachable.")
    args = parser.parse_args()
    where = prepare_environment(args.sqlite)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tamarind.health.models import HealthScore, Sentiment

    n = args.accounts
    print(f"Customer Health Dashboard over {n:,} accounts on {where}")
    started = time.perf_counter()
    populate(n, args.seed)
    print(
        f"(set-up in {time.perf_counter() - started:.1f} s: {HealthScore.objects.count():,} scores, "
        f"{Sentiment.objects.count():,} sentiments; {args.runs} timed runs each, interleaved)"
    )
    print("Figures: ours vs the same SQL through cursor.execute + fetchall; ratio = p95 / p95.")

    bench_admin_and_manager(bench_user, runs=args.runs, what=f"{n:,} accounts", target=TARGET_RATIO)


if __name__ == "__main__":
    main()
