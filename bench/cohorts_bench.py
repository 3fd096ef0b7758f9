"""Cohorts benchmark: the cohort report (members against similar non-members: time to first value, use cases,
health, support tickets, each with its 95% interval and the difference's) over a book of accounts, against the
minimal hand-written SQL that finds the same two groups and reads the same per-account figures, in one run.

    .venv/bin/python bench/cohorts_bench.py [--accounts 20000] [--members 300] [--runs 10] [--sqlite]

Creates a dedicated database (``tamarind_bench_cohorts`` on PostgreSQL, dropped and recreated; without
PostgreSQL a SQLite file under ``var/bench/``), accounts in three segments and several ARR bands, onboardings,
health scores and support tickets by bulk insert, and one running cohort of ``--members`` accounts. Prints the
report's p50/p95 against the reference's, the ratio of the p95s, and checks both found the same groups and the
same ticket and first-value sums. The report's own Python work (the bootstrap intervals) is part of its time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
from decimal import Decimal

import common
from common import ms, p95

PG_DB = os.environ.get("BENCH_COHORTS_PG_DB", "tamarind_bench_cohorts")
BAND_SQL = (
    "CASE WHEN a.arr >= 1000000 THEN 6 WHEN a.arr >= 250000 THEN 5 WHEN a.arr >= 100000 THEN 4 "
    "WHEN a.arr >= 50000 THEN 3 WHEN a.arr >= 20000 THEN 2 WHEN a.arr >= 5000 THEN 1 ELSE 0 END"
)
GROUPS_SQL = f"""
WITH m AS (
    SELECT a.id, a.segment, {BAND_SQL} AS band, a.customer_since
    FROM accounts_account a JOIN cohorts_cohortmember cm ON cm.account_id = a.id
    WHERE cm.cohort_id = %(cohort)s AND cm.joined_on <= %(end)s
), w AS (SELECT min(customer_since) AS lo, max(customer_since) AS hi FROM m),
o AS (
    SELECT a.id FROM accounts_account a, w
    WHERE a.customer_since BETWEEN w.lo AND w.hi
      AND NOT EXISTS (SELECT 1 FROM cohorts_cohortmember x WHERE x.account_id = a.id)
      AND EXISTS (SELECT 1 FROM m WHERE m.segment = a.segment AND m.band = {BAND_SQL})
), g AS (SELECT id, 'm' AS grp FROM m UNION ALL SELECT id, 'o' AS grp FROM o)
SELECT g.grp, g.id,
    (SELECT count(*) FROM usage_supportticket t
      WHERE t.account_id = g.id AND t.opened_at >= %(lo)s AND t.opened_at < %(hi)s) AS tickets,
    h.color, h.score,
    (SELECT ob.first_value - ob.contract_start FROM onboarding_onboarding ob
      WHERE ob.account_id = g.id AND ob.first_value IS NOT NULL AND ob.contract_start IS NOT NULL
        AND ob.first_value <= %(end)s ORDER BY ob.contract_start DESC, ob.id DESC LIMIT 1) AS fv
FROM g LEFT JOIN health_healthscore h ON h.account_id = g.id
"""


def seed(n: int, members: int, seed_: int) -> int:
    from django.utils import timezone

    from tamarind.accounts.models import Account
    from tamarind.cohorts.models import Cohort, CohortMember
    from tamarind.health.models import HealthScore
    from tamarind.onboarding.models import Onboarding
    from tamarind.people.models import Region
    from tamarind.usage.models import SupportTicket

    rng = random.Random(seed_)
    region = Region.objects.create(name="Bench region")
    today = timezone.localdate()
    accounts = [
        Account(
            crm_id=f"B-{i:07d}",
            name=f"Bench {i}",
            region=region,
            segment=rng.choice(["smb", "mid_market", "enterprise"]),
            arr=Decimal(rng.choice([3000, 8000, 15000, 30000, 70000, 150000])),
            customer_since=today - dt.timedelta(days=rng.randint(30, 400)),
        )
        for i in range(n)
    ]
    Account.objects.bulk_create(accounts, batch_size=5000)
    ids = list(Account.objects.order_by("pk").values_list("pk", "customer_since"))
    Onboarding.objects.bulk_create(
        [
            Onboarding(account_id=pk, contract_start=since, first_value=since + dt.timedelta(days=rng.randint(5, 90)))
            for pk, since in ids
            if rng.random() < 0.7
        ],
        batch_size=5000,
    )
    HealthScore.objects.bulk_create(
        [
            HealthScore(
                account_id=pk, score=rng.randint(20, 100), color=rng.choice(["green", "yellow", "red"]), model_version=1
            )
            for pk, _ in ids
            if rng.random() < 0.9
        ],
        batch_size=5000,
    )
    now = timezone.now()
    SupportTicket.objects.bulk_create(
        [
            SupportTicket(
                account_id=pk, external_id=f"BT-{pk}-{k}", opened_at=now - dt.timedelta(days=rng.randint(0, 200))
            )
            for pk, _ in ids
            for k in range(rng.randint(0, 3))
        ],
        batch_size=5000,
    )
    cohort = Cohort.objects.create(name="Bench pilot", starts_on=today - dt.timedelta(days=90), status="running")
    chosen = rng.sample([pk for pk, _ in ids], members)
    CohortMember.objects.bulk_create(
        [CohortMember(cohort=cohort, account_id=pk, joined_on=cohort.starts_on) for pk in chosen]
    )
    return cohort.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even when PostgreSQL is reachable.")
    args = parser.parse_args()
    where = common.prepare_environment(PG_DB, sqlite_name="cohorts.sqlite3", force_sqlite=args.sqlite)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from tamarind.cohorts.models import Cohort
    from tamarind.cohorts.report import cohort_report, period

    started = time.perf_counter()
    cohort_id = seed(args.accounts, args.members, args.seed)
    cohort = Cohort.objects.get(pk=cohort_id)
    print(
        f"Cohort report over {args.accounts:,} accounts, {args.members} members, on {where} (seeded in {time.perf_counter() - started:.1f} s)"
    )
    start, end = period(cohort)
    tz = timezone.get_current_timezone()
    params = {
        "cohort": cohort_id,
        "end": end,
        "lo": dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        "hi": dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    }

    def reference() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(GROUPS_SQL, params)
            return cursor.fetchall()

    report = cohort_report(cohort)
    rows = reference()
    ref_members = sorted(r[1] for r in rows if r[0] == "m")
    ref_others = sorted(r[1] for r in rows if r[0] == "o")
    same_groups = ref_members == sorted(report.member_ids) and ref_others == sorted(report.other_ids)
    ref_tickets = sum(r[2] for r in rows if r[0] == "m")
    same_tickets = ref_tickets == sum(report.values["members"]["tickets"])

    def fv_days(v: object) -> float:
        return float(v.days if isinstance(v, dt.timedelta) else v)  # PostgreSQL: an integer; SQLite: a number

    ref_fv = sorted(fv_days(r[5]) for r in rows if r[0] == "m" and r[5] is not None)
    same_fv = connection.vendor != "postgresql" or ref_fv == sorted(report.values["members"]["first_value_days"])
    print(
        f"  groups: {len(report.member_ids)} members, {len(report.other_ids)} similar non-members; same groups as the SQL: {same_groups}; same ticket sum: {same_tickets}; same first-value days: {same_fv}"
    )
    ours, raw = [], []
    for _ in range(2):
        cohort_report(cohort)
        reference()
    for _ in range(args.runs):
        t = time.perf_counter()
        cohort_report(cohort)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        reference()
        raw.append(time.perf_counter() - t)
    ratio = p95(ours) / p95(raw) if p95(raw) else float("inf")
    print(
        f"  report p50 {ms(statistics.median(ours))} vs SQL {ms(statistics.median(raw))}   "
        f"p95 {ms(p95(ours))} vs {ms(p95(raw))}   ratio {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
