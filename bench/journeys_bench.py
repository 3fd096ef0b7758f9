"""Digital journey benchmark: one day's run (deciding and queuing every due step) for a book of accounts and their
contacts, against the minimal hand-written SQL that finds the same due steps, run side by side.

    .venv/bin/python bench/journeys_bench.py [--accounts 100000] [--contacts-per-account 3] [--runs 5] [--sqlite]

The issue's size (the default) is 100,000 accounts and 300,000 contacts; ``--accounts 10000`` for a quick run.
``make bench BENCH=journeys`` runs it.

Creates ``tamarind_bench_journeys`` on PostgreSQL (dropped and recreated; never ``tamarind``; without PostgreSQL a
SQLite file under ``var/bench/``, where the hand-written SQL is not run) and seeds it by COPY: accounts started on
any day of the last four years (ARR log-normal, a share pooled or digital), three contacts each (admin,
development lead, champion personas; 3% opted out), and the seeded default program (a day-0 welcome, emails on days
7, 14, 30, 60, 90 and an NPS survey on day 90 repeating every 6 calendar months, for ARR 5,000-20,000 or
pooled/digital).

Timed, ``--runs`` times each, interleaved, the sends table emptied (untimed) before each run:

- deciding: ``services.due_sends`` (the (step, occurrence, contact) triples due today) against one SELECT joining
  programs, steps, accounts and contacts with the schedule's arithmetic in SQL;
- deciding and queuing: ``services.journey_run`` (the same, written by COPY with ON CONFLICT DO NOTHING) against
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` of the same query.

Before timing, both sides are checked to find the same set of due sends.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import time
from decimal import Decimal

import common
from common import ms, p95

PG_DB = os.environ.get("BENCH_JOURNEYS_PG_DB", "tamarind_bench_journeys")
CATCH_UP = 3

# Day repeats: occurrence k = elapsed days / repeat_days. Month repeats (the NPS every 6 months): occurrence k falls
# on (customer_since + day) + k * repeat_months months, PostgreSQL's date + interval clamping at month ends as
# ``core.months.add_months`` does; k is the month count to today over repeat_months, or one less when that
# occurrence is still ahead this month. Webinar invitation steps follow sessions, not this arithmetic (none here).
DUE_SQL = """
SELECT s.id, CASE WHEN s.repeat_months IS NOT NULL THEN mk.k WHEN s.repeat_days IS NULL THEN 0
    ELSE (%(day)s::date - a.customer_since - s.day) / s.repeat_days END,
  a.id, c.id
FROM journeys_program p
JOIN journeys_step s ON s.program_id = p.id AND s.kind <> 'webinar'
JOIN accounts_account a ON a.customer_since <= %(day)s::date - s.day
  AND (a.engagement_model IN (SELECT jsonb_array_elements_text(p.engagement_models))
       OR ((p.min_arr IS NOT NULL OR p.max_arr IS NOT NULL)
           AND (p.min_arr IS NULL OR a.arr >= p.min_arr) AND (p.max_arr IS NULL OR a.arr <= p.max_arr)))
CROSS JOIN LATERAL (SELECT a.customer_since + s.day AS first) f
CROSS JOIN LATERAL (
  SELECT ((date_part('year', %(day)s::date) - date_part('year', f.first)) * 12
          + date_part('month', %(day)s::date) - date_part('month', f.first))::int / s.repeat_months AS k0) m
CROSS JOIN LATERAL (
  SELECT CASE WHEN (f.first + make_interval(months => m.k0 * s.repeat_months))::date <= %(day)s::date
         THEN m.k0 ELSE m.k0 - 1 END AS k) mk
JOIN contacts_contact c ON c.account_id = a.id AND NOT c.opted_out
WHERE p.status = 'active'
  AND CASE WHEN s.repeat_months IS NOT NULL
        THEN %(day)s::date - (f.first + make_interval(months => mk.k * s.repeat_months))::date < %(w)s
      WHEN s.repeat_days IS NULL THEN %(day)s::date - a.customer_since - s.day < %(w)s
      ELSE (%(day)s::date - a.customer_since - s.day) %% s.repeat_days < LEAST(%(w)s, s.repeat_days) END
  AND EXISTS (SELECT 1 FROM contacts_contact_personas cp
              JOIN journeys_program_personas pp ON pp.persona_id = cp.persona_id AND pp.program_id = p.id
              WHERE cp.contact_id = c.id)
"""
INSERT_SQL = (
    "INSERT INTO journeys_send (step_id, occurrence, account_id, contact_id, due_on, status, attempts, last_error,"
    " token, created_at, next_attempt_at) "
    "SELECT d.sid, d.k, d.aid, d.cid, %(day)s::date, 'queued', 0, '', md5(random()::text || d.cid || d.sid), now(), now()"
    " FROM ("
    + DUE_SQL.replace("SELECT s.id, CASE", "SELECT s.id AS sid, CASE").replace(
        " END,\n  a.id, c.id", " END AS k,\n  a.id AS aid, c.id AS cid"
    )
    + ") d"
    " ON CONFLICT DO NOTHING"
)


def seed(n: int, per_account: int, seed_: int) -> tuple[int, int]:
    from django.db import connection
    from django.utils import timezone

    from tamarind.accounts.models import Account
    from tamarind.contacts.models import Contact, Persona
    from tamarind.core.bulk import insert_instances
    from tamarind.people.models import Region

    rng = random.Random(seed_)
    today = timezone.localdate()
    now = timezone.now()
    region = Region.objects.create(name="Bench region")
    accounts = []
    for i in range(n):
        roll = rng.random()
        model = "pooled" if roll < 0.15 else "digital" if roll < 0.3 else "low_touch" if roll < 0.6 else ""
        arr = Decimal(max(1200, round(rng.lognormvariate(math.log(25_000), 1.0), -2)))
        accounts.append(
            Account(
                crm_id=f"B{i:07d}",
                name=f"Bench {i}",
                region_id=region.pk,
                segment="smb",
                arr=arr,
                engagement_model=model,
                customer_since=today - dt.timedelta(days=rng.randint(0, 4 * 365)),
                created_at=now,
                updated_at=now,
            )
        )
    insert_instances(accounts)
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    contacts = [
        Contact(
            account_id=aid,
            name=f"Person {aid}-{j}",
            email=f"p{j}@a{aid}.example",
            opted_out=rng.random() < 0.03,
            created_at=now,
            updated_at=now,
        )
        for aid in ids
        for j in range(per_account)
    ]
    insert_instances(contacts)
    personas = dict(Persona.objects.values_list("key", "pk"))
    order = ["admin", "development-lead", "champion"]
    through = Contact.personas.through
    links = [
        through(contact_id=cid, persona_id=personas[order[j % len(order)]])
        for j, cid in enumerate(Contact.objects.order_by("account_id", "pk").values_list("pk", flat=True))
    ]
    insert_instances(links)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return len(ids), len(contacts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts-per-account", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    where = common.prepare_environment(PG_DB, sqlite_name="journeys.sqlite3", force_sqlite=args.sqlite)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from tamarind.journeys import schedule, services
    from tamarind.journeys.models import Program, Send

    assert schedule.CATCH_UP_DAYS == CATCH_UP
    started = time.monotonic()
    n_accounts, n_contacts = seed(args.accounts, args.contacts_per_account, args.seed)
    day = timezone.localdate()
    print(
        f"Journey run over {n_accounts:,} accounts and {n_contacts:,} contacts on {where} "
        f"(seeded in {time.monotonic() - started:.0f} s; {args.runs} interleaved runs)"
    )

    def decide() -> set[tuple[int, int, int, int]]:
        programs = list(Program.objects.active().prefetch_related("steps", "personas"))
        return {(s.pk, k, a, c) for s, k, _on, a, c in services.due_sends(day=day, programs=programs)}

    def queue() -> None:
        services.journey_run(day=day)

    def clear() -> None:
        Send.objects.all().delete()

    ours_first = decide()
    services.journey_run(day=day)
    queued = Send.objects.count()
    print(f"  due today: {len(ours_first):,} sends ({queued:,} queued)")
    if connection.vendor != "postgresql":
        print("The hand-written SQL is PostgreSQL's: nothing to compare on SQLite.")
        return
    params = {"day": day, "w": CATCH_UP}

    def sql_decide() -> set[tuple[int, int, int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(DUE_SQL, params)
            return {tuple(r) for r in cursor.fetchall()}  # type: ignore[misc]

    def sql_queue() -> None:
        with connection.cursor() as cursor:
            cursor.execute(INSERT_SQL, params)

    assert sql_decide() == ours_first, "the hand-written SQL and the run disagree on what is due"
    clear()
    sql_queue()
    assert Send.objects.count() == queued
    clear()

    rows = []
    for label, ours, ref in (("deciding", decide, sql_decide), ("deciding and queuing", queue, sql_queue)):
        a, b = [], []
        for _ in range(args.runs):
            clear()
            a.append(common.timed(ours))
            clear()
            b.append(common.timed(ref))
        ratio = p95(a) / p95(b) if p95(b) else float("inf")
        rows.append(ratio)
        print(
            f"  {label:<22} p50 {ms(statistics.median(a))} vs {ms(statistics.median(b))}   "
            f"p95 {ms(p95(a))} vs {ms(p95(b))}   {ratio:6.2f}x the hand-written SQL"
        )
    clear()


if __name__ == "__main__":
    main()
