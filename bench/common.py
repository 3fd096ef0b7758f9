"""What the benchmarks share: a fresh database per benchmark, and timing a page against the replay of its own SQL.

Not a benchmark itself (``bench/run.py`` runs the files named ``*_bench.py``); each benchmark imports it by name,
since a script's own folder is first on its import path.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def prepare_environment(
    database: str, *, sqlite_name: str, force_sqlite: bool = False, tasks: str = "immediate"
) -> str:
    """Point Django (before it is set up) at a fresh bench database: PostgreSQL ``database``, dropped and recreated,
    or, when PostgreSQL is not reachable or ``force_sqlite``, ``var/bench/<sqlite_name>``. Production settings (no SQL
    log kept in memory); emails stay in memory; ``tasks`` is the task backend. Returns where, in words."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tamarind.config.settings",
        TAMARIND_DEBUG="0",
        TAMARIND_SECRET_KEY=os.environ.get("TAMARIND_SECRET_KEY", "bench-only-secret-key-not-for-production-012345"),
        TAMARIND_ALLOWED_HOSTS="localhost,testserver",
        TAMARIND_TASK_BACKEND=tasks,
        TAMARIND_LOG_LEVEL="WARNING",
        TAMARIND_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    reason = "--sqlite given"
    if not force_sqlite:
        try:
            import psycopg

            with psycopg.connect(
                PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=3
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{database}"')
            os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database
            return f"PostgreSQL ({database})"
        except Exception as exc:
            reason = f"PostgreSQL not reachable: {exc.__class__.__name__}"
    path = ROOT / "var" / "bench" / sqlite_name
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ["TAMARIND_SQLITE_PATH"] = str(path)
    return f"SQLite ({path}; {reason})"


# --- Timing a page against its own SQL ----------------------------------------------------------------------------


def capture(fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SQL statements (with their parameters) that ``fn`` runs."""
    from django.db import connection

    statements: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        fn()
    return statements


def replay(statements: list[tuple[str, Any]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def compare(fn: Callable[[], Any], runs: int, warmup: int = 3) -> tuple[list[float], list[float], int]:
    """Run ``fn`` and the replay of its SQL ``runs`` times each, interleaved (so both see the same machine)."""
    statements = capture(fn)
    for _ in range(warmup):
        fn()
        replay(statements)
    ours, raw = [], []
    for _ in range(runs):
        ours.append(timed(fn))
        raw.append(timed(lambda: replay(statements)))
    return ours, raw, len(statements)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def report(label: str, ours: list[float], raw: list[float], queries: int, *, width: int = 44) -> float:
    ratio = p95(ours) / p95(raw) if p95(raw) else float("inf")
    print(
        f"  {label:<{width}} {queries:>3} q   p50 {ms(statistics.median(ours))} vs {ms(statistics.median(raw))}"
        f"   p95 {ms(p95(ours))} vs {ms(p95(raw))}   {ratio:5.2f}x"
    )
    return ratio
