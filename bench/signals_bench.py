"""Signals benchmark (issue 15): rebuilding two years of daily signal history for a book of accounts, and the
back-test over it, each against the minimal hand-written SQL for the same figures, run side by side; the rebuild
also against DuckDB over the same rows (the reference floor).

    .venv/bin/python bench/signals_bench.py [--accounts 5000] [--every 7] [--runs 3] [--full] [--sqlite]

``--full`` is the issue's size: 100,000 accounts (about 10 million health-history points). The default, 5,000
accounts, keeps ``make bench`` to a few minutes on a shared machine; ``make bench BENCH=signals`` runs it alone.

Creates ``tamarind_bench_signals`` on PostgreSQL (``BENCH_SIGNALS_PG_DB``; dropped and recreated; without PostgreSQL
a SQLite file under ``var/bench/``, where only the app's side is timed) and seeds it by bulk SQL: N accounts (their
customer-since days over the last four years), a health-history point on each account's first day and then on about
one day in ``--every`` (the days a score changed: the recompute writes a point only then), for two years and a month
(``INSERT ... SELECT`` over ``generate_series``: each account's score drifts around its hidden risk, so colors turn
now and then rather than every day), one or two outcomes for about a third of the accounts (bad ones likelier for
risky accounts; some dated before the account existed), and spells of every indicator for about a quarter of the
accounts.

Timed, ``--runs`` times each, interleaved, the health intervals deleted (untimed, then VACUUM) before each run:

- the rebuild of the health-color intervals over the last 730 days (``services.signal_history_rebuild``: by chunks of
  accounts, each a transaction, resumable) against one ``INSERT ... SELECT`` a database engineer would write: the
  points up to the last day, ``lag`` of their signal key per account, the change points kept (gaps and islands), and
  each firing island from its first day (clipped to the first day rebuilt) to the next change (``lead``; none: still
  open). DuckDB runs the same ``SELECT`` over the same points (exported to CSV and loaded, untimed);
- the back-test for an admin over the whole book (``selectors.run_backtest``: judged accounts, every signal at every
  horizon with Wilson and bootstrap intervals, the health score's AUC and calibration) against the minimal SQL for the
  same figures: one ``GROUP BY`` over the judged accounts (first bad outcome, else the latest good one, outcomes before
  the account's first day left out) joined to the intervals that overlap each horizon, giving per signal and horizon
  the accounts fired for, how many of them bad and the median lead time; and one ``DISTINCT ON`` query for each judged
  account's score ``auc_months`` before its outcome. The app also computes the confidence intervals (SciPy), which SQL
  does not: its time is printed apart.

Before timing, both sides are checked to give the same figures: the same set of intervals (row for row) for the
rebuild (and the same count from DuckDB), the same judged/bad totals, fired and fired-bad counts and median lead per
signal and horizon, and the same scores before each outcome for the back-test.

Measured on the shared 2-core machine (other sessions' work running beside it), PostgreSQL 15, DuckDB 2.0; ratios are
the app's p95 over the SQL's p95, after the rebuild sends only color changes and the back-test's bootstrap resamples
int8 codes and the scores before are picked by the database (see the commits):

    accounts  points       intervals  rebuild: app vs SQL            DuckDB   back-test: app vs SQL     SciPy share
       5,000    411,461       44,968  1.62 s vs 0.59 s   2.74x       44 ms    0.79 s vs 0.05 s  16.1x   62%
      20,000  1,650,078      180,172  7.02 s vs 2.46 s   2.85x      169 ms    2.54 s vs 0.16 s  15.9x   74%
     100,000  8,272,544      900,969  44.6 s vs 12.9 s   3.46x      914 ms    13.1 s vs 1.07 s  12.3x   72%

(100,000: ``--full --runs 1``, about 5 minutes with the seeding; before the rebuild's color-change filter it was 53.1 s
vs 12.8 s, 4.16x, with a test suite running beside it.) Before the
back-test's changes, 20,000 accounts took 4.1 s against 0.30 s (13.5x; the statistics 2.2 s, the scores before 1.0
s). The back-test stays far above the SQL because most of its time is the statistics the SQL does not compute: 39
signal lines, each with a seeded 999-resample percentile bootstrap (SciPy) over every judged account for the lift and
over the bad ones for the median lead. Without them the app's data work is about 4x the SQL's (the lead of each judged
account found in Python, per signal and horizon). DuckDB's floor: the islands in under a tenth of PostgreSQL's time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import common
from common import ROOT, ms, p95

PG_DB = os.environ.get("BENCH_SIGNALS_PG_DB", "tamarind_bench_signals")
DAYS = 730

# The health-color intervals from the stored points (gaps and islands). ``%(start)s`` / ``%(end)s``: the first and
# last day rebuilt. A change point is a point whose key differs from the point before; an island of a firing key runs
# from its change point to the next change point.
ISLANDS_SELECT = """
SELECT account_id, key, GREATEST(day, {start}) AS started_on, next_day AS ended_on
FROM (
  SELECT account_id, day, key, lead(day) OVER (PARTITION BY account_id ORDER BY day) AS next_day
  FROM (
    SELECT account_id, day, key, lag(key) OVER (PARTITION BY account_id ORDER BY day) AS prev_key,
           row_number() OVER (PARTITION BY account_id ORDER BY day) AS n
    FROM (
      SELECT account_id, day,
             CASE color WHEN 'red' THEN 'health:red' WHEN 'yellow' THEN 'health:yellow' END AS key
      FROM {history} WHERE day <= {end}
    ) points
  ) marked
  WHERE n = 1 OR key IS DISTINCT FROM prev_key
) changes
WHERE key IS NOT NULL AND (next_day IS NULL OR next_day > {start})
"""
PG_ISLANDS = ISLANDS_SELECT.format(start="%(start)s::date", end="%(end)s::date", history="health_healthhistory")
REBUILD_SQL = "INSERT INTO signals_signalinterval (account_id, key, started_on, ended_on)" + PG_ISLANDS

# The back-test's figures per signal and horizon, over the judged accounts.
BACKTEST_SQL = """
WITH kept AS (
  SELECT o.account_id, o."on", o.kind IN ('churned', 'contracted') AS bad
  FROM signals_outcome o JOIN accounts_account a ON a.id = o.account_id
  WHERE a.customer_since IS NULL OR o."on" >= a.customer_since
), judged AS (
  SELECT account_id, bool_or(bad) AS bad,
         CASE WHEN bool_or(bad) THEN min("on") FILTER (WHERE bad) ELSE max("on") END AS "on"
  FROM kept GROUP BY account_id
), fired AS (
  SELECT i.key, h.days, j.account_id, j.bad, max(j."on" - GREATEST(i.started_on, j."on" - h.days)) AS lead
  FROM judged j
  CROSS JOIN unnest(%(horizons)s::int[]) AS h(days)
  JOIN signals_signalinterval i ON i.account_id = j.account_id AND i.started_on < j."on"
   AND (i.ended_on IS NULL OR i.ended_on > j."on" - h.days)
  WHERE i.key = ANY(%(keys)s)
  GROUP BY i.key, h.days, j.account_id, j.bad
)
SELECT key, days, count(*), count(*) FILTER (WHERE bad),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY lead) FILTER (WHERE bad),
       (SELECT count(*) FROM judged), (SELECT count(*) FILTER (WHERE bad) FROM judged)
FROM fired GROUP BY key, days
"""
# Each judged account's health score ``%(months)s`` months before its outcome (its newest point then).
SCORES_SQL = """
WITH kept AS (
  SELECT o.account_id, o."on", o.kind IN ('churned', 'contracted') AS bad
  FROM signals_outcome o JOIN accounts_account a ON a.id = o.account_id
  WHERE a.customer_since IS NULL OR o."on" >= a.customer_since
), judged AS (
  SELECT account_id, CASE WHEN bool_or(bad) THEN min("on") FILTER (WHERE bad) ELSE max("on") END AS "on"
  FROM kept GROUP BY account_id
)
SELECT j.account_id, (SELECT h.score FROM health_healthhistory h
                      WHERE h.account_id = j.account_id AND h.day <= (j."on" - make_interval(months => %(months)s))::date
                      ORDER BY h.day DESC LIMIT 1)
FROM judged j
"""


def seed(n: int, every: int, seed_: int, today: dt.date) -> dict[str, int]:
    """Accounts by COPY; health history, outcomes and indicator spells by ``INSERT ... SELECT``. Returns counts."""
    from django.db import connection
    from django.utils import timezone

    from tamarind.accounts.models import Account
    from tamarind.core.bulk import insert_instances
    from tamarind.health.models import HealthHistory
    from tamarind.people.models import Region, Role, User
    from tamarind.signals import history
    from tamarind.signals.models import HEALTH_KEYS, Outcome, SignalInterval

    rng = random.Random(seed_)
    now = timezone.now()
    region = Region.objects.create(name="Bench region")
    User.objects.create(email="bench-admin@bench.test", full_name="Bench Admin", role=Role.ADMIN)
    accounts = [
        Account(
            id=i,
            crm_id=f"S{i:07d}",
            name=f"Signals {i}",
            region_id=region.pk,
            segment=rng.choice(["smb", "mid_market", "enterprise"]),
            arr=rng.randint(5, 500) * 1000,
            customer_since=today - dt.timedelta(days=rng.randint(30, 4 * 365)),
            created_at=now,
            updated_at=now,
        )
        for i in range(1, n + 1)
    ]
    for start in range(0, n, 20_000):
        insert_instances(accounts[start : start + 20_000])
    first = today - dt.timedelta(days=DAYS + 30)
    last = today - dt.timedelta(days=1)
    # A hidden risk per account (from its id, so the same on every run); the score drifts on a slow wave around
    # 88 - 60 x risk with a little noise: a color holds for weeks, risky accounts turn red and back.
    risk = "((a.id * 2654435761) %% 1000) / 1000.0"
    phase = "((a.id * 40503) %% 628) / 100.0"
    history_sql = f"""
        INSERT INTO {HealthHistory._meta.db_table} (account_id, day, score, color)
        SELECT account_id, day, score,
               CASE WHEN score >= 75 THEN 'green' WHEN score >= 50 THEN 'yellow' ELSE 'red' END
        FROM (
          SELECT a.id AS account_id, d.day::date AS day,
                 GREATEST(0, LEAST(100, round(88 - 60 * {risk} + 18 * sin((d.day::date - %(first)s::date) / 45.0
                   + {phase}) + (random() - 0.5) * 12)))::int AS score,
                 d.day::date = GREATEST(a.customer_since, %(first)s::date) AS first_point
          FROM accounts_account a
          CROSS JOIN LATERAL generate_series(GREATEST(a.customer_since, %(first)s::date), %(last)s::date,
                                             interval '1 day') AS d(day)
        ) s
        WHERE first_point OR random() < %(share)s
    """
    outcome_sql = f"""
        INSERT INTO {Outcome._meta.db_table} (account_id, kind, "on", arr_before, arr_after, source)
        SELECT a.id,
               CASE WHEN random() < 0.1 + 0.5 * {risk}
                    THEN (CASE WHEN random() < 0.3 THEN 'churned' ELSE 'contracted' END)
                    ELSE (CASE WHEN random() < 0.6 THEN 'renewed_flat' ELSE 'expanded' END) END,
               %(first30)s::date + (random() * %(days)s)::int, a.arr, a.arr, 'renewal'
        FROM accounts_account a CROSS JOIN generate_series(1, 2) AS k(no)
        WHERE random() + 0 * a.id < CASE k.no WHEN 1 THEN 0.35 ELSE 0.05 END  -- (per row, not once per k)
        ON CONFLICT DO NOTHING
    """
    spells_sql = f"""
        INSERT INTO {SignalInterval._meta.db_table} (account_id, key, started_on, ended_on)
        SELECT account_id, key, started_on, CASE WHEN ended_on <= %(last)s::date THEN ended_on END
        FROM (
          SELECT a.id AS account_id, k.key, b.started_on, b.started_on + 10 + (random() * 140)::int AS ended_on
          FROM accounts_account a CROSS JOIN unnest(%(keys)s::text[]) AS k(key)
          CROSS JOIN LATERAL (SELECT %(first30)s::date + ((random() * %(days)s)::int + 0 * a.id)::int AS started_on) b
          WHERE random() < 0.1 + 0.3 * {risk}
        ) s
    """
    indicator_keys = [k for k in history.signal_keys() if k not in HEALTH_KEYS]
    params = {
        "first": first,
        "first30": first + dt.timedelta(days=30),
        "last": last,
        "days": DAYS - 1,
        "share": 1 / every,
        "keys": indicator_keys,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(seed_ % 1000) / 1000])
        cursor.execute(history_sql, params)
        cursor.execute(outcome_sql, params)
        cursor.execute(spells_sql, params)
        cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_account', 'id'), %s)", [n + 1])
        cursor.execute("VACUUM ANALYZE")
    return {
        "points": HealthHistory.objects.count(),
        "outcomes": Outcome.objects.count(),
        "spells": SignalInterval.objects.count(),
    }


def clear_health_intervals() -> None:
    from django.db import connection

    from tamarind.signals.models import HEALTH_KEYS, RebuildState, SignalInterval

    SignalInterval.objects.filter(key__in=HEALTH_KEYS).delete()
    RebuildState.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {SignalInterval._meta.db_table}")


def health_rows_table(name: str) -> int:
    """Keep the health intervals now in the table as temporary table ``name``; returns their count."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {name} AS SELECT account_id, key, started_on, ended_on "
            "FROM signals_signalinterval WHERE key IN ('health:red', 'health:yellow')"
        )
        return int(cursor.rowcount)


def differing(a: str, b: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM ((TABLE {a} EXCEPT ALL TABLE {b}) UNION ALL (TABLE {b} EXCEPT ALL TABLE {a})) d"
        )
        return int(cursor.fetchone()[0])


def duckdb_floor(start: dt.date, end: dt.date) -> tuple[float, int] | None:
    """DuckDB's time for the same islands over the same points (exported from PostgreSQL, loaded untimed), and the
    number of intervals it finds."""
    try:
        import duckdb
    except ImportError:
        print("  DuckDB not installed (pip install duckdb): no reference floor.")
        return None
    from django.db import connection

    path = ROOT / "var" / "bench" / "signals_history.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    query = "COPY health_healthhistory (account_id, day, color) TO STDOUT WITH CSV"
    with connection.cursor() as cursor, path.open("wb") as out, cursor.cursor.copy(query) as copy:
        for block in copy:
            out.write(block)
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE history AS SELECT * FROM read_csv('{path}', header=false, "
        "columns={'account_id': 'BIGINT', 'day': 'DATE', 'color': 'VARCHAR'})"
    )
    path.unlink()
    sql = ISLANDS_SELECT.format(start=f"DATE '{start.isoformat()}'", end=f"DATE '{end.isoformat()}'", history="history")
    samples = []
    count = 0
    for _ in range(3):
        con.execute("DROP TABLE IF EXISTS intervals")
        samples.append(common.timed(lambda: con.execute(f"CREATE TABLE intervals AS {sql}")))
        count = con.execute("SELECT count(*) FROM intervals").fetchone()[0]  # type: ignore[index]
    return min(samples), int(count)


def interleave(
    ours: Callable[[], Any], ref: Callable[[], Any], runs: int, before: Callable[[], None]
) -> tuple[list[float], list[float]]:
    a, b = [], []
    for _ in range(runs):
        before()
        a.append(common.timed(ours))
        before()
        b.append(common.timed(ref))
    return a, b


def line(label: str, ours: list[float], ref: list[float], what: str = "the SQL") -> float:
    ratio = p95(ours) / p95(ref) if p95(ref) else float("inf")
    print(
        f"  {label:<34} p50 {ms(statistics.median(ours))} vs {ms(statistics.median(ref))}   "
        f"p95 {ms(p95(ours))} vs {ms(p95(ref))}   {ratio:6.2f}x {what}"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--every", type=int, default=7, help="One health point in this many days (score changes).")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="The issue's size: 100,000 accounts.")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    if args.full:
        args.accounts = 100_000
    where = common.prepare_environment(PG_DB, sqlite_name="signals.sqlite3", force_sqlite=args.sqlite)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    if connection.vendor != "postgresql":
        print("The seeding and the hand-written SQL are PostgreSQL's: run with PostgreSQL.")
        return
    from tamarind.people.models import User
    from tamarind.signals import history, selectors, services
    from tamarind.signals.models import BacktestSettings

    today = timezone.localdate()
    start, end = today - dt.timedelta(days=DAYS), today - dt.timedelta(days=1)
    started = time.monotonic()
    counts = seed(args.accounts, args.every, args.seed, today)
    print(
        f"Signals over {args.accounts:,} accounts on {where}: {counts['points']:,} health points over two years, "
        f"{counts['outcomes']:,} outcomes, {counts['spells']:,} indicator spells "
        f"(seeded in {time.monotonic() - started:.0f} s; {args.runs} interleaved runs)"
    )

    # --- The rebuild -----------------------------------------------------------------------------------------------
    def app_rebuild() -> None:
        services.signal_history_rebuild(start=start, end=end)

    def sql_rebuild() -> None:
        with connection.cursor() as cursor:
            cursor.execute(REBUILD_SQL, {"start": start, "end": end})

    clear_health_intervals()
    app_rebuild()
    app_rows = health_rows_table("bench_app_intervals")
    clear_health_intervals()
    sql_rebuild()
    sql_rows = health_rows_table("bench_sql_intervals")
    assert app_rows == sql_rows, f"the rebuild wrote {app_rows:,} intervals, the SQL {sql_rows:,}"
    assert differing("bench_app_intervals", "bench_sql_intervals") == 0, "the rebuild and the SQL disagree"
    print(f"Rebuild of {DAYS} days of health colors ({app_rows:,} intervals, the same row for row from both sides)")
    a, b = interleave(app_rebuild, sql_rebuild, args.runs, clear_health_intervals)
    line("signal_history_rebuild", a, b, "the INSERT ... SELECT")
    floor = duckdb_floor(start, end)
    if floor is not None:
        seconds, found = floor
        assert found == app_rows, f"DuckDB found {found:,} intervals, PostgreSQL {app_rows:,}"
        print(
            f"  {'the same SELECT in DuckDB (floor)':<34} {ms(seconds)}   "
            f"{seconds / p95(b):6.2f}x the INSERT ... SELECT, {p95(a) / seconds:.1f}x: the app over DuckDB"
        )
    # Leave the app's intervals in place for the back-test (they equal the SQL's).
    clear_health_intervals()
    app_rebuild()

    # --- The back-test ---------------------------------------------------------------------------------------------
    admin = User.objects.get(email="bench-admin@bench.test")
    settings = BacktestSettings.load()
    keys = history.signal_keys()
    horizons = settings.horizon_days
    params = {"horizons": horizons, "keys": keys, "months": settings.auc_months}

    def app_backtest() -> selectors.Backtest:
        return selectors.run_backtest(user=admin, filters=selectors.BacktestFilters())

    def sql_backtest() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        with connection.cursor() as cursor:
            cursor.execute(BACKTEST_SQL, params)
            lines = cursor.fetchall()
            cursor.execute(SCORES_SQL, params)
            return lines, cursor.fetchall()

    ours = app_backtest()
    lines, scores = sql_backtest()
    by = {(k, d): (fired, fired_bad, lead) for k, d, fired, fired_bad, lead, _, _ in lines}
    if lines:
        assert (lines[0][5], lines[0][6]) == (ours.judged, ours.bad), "judged / bad accounts differ"
    checked = 0
    for signal in ours.signals:
        for ln in signal["lines"]:
            fired, fired_bad, lead = by.get((signal["key"], ln.horizon), (0, 0, None))
            assert (ln.fired, ln.fired_bad) == (fired, fired_bad), (signal["key"], ln.horizon, ln, fired, fired_bad)
            if ln.status == "ok" and ln.lead_days.value is not None:
                assert lead is not None and abs(ln.lead_days.value - lead) < 1e-9, (signal["key"], ln.horizon)
            checked += 1
    assert ours.score is not None
    judged, _ = selectors._judged(admin, selectors.BacktestFilters(), None, None)
    app_scores = sorted(-1 if s is None else s for s, _ in selectors._scores_before(judged, settings.auc_months))
    assert app_scores == sorted(-1 if s is None else s for _, s in scores), "scores before the outcomes differ"
    scored = sum(1 for _, s in scores if s is not None)
    assert (ours.score.scored, ours.score.unscored) == (scored, len(scores) - scored), "scores before outcomes differ"
    print(
        f"Back-test for an admin over the whole book: {ours.judged:,} judged accounts ({ours.bad:,} bad), "
        f"{len(keys)} signals x {len(horizons)} horizons ({checked} lines, the same counts and median leads from both; "
        f"{scored:,} scores before the outcome)"
    )
    a, b = interleave(app_backtest, sql_backtest, args.runs, lambda: None)
    line("run_backtest (with the intervals)", a, b, "the GROUP BY + scores SQL")
    # Where the app's time goes: the statistics (Wilson and bootstrap intervals, AUC) are SciPy's, in Python.
    from tamarind.signals import backtest as bt

    intervals = selectors._intervals([j.account_id for j in judged], keys)
    stats_time = common.timed(
        lambda: [
            bt.signal_line(k, judged, intervals[k], horizon=h, min_outcomes=settings.min_outcomes)
            for k in keys
            for h in horizons
        ]
    )
    scores_time = common.timed(lambda: selectors._scores_before(judged, settings.auc_months))
    print(
        f"  {'  of which the signal lines (SciPy)':<34} {ms(stats_time)}   ({stats_time / p95(a) * 100:.0f}% of one run)"
    )
    print(f"  {'  of which the scores before':<34} {ms(scores_time)}   ({scores_time / p95(a) * 100:.0f}% of one run)")


if __name__ == "__main__":
    main()
