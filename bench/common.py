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


def bench_settings(tasks: str = "immediate") -> None:
    """Production settings (no SQL log kept in memory) for a benchmark, before Django is set up; emails stay in
    memory; ``tasks`` is the task backend. The database is set apart."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tamarind.config.settings",
        TAMARIND_DEBUG="0",
        TAMARIND_SECRET_KEY=os.environ.get("TAMARIND_SECRET_KEY", "bench-only-secret-key-not-for-production-012345"),
        TAMARIND_ALLOWED_HOSTS="localhost,testserver",
        TAMARIND_TASK_BACKEND=tasks,
        TAMARIND_LOG_LEVEL="WARNING",
        TAMARIND_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )


def prepare_environment(
    database: str, *, sqlite_name: str, force_sqlite: bool = False, tasks: str = "immediate"
) -> str:
    """Point Django (before it is set up) at a fresh bench database: PostgreSQL ``database``, dropped and recreated,
    or, when PostgreSQL is not reachable or ``force_sqlite``, ``var/bench/<sqlite_name>``. Production settings (no SQL
    log kept in memory); emails stay in memory; ``tasks`` is the task backend. Returns where, in words."""
    bench_settings(tasks)
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


# --- A dashboard page for one user, and the run over an admin and a manager ---------------------------------------


def bench_page(
    user: Any, runs: int, *, path: str, view: Callable[[Any], Any], widgets: Callable[[], dict[str, Callable[[], Any]]]
) -> float:
    """A dashboard page (``view`` at ``path``) for ``user`` against its own SQL, then each widget (``widgets()``,
    built after the page so it sees the same data) against its own. Returns the page's p95 ratio."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    factory = RequestFactory()

    def page() -> None:
        request = factory.get(path)
        request.user = user
        request.session = {}  # type: ignore[assignment]
        request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
        response = view(request)
        assert response.status_code == 200, response.status_code
        assert len(response.content) > 10_000

    ours, raw, queries = compare(page, runs)
    print(f"  {'':<44}       {'page / its SQL':^25}  {'page / its SQL':^25}")
    ratio = report("the page (view, widgets, template)", ours, raw, queries)
    widget_runs = max(5, runs // 2)
    for label, fn in widgets().items():
        w_ours, w_raw, w_queries = compare(fn, widget_runs, warmup=1)
        report(label, w_ours, w_raw, w_queries)
    return ratio


def bench_admin_and_manager(bench_user: Callable[[Any, int], float], *, runs: int, what: str, target: float) -> None:
    """Run ``bench_user`` for the bench admin (every region: the heaviest page) and the first region's manager,
    rendering without collected static files, and print each page's ratio against ``target``."""
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings

    from tamarind.people.models import Role, User

    # Production settings hash static files at collectstatic time; the bench renders without collecting them.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()

    admin = User.objects.with_region().get(email="bench-admin@bench.test")
    manager = User.objects.with_region().filter(role=Role.MANAGER).order_by("email").first()
    assert manager is not None
    print(f"\nadmin (every region, {what}):")
    admin_ratio = bench_user(admin, runs)
    print(f"\nTAM Manager of {manager.managed_region} (one region):")
    manager_ratio = bench_user(manager, runs)

    print()
    for who, ratio in (("admin", admin_ratio), ("manager", manager_ratio)):
        verdict = "met" if ratio <= target else "NOT met"
        print(f"target: page p95 <= {target}x the p95 of its raw SQL ({who}): {ratio:.2f}x, {verdict}")
    if connection.vendor != "postgresql":
        print("The target is set for PostgreSQL at 100,000 accounts: on SQLite, and on small books, the SQL is so")
        print("quick that the page's fixed cost (template, ORM) dominates the ratio.")


DASHBOARD_REGIONS = ["AMER East", "AMER West", "EMEA", "APAC", "LATAM", "Public Sector"]


def dashboard_people(
    regions: list[str] = DASHBOARD_REGIONS, tams_per_region: int = 10
) -> tuple[list[Any], dict[int, list[int]]]:
    """The dashboard benches' people, through the services: an admin (``bench-admin@bench.test``), a director, and
    per region a manager and ``tams_per_region`` TAMs. Returns the regions and each region's TAM ids."""
    from tamarind.people.models import Role
    from tamarind.people.services import region_create, user_create

    admin = user_create(actor=None, email="bench-admin@bench.test", full_name="Bench Admin", role=Role.ADMIN)
    user_create(actor=admin, email="director@bench.test", full_name="Bench Director", role=Role.DIRECTOR)
    made, tams = [], {}
    for i, name in enumerate(regions):
        manager = user_create(actor=admin, email=f"manager{i}@bench.test", full_name=f"Manager {i}", role=Role.MANAGER)
        region = region_create(actor=admin, name=name, manager=manager)
        made.append(region)
        tams[region.pk] = [
            user_create(
                actor=admin, email=f"tam{i}-{k}@bench.test", full_name=f"TAM {name} {k}", role=Role.TAM, region=region
            ).pk
            for k in range(tams_per_region)
        ]
    return made, tams
