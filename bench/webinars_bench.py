"""Webinars benchmark: importing a webinar platform's attendee report of 50,000 rows into one session through
``webinars.services.attendee_report_import`` (streamed parse, join/leave rows merged per email, matched to contacts
by email, unmatched attendees kept, one audit event), against a minimal raw bulk insert of the same rows (the
already-parsed attendance rows written by ``executemany`` in one transaction, no parsing, merging or matching).

    .venv/bin/python bench/webinars_bench.py [--rows 50000] [--runs 3] [--no-shows 0.0] [--sqlite]

Creates ``tamarind_bench_webinars`` on PostgreSQL (dropped and recreated; without PostgreSQL a SQLite file under
``var/bench/``). The report: 40,000 attendees (each a contact at one of 4,000 accounts), of whom 10,000 left and came
back (a second row), a few hundred unknown emails; with ``--no-shows F`` a share F of the people registered but did
not attend (an "Attended: No" row without times). Prints time, rows/s and the ratio to the raw insert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io

import common

PG_DB = "tamarind_bench_webinars"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--no-shows", type=float, default=0.0, help="share of people who registered but did not attend (0-1)"
    )
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    where = common.prepare_environment(PG_DB, sqlite_name="webinars.sqlite3", force_sqlite=args.sqlite)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from tamarind.accounts.models import Account
    from tamarind.contacts.models import Contact
    from tamarind.people.models import Region, Role, User
    from tamarind.webinars import services
    from tamarind.webinars.models import Attendance, Round, Session, Topic

    admin = User.objects.create_user(email="bench-admin@example.com", full_name="Bench Admin", role=Role.ADMIN)
    region = Region.objects.create(name="Bench")
    accounts = Account.objects.bulk_create(
        [Account(crm_id=f"B-{i}", name=f"Bench {i}", region=region) for i in range(4000)], batch_size=2000
    )
    repeats = args.rows // 5
    people = args.rows - repeats
    unknown = min(300, people // 10)
    Contact.objects.bulk_create(
        [
            Contact(account=accounts[i % len(accounts)], name=f"P {i}", email=f"p{i}@bench.example")
            for i in range(people - unknown)
        ],
        batch_size=5000,
    )
    start = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    session = Session.objects.create(
        topic=Topic.objects.get(key="cicd"),
        round=Round.OPERATIONALIZE,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    lines = ["Email,Name,Attended,Join Time,Leave Time,Duration (Minutes),Feedback"]
    every = round(1 / args.no_shows) if args.no_shows > 0 else 0
    no_shows = 0
    for i in range(people):
        email = f"p{i}@bench.example" if i < people - unknown else f"x{i}@unknown.example"
        if every and i >= repeats and i % every == 0:
            lines.append(f"{email},P {i},No,--,--,--,")
            no_shows += 1
            continue
        join = start + dt.timedelta(minutes=i % 10)
        if i < repeats:
            lines.append(
                f"{email},P {i},Yes,{join:%Y-%m-%dT%H:%M:%SZ},{join + dt.timedelta(minutes=15):%Y-%m-%dT%H:%M:%SZ},15,"
            )
            join += dt.timedelta(minutes=20)
        leave = start + dt.timedelta(minutes=60 - i % 20)
        lines.append(
            f"{email},P {i},Yes,{join:%Y-%m-%dT%H:%M:%SZ},{leave:%Y-%m-%dT%H:%M:%SZ},{(leave - join).seconds // 60},{1 + i % 5}"
        )
    data = ("\n".join(lines) + "\n").encode()
    contact_rows = list(Contact.objects.values_list("pk", "account_id", "email"))

    def ours() -> None:
        services.attendee_report_import(actor=admin, session=session, stream=io.BytesIO(data), filename="bench.csv")

    table = Attendance._meta.db_table
    cols = (
        "session_id, contact_id, account_id, email, name, attended, first_join, last_leave, minutes_attended, "
        "stayed_to_end"
    )
    raw_rows = [
        (session.pk, pk, acc, email, "", True, start, start + dt.timedelta(minutes=50), 50, True)
        for pk, acc, email in contact_rows
    ]

    def raw() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {table} WHERE session_id = %s", [session.pk])
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", raw_rows)

    ours_t, raw_t = [], []
    for _ in range(args.runs):
        ours_t.append(common.timed(ours))
        raw_t.append(common.timed(raw))
    best, best_raw = min(ours_t), min(raw_t)
    n = len(lines) - 1
    print(
        f"Webinars attendee report import on {where}: {n:,} rows ({people:,} people, {repeats:,} repeated, {no_shows:,} did not attend, {unknown} unknown)"
    )
    print(
        f"  import (service): best {best:.2f} s, {n / best:,.0f} rows/s (runs: {', '.join(f'{t:.2f}' for t in ours_t)})"
    )
    print(f"  raw bulk insert of the {len(raw_rows):,} attendance rows: best {best_raw:.2f} s")
    print(f"  ratio import / raw insert: {best / best_raw:.1f}x")


if __name__ == "__main__":
    main()
