"""Engagement benchmark: the comparison of two iterations and the what-if planner over the whole book, each against
the minimal hand-written SQL for the same figures, run side by side (interleaved) and printed together.

    .venv/bin/python bench/engagement_bench.py [--accounts 20000] [--runs 10] [--sqlite]

The issue's size is 100,000 accounts (``--accounts 100000``); the default is 20,000 so a run takes a few minutes on
a shared machine. ``make bench BENCH=engagement`` runs it.

Creates ``tamarind_bench_engagement`` on PostgreSQL (dropped and recreated; never ``tamarind``; without PostgreSQL a
SQLite file under ``var/bench/``, where the hand-written SQL is not run) and seeds it with ``bench/book.py`` (the
demo's book by COPY: accounts, tiers, people, onboardings, TAM reviews, calls, health scores and their history).
Then every account is placed by the live engagement models (dated 400 days back) and two iterations are recorded
through the services: 180 to 91 days ago and 90 days ago to today. Times, ``--runs`` times each after a warm-up:

- the comparison page's data (``engagement.comparison.compare`` for the two iterations: per iteration and model,
  onboarding milestones, health at the end, stale reviews, calls, accounts and ARR per TAM, each with its 95%
  interval, and the differences against the first iteration) against three hand-written queries giving the same
  figures and counts by iteration and model (ROLLUP for "every model"): member figures with the health color at
  the end, the last review and the calls as correlated subqueries; the onboarding milestones; the per-TAM means.
  The SQL does not compute the intervals (the bootstrap is the page's own statistics, in Python), so the ratio
  includes them;
- the what-if planner (``engagement.selectors.whatif`` with a draft that lowers high touch to 300,000 ARR) for an
  admin (the whole book) against one query: the draft's criteria as a CASE in precedence order (pinned accounts
  stay), grouped by GROUPING SETS into moves between models, TAM-managed ARR per region and per TAM, plus the TAMs
  per region;
- and both whole pages through the test client (middleware, session, template), for reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import time
from typing import Any

import common
from common import ms, p95

PG_DB = os.environ.get("BENCH_ENGAGEMENT_PG_DB", "tamarind_bench_engagement")
TARGET = 1.5
DRAFT_ARR = "300000"

MEMBERS_SQL = """
WITH m AS (
  SELECT ia.iteration_id, ia.model_key, ia.account_id, ia.tam_id, ia.arr, i.ends_on,
    (SELECT h.color FROM health_healthhistory h WHERE h.account_id = ia.account_id AND h.day <= i.ends_on
      ORDER BY h.day DESC LIMIT 1) AS color,
    (SELECT MAX(s.set_at) FROM health_sentiment s WHERE s.account_id = ia.account_id
      AND s.set_at::date <= i.ends_on) AS reviewed,
    (SELECT COUNT(*) FROM timeline_timelineentry e WHERE e.account_id = ia.account_id AND e.kind = ANY(%s)
      AND e.occurred_at::date BETWEEN i.starts_on AND i.ends_on) AS calls
  FROM engagement_iterationaccount ia JOIN engagement_iteration i ON i.id = ia.iteration_id
  WHERE ia.iteration_id = ANY(%s)
)
SELECT iteration_id, model_key, COUNT(*), SUM(arr),
  COUNT(color), COUNT(*) FILTER (WHERE color = 'green'), COUNT(*) FILTER (WHERE color = 'yellow'),
  COUNT(*) FILTER (WHERE color = 'red'),
  COUNT(*) FILTER (WHERE reviewed IS NULL OR ends_on - reviewed::date > %s),
  AVG(calls), STDDEV_SAMP(calls)
FROM m GROUP BY iteration_id, ROLLUP (model_key)
"""

ONBOARDING_SQL = """
SELECT ia.iteration_id, ia.model_key,
  COUNT(*) FILTER (WHERE o.onboarding_start BETWEEN i.starts_on AND i.ends_on),
  AVG(o.first_engagement - o.onboarding_start) FILTER (WHERE o.onboarding_start BETWEEN i.starts_on AND i.ends_on
    AND o.first_engagement >= o.onboarding_start),
  COUNT(*) FILTER (WHERE o.onboarding_start BETWEEN i.starts_on AND i.ends_on
    AND o.first_engagement - o.onboarding_start BETWEEN 0 AND %s),
  COUNT(*) FILTER (WHERE o.contract_start BETWEEN i.starts_on AND i.ends_on),
  AVG(o.first_value - o.contract_start) FILTER (WHERE o.contract_start BETWEEN i.starts_on AND i.ends_on
    AND o.first_value >= o.contract_start),
  COUNT(*) FILTER (WHERE o.contract_start BETWEEN i.starts_on AND i.ends_on
    AND o.first_value - o.contract_start BETWEEN 0 AND %s),
  AVG(o.onboarding_finish - o.onboarding_start) FILTER (WHERE o.onboarding_start BETWEEN i.starts_on AND i.ends_on
    AND o.onboarding_finish >= o.onboarding_start),
  COUNT(*) FILTER (WHERE o.onboarding_start BETWEEN i.starts_on AND i.ends_on
    AND o.onboarding_finish - o.onboarding_start BETWEEN 0 AND %s)
FROM engagement_iterationaccount ia
JOIN engagement_iteration i ON i.id = ia.iteration_id
JOIN onboarding_onboarding o ON o.account_id = ia.account_id
WHERE ia.iteration_id = ANY(%s)
GROUP BY ia.iteration_id, ROLLUP (ia.model_key)
"""

PER_TAM_SQL = """
SELECT iteration_id, model_key, COUNT(*), AVG(n), STDDEV_SAMP(n), AVG(arr), STDDEV_SAMP(arr)
FROM (
  SELECT iteration_id, model_key, tam_id, COUNT(*) AS n, SUM(arr) AS arr
  FROM engagement_iterationaccount WHERE iteration_id = ANY(%s) AND tam_id IS NOT NULL
  GROUP BY GROUPING SETS ((iteration_id, model_key, tam_id), (iteration_id, tam_id))
) t
GROUP BY iteration_id, model_key
"""

WHATIF_SQL = """
WITH latest AS (
  SELECT DISTINCT ON (account_id) account_id, source FROM engagement_placement
  ORDER BY account_id, placed_at DESC, id DESC
), placed AS (
  SELECT a.arr, a.region_id, a.tam_id, a.engagement_model AS now_model,
    CASE WHEN l.source = 'manual' THEN a.engagement_model
      {cases}
      ELSE '' END AS draft
  FROM accounts_account a
  LEFT JOIN accounts_producttier t ON t.id = a.product_tier_id
  LEFT JOIN latest l ON l.account_id = a.id
)
SELECT now_model, draft, region_id, tam_id, COUNT(*), SUM(arr),
  SUM(arr) FILTER (WHERE draft <> '' AND draft <> ALL(%s))
FROM placed
GROUP BY GROUPING SETS ((now_model, draft), (region_id), (tam_id))
"""

TAMS_SQL = """
SELECT region_id, COUNT(*) FROM people_user WHERE role = 'tam' AND is_active GROUP BY region_id
"""

# The SQL of each criteria condition the built-in models use (field, op) -> expression taking the value.
_FIELD = {"arr": "a.arr", "segment": "a.segment", "tier": "t.rung", "priority": "a.priority", "region": "a.region_id"}
_OP = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}


def _condition(c: dict[str, Any]) -> str:
    column = _FIELD[c["field"]]
    if c["op"] == "in":
        return f"{column} IN ({', '.join(repr(str(v)) for v in c['value'])})"
    value = c["value"]
    return f"{column} {_OP[c['op']]} {value if c['field'] != 'segment' else repr(value)}"


def whatif_cases(models: list[Any], draft: dict[str, Any]) -> str:
    """``WHEN <criteria> THEN '<key>'`` per active model in precedence order, the draft's criteria in its place:
    written out once, as a database engineer would for the planner's question."""
    rows = sorted((m for m in models if m.is_active), key=lambda m: (m.precedence is None, m.precedence, m.name))
    out = []
    for m in rows:
        criteria = draft.get(m.key, m.criteria)
        assert criteria.get("match", "all") == "all"
        conds = [_condition(c) for c in criteria.get("conditions", [])] or ["TRUE"]
        out.append(f"WHEN {' AND '.join(conds)} THEN '{m.key}'")
    return "\n      ".join(out)


def interleave(ours: Any, ref: Any, runs: int) -> tuple[list[float], list[float]]:
    for _ in range(2):
        ours()
        ref()
    a, b = [], []
    for _ in range(runs):
        a.append(common.timed(ours))
        b.append(common.timed(ref))
    return a, b


def line(label: str, ours: list[float], ref: list[float]) -> float:
    ratio = p95(ours) / p95(ref) if p95(ref) else float("inf")
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(
        f"  {label:<34} p50 {ms(statistics.median(ours))} vs {ms(statistics.median(ref))}   "
        f"p95 {ms(p95(ours))} vs {ms(p95(ref))}   {ratio:6.2f}x  {verdict}"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000, help="The issue's size is 100,000.")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    where = common.prepare_environment(PG_DB, sqlite_name="engagement.sqlite3", force_sqlite=args.sqlite)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from book import seed_book

    from tamarind.engagement import comparison, selectors, services
    from tamarind.engagement.models import EngagementModel, IterationAccount
    from tamarind.people.models import Role, User
    from tamarind.timeline.models import ENGAGEMENT_KINDS

    started = time.monotonic()
    seed_book(args.accounts, seed=args.seed, say=lambda _s: None)
    random.seed(args.seed)
    today = timezone.localdate()
    admin = User.objects.with_region().filter(role=Role.ADMIN).order_by("pk").first()
    if admin is None:
        admin = User.objects.create(email="bench-admin@bench.test", full_name="Bench Admin", role=Role.ADMIN)
    services.placements_apply_rules(actor=None, on=today - dt.timedelta(days=400))
    its = [
        services.iteration_create(
            actor=admin,
            data={"name": name, "starts_on": today - dt.timedelta(days=a), "ends_on": today - dt.timedelta(days=b)},
            source="bench",
        )
        for name, a, b in (("Iteration 1", 180, 91), ("Iteration 2", 90, 0))
    ]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    members = IterationAccount.objects.count()
    print(
        f"Engagement over {args.accounts:,} accounts ({members:,} iteration members) on {where} "
        f"(seeded in {time.monotonic() - started:.0f} s; {args.runs} interleaved runs; target p95 <= {TARGET}x)"
    )
    if connection.vendor != "postgresql":
        print("The hand-written SQL is PostgreSQL's (ROLLUP, FILTER, DISTINCT ON): nothing to compare on SQLite.")
        return

    ids = [i.pk for i in its]
    targets = comparison._targets()
    stale_days = comparison._staleness_days()
    kinds = list(ENGAGEMENT_KINDS)

    def raw(sql: str, params: list[Any]) -> Any:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        return run

    members_q = raw(MEMBERS_SQL, [kinds, ids, stale_days])
    onboarding_q = raw(ONBOARDING_SQL, [targets["engage"], targets["first_value"], targets["onboard"], ids])
    per_tam_q = raw(PER_TAM_SQL, [ids])

    def comparison_sql() -> None:
        members_q()
        onboarding_q()
        per_tam_q()

    # The hand-written SQL gives the page's figures (checked once before timing).
    result0 = comparison.compare(its)
    with connection.cursor() as cursor:
        cursor.execute(MEMBERS_SQL, [kinds, ids, stale_days])
        by_group = {(i, k or ""): row for i, k, *row in cursor.fetchall()}
    for g in result0.groups:
        row = by_group[(g.iteration.pk, g.model_key)]
        calls = g.values["calls"]
        assert (row[0], row[1], row[2], row[3], row[6]) == (
            g.accounts,
            g.arr,
            len(g.values["green"]),
            int(sum(g.values["green"])),
            int(sum(g.values["stale"])),
        ), g.label
        assert abs(float(row[7]) - sum(calls) / len(calls)) < 1e-9, g.label

    def comparison_page() -> None:
        result = comparison.compare(its)
        assert result.groups and result.groups[0].accounts > 0

    ratios = []
    print("Comparison of two iterations (page data with 95% intervals / hand-written SQL, figures only; they agree)")
    ratios.append(line("compare(), two iterations", *interleave(comparison_page, comparison_sql, args.runs)))

    models = list(EngagementModel.objects.all())
    high = next(m for m in models if m.key == "high_touch")
    draft_criteria = json.loads(json.dumps(high.criteria))
    for c in draft_criteria["conditions"]:
        if c["field"] == "arr":
            c["value"] = DRAFT_ARR
    draft = {"high_touch": draft_criteria}
    unmanaged = [m.key for m in models if not m.tam_managed]
    whatif_q = raw(WHATIF_SQL.format(cases=whatif_cases(models, draft)), [unmanaged])
    tams_q = raw(TAMS_SQL, [])

    def whatif_sql() -> None:
        whatif_q()
        tams_q()

    def whatif_page() -> None:
        result = selectors.whatif(admin, draft)
        assert result.accounts == args.accounts

    result = selectors.whatif(admin, draft)
    with connection.cursor() as cursor:
        cursor.execute(WHATIF_SQL.format(cases=whatif_cases(models, draft)), [unmanaged])
        rows = cursor.fetchall()
    sql_moves = {(a, b): [n, arr] for a, b, _r, _t, n, arr, _m in rows if a is not None and b is not None}
    assert sql_moves == result.moves, "the hand-written what-if disagrees with the page"
    moved = result.moved()
    print(
        f"What-if: high touch from 500,000 to {int(DRAFT_ARR):,} ARR, the whole book (admin): "
        f"{moved[0]:,} accounts, {moved[1]:,.0f} ARR would move"
    )
    ratios.append(line("whatif(), whole book", *interleave(whatif_page, whatif_sql, args.runs)))

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(admin)
    query = "&".join(f"it={i}" for i in ids)
    whatif_url = "/engagement/whatif/?draft_high_touch=" + json.dumps(draft_criteria)
    print("Whole pages through the test client (middleware, session, template), for reference")
    with override_settings(STORAGES=storages):
        for label, url, ref in (
            ("compare page", f"/engagement/compare/?{query}", comparison_sql),
            ("what-if page", whatif_url, whatif_sql),
        ):

            def get(url: str = url) -> None:
                assert client.get(url, secure=True).status_code == 200

            a, b = interleave(get, ref, args.runs)
            print(f"  {label:<34} p50 {ms(statistics.median(a))}   p95 {ms(p95(a))}   ({p95(a) / p95(b):.2f}x the SQL)")
    print(f"Worst ratio {max(ratios):.2f}x (target {TARGET}x).")


if __name__ == "__main__":
    main()
