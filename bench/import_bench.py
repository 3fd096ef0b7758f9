"""CRM import benchmark: Tamarind's import against PostgreSQL's own COPY of the same file.

    .venv/bin/python bench/import_bench.py [--accounts 100000]

Creates a dedicated database (``tamarind_bench`` on PostgreSQL, dropped and recreated; without a
reachable PostgreSQL, a SQLite file under ``var/bench/``), people and regions through the services,
and a CRM CSV of N accounts in the Salesforce-report format. Then, from one run, it prints:

- the floor: ``COPY`` of the file into a plain staging table of text columns (SQLite: ``executemany``);
- Tamarind's import of the file (every row checked, accounts + audit events + TAM history written),
  as a ratio of the floor (target <= 3x on PostgreSQL);
- the re-import of the unchanged file (target <= 1x);
- the import's peak memory: the growth of the child process's max RSS (target < 300 MB).

Each import runs in a fresh child process so its memory is measured on its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "tamarind_bench")
REGIONS = ["AMER East", "AMER West", "EMEA", "APAC", "LATAM", "Public Sector"]
TARGETS = {"import": 3.0, "reimport": 1.0, "memory_mb": 300.0}


def _env(database_url: str | None, sqlite_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tamarind.config.settings",
        # Production settings: DEBUG off, so Django keeps no SQL log in memory.
        TAMARIND_DEBUG="0",
        TAMARIND_SECRET_KEY=env.get("TAMARIND_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789"),
        TAMARIND_ALLOWED_HOSTS="localhost",
        # As in production: work an import sets off (the email of the notifications it raises) is queued for the
        # worker, not done inside the measured call.
        TAMARIND_TASK_BACKEND="database",
        TAMARIND_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
        env["TAMARIND_SQLITE_PATH"] = str(sqlite_path)
    return env


def postgres_url() -> str | None:
    """Recreate the bench database and return its URL, or None when PostgreSQL is not reachable."""
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect(
            PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
    except Exception as exc:
        print(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc.__class__.__name__}: {exc}); SQLite only.")
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DB


# --- Parent process -------------------------------------------------------------------------------------------


def setup_database() -> dict[str, list[str]]:
    """Migrate, then create regions and people through the services. Returns names/emails to draw owners from."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from tamarind.people.models import Role
    from tamarind.people.services import region_create, user_create

    admin = user_create(actor=None, email="bench-admin@example.com", full_name="Bench Admin", role=Role.ADMIN)
    tams: list[str] = []
    sals: list[str] = []
    sas: list[str] = []
    for r, name in enumerate(REGIONS):
        manager = user_create(
            actor=admin, email=f"manager{r}@example.com", full_name=f"Manager {r}", role=Role.MANAGER, source="bench"
        )
        region = region_create(actor=admin, name=name, manager=manager, source="bench")
        for i in range(10):
            tam = user_create(
                actor=admin,
                email=f"tam{r}-{i}@example.com",
                full_name=f"Tam {name} {i}",
                role=Role.TAM,
                region=region,
                source="bench",
            )
            tams.append(tam.full_name)
        for i in range(5):
            sals.append(
                user_create(
                    actor=admin,
                    email=f"sal{r}-{i}@example.com",
                    full_name=f"Sal {r} {i}",
                    role=Role.SAL,
                    source="bench",
                ).email
            )
            sas.append(
                user_create(
                    actor=admin, email=f"sa{r}-{i}@example.com", full_name=f"Sa {r} {i}", role=Role.SA, source="bench"
                ).full_name
            )
    return {"tams": tams, "sals": sals, "sas": sas}


def write_csv(path: Path, n: int, owners: dict[str, list[str]]) -> None:
    """N accounts as a Salesforce-style report: symbols and separators in amounts, US and ISO dates,
    owners by name and by email, about one account in ten a child of another (parents before or after)."""
    from tamarind.imports.selectors import export_headers

    rng = random.Random(42)
    segments = ["Enterprise", "Mid-Market", "SMB", "MM"]
    tiers = ["Premium", "Ultimate", "Gold", "Silver", "Starter", "Free"]
    models = ["High touch", "Low touch", "Named", "Pooled (service desk)", "Digital program", ""]
    stages = ["Onboarding", "Adoption", "Optimize and Grow", "Will Churn"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(export_headers())
        for i in range(n):
            region = REGIONS[i % len(REGIONS)]
            arr = rng.randint(5_000, 2_000_000) + rng.choice([0, 0.5, 0.25])
            amount = (
                f"${arr:,.2f}" if i % 3 == 0 else (f"{arr:.2f}" if i % 3 == 1 else f"€ {int(arr):,}".replace(",", "."))
            )
            since_y, since_m, since_d = 2015 + i % 10, 1 + i % 12, 1 + i % 28
            renew_y = 2026 + i % 3
            parent = ""
            if i % 10 == 9:
                parent = f"001{rng.randrange(n):07d}"
                if parent == f"001{i:07d}":
                    parent = ""
            writer.writerow(
                [
                    f"001{i:07d}",
                    f"Customer {i} {rng.choice(['Inc.', 'GmbH', 'Ltd', 'S.A.', 'Corp'])}",
                    parent,
                    region,
                    segments[i % 4],
                    amount,
                    "EUR" if amount.startswith("€") else "USD",
                    tiers[i % len(tiers)],
                    f"{rng.randint(5, 20_000):,}",
                    str(1 + i % 4),
                    models[i % len(models)],
                    owners["tams"][(i % len(REGIONS)) * 10 + rng.randrange(10)] if i % 7 else "",
                    owners["sals"][rng.randrange(len(owners["sals"]))],
                    owners["sas"][rng.randrange(len(owners["sas"]))] if i % 2 else "",
                    f"{since_m}/{since_d}/{since_y}" if i % 2 else f"{since_y}-{since_m:02d}-{since_d:02d}",
                    f"{renew_y}-{since_m:02d}-{since_d:02d}",
                    stages[i % len(stages)],
                    f"https://collab.example.com/customers/{i}" if i % 5 == 0 else "",
                ]
            )


def copy_floor(path: Path) -> float:
    """The floor: load the same file into a plain staging table with the database's own bulk path."""
    from django.db import connection

    from tamarind.imports.selectors import export_headers

    width = len(export_headers())
    columns = ", ".join(f'"c{i}" text' for i in range(width))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_staging")
        cursor.execute(f"CREATE TABLE bench_staging ({columns})")
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            path.open("rb") as fh,
            cursor.cursor.copy("COPY bench_staging FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    else:
        placeholders = ", ".join("?" for _ in range(width))
        with path.open(encoding="utf-8", newline="") as fh, connection.cursor() as cursor:
            reader = csv.reader(fh)
            next(reader)
            cursor.executemany(f"INSERT INTO bench_staging VALUES ({placeholders})", reader)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_staging")
        loaded = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_staging")
    print(f"  (staging table holds {loaded:,} rows)")
    return elapsed


def write_floor() -> float | None:
    """What PostgreSQL alone needs to store the import's result: the rows the import wrote (accounts, audit
    events, TAM history) copied back into the real tables, with their indexes and foreign keys, in one
    transaction. No parsing, no checks: the part of the import no Python code can make faster."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        return None
    tables = {
        "accounts_account": "*",
        "audit_auditevent": "at, actor_id, actor_name, request_id, source, object_type, object_id, object_repr, action, before, after",
        "accounts_tamassignment": "account_id, from_tam_id, to_tam_id, changed_by_id, changed_at",
    }
    dumps: dict[str, Path] = {}
    with connection.cursor() as cursor:
        for table, columns in tables.items():
            dumps[table] = OUT / f"{table}.copy"
            where = " WHERE source = 'import'" if table == "audit_auditevent" else ""
            with (
                dumps[table].open("wb") as fh,
                cursor.cursor.copy(f"COPY (SELECT {columns} FROM {table}{where}) TO STDOUT") as copy,
            ):
                for data in copy:
                    fh.write(data)
        cursor.execute("TRUNCATE accounts_tamassignment, audit_auditevent, accounts_account CASCADE")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns in tables.items():
            cols = "" if columns == "*" else f" ({columns})"
            with dumps[table].open("rb") as fh, cursor.cursor.copy(f"COPY {table}{cols} FROM STDIN") as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
    elapsed = time.perf_counter() - started
    for path in dumps.values():
        path.unlink()
    return elapsed


def run_child(env: dict[str, str], path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        print(out.stdout, out.stderr, sep="\n")
        raise SystemExit(f"the import child failed with {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- Child process: one import ----------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM starts afresh at exec; ru_maxrss would carry the
    parent's peak into the child, hiding the import's own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: Path) -> None:
    import django

    django.setup()
    from django.db import connection

    from tamarind.imports import services
    from tamarind.people.models import User

    admin = User.objects.get(email="bench-admin@example.com")
    connection.ensure_connection()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    job = services.import_job_create_from_path(actor=admin, path=path)
    job = services.import_job_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    rss_after = peak_rss_mb()
    if job.status != "succeeded":
        print(job.message, job.errors[:10], file=sys.stderr)
        raise SystemExit(1)
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "rss_before_mb": rss_before,
                "rss_peak_mb": rss_after,
                "created": job.created,
                "updated": job.updated,
                "unchanged": job.unchanged,
                "summary": job.summary(),
            }
        )
    )


# --- Main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000, help="Accounts in the generated file.")
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even when PostgreSQL is reachable.")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    OUT.mkdir(parents=True, exist_ok=True)
    sqlite_path = OUT / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    url = None if args.sqlite else postgres_url()
    env = _env(url, sqlite_path)
    os.environ.update(env)
    if not url:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    engine = "PostgreSQL" if url else "SQLite"
    print(f"CRM import benchmark: {args.accounts:,} accounts on {engine} ({url or sqlite_path})")

    owners = setup_database()
    path = OUT / f"crm-accounts-{args.accounts}.csv"
    started = time.perf_counter()
    write_csv(path, args.accounts, owners)
    size_mb = path.stat().st_size / 1e6
    print(f"generated {path.relative_to(ROOT)} ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f}s")

    changed_path = OUT / f"crm-accounts-{args.accounts}-changed.csv"
    with path.open(encoding="utf-8", newline="") as src, changed_path.open("w", encoding="utf-8", newline="") as dst:
        # Every tenth account's ARR moves: a typical daily delta.
        writer = csv.writer(dst, lineterminator="\r\n")
        for i, row in enumerate(csv.reader(src)):
            if i and i % 10 == 0:
                row[5] = "123,456.78"
            writer.writerow(row)

    floor = copy_floor(path)
    first = run_child(env, path)
    again = run_child(env, path)
    delta = run_child(env, changed_path)
    memory = first["rss_peak_mb"] - first["rss_before_mb"]

    def ratio(seconds: float) -> str:
        return f"{seconds / floor:5.2f}x floor"

    def verdict(ok: bool) -> str:
        return "ok" if ok else "ABOVE TARGET"

    floor_label = "COPY into staging table" if url else "executemany into staging table"
    print()
    print(f"{'floor: ' + floor_label:<42} {floor:7.2f}s   ({args.accounts / floor:,.0f} rows/s)")
    print(
        f"{'import (new accounts)':<42} {first['seconds']:7.2f}s   {ratio(first['seconds'])}"
        f"   target <= {TARGETS['import']:.0f}x: {verdict(first['seconds'] <= TARGETS['import'] * floor)}"
    )
    print(f"{'':<42}            {first['summary']}")
    print(
        f"{'re-import (unchanged file)':<42} {again['seconds']:7.2f}s   {ratio(again['seconds'])}"
        f"   target <= {TARGETS['reimport']:.0f}x: {verdict(again['seconds'] <= TARGETS['reimport'] * floor)}"
    )
    print(f"{'':<42}            {again['summary']}")
    print(f"{'import with 10% of rows changed':<42} {delta['seconds']:7.2f}s   {ratio(delta['seconds'])}")
    print(f"{'':<42}            {delta['summary']}")
    print(
        f"{'import peak memory (max RSS growth)':<42} {memory:7.1f} MB"
        f"   (child peak {first['rss_peak_mb']:.0f} MB)   target < {TARGETS['memory_mb']:.0f} MB:"
        f" {verdict(memory < TARGETS['memory_mb'])}"
    )
    schema = write_floor()
    if schema is not None:
        print(
            f"{'write floor: COPY of the result into the':<42} {schema:7.2f}s   {ratio(schema)}"
            f"   (import = {first['seconds'] / schema:.2f}x this)"
        )
        print(f"{'  real tables (indexes, FKs, audit, no Python)':<42}")
    if not url:
        why = "--sqlite given" if args.sqlite else "no server reachable"
        print(f"\nPostgreSQL figures not measured ({why}): the time targets are set for PostgreSQL.")


if __name__ == "__main__":
    main()
