"""``tamarind worker`` outlives a database that is locked or gone for a while, and ``--supervise`` restarts it.

Real processes over a database of their own: an SQLite file another connection locks for longer than the busy
timeout, PostgreSQL behind a TCP proxy the test cuts (the shared server itself is never restarted), a worker killed
with SIGKILL under its supervisor.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from django.db import connection

from tamarind.testing.processes import TcpProxy, base_env, sqlite_env, start, tamarind, wait_until

SEED = """
from tamarind.scheduler.models import PeriodicJob
from tamarind.scheduler.services import periodic_jobs_sync
from tamarind.scheduler.tests.sample_jobs import SPECS
periodic_jobs_sync()
PeriodicJob.objects.update(enabled=False)  # the apps' real jobs stay out of this
periodic_jobs_sync(specs=SPECS)
PeriodicJob.objects.update(enabled=False)
"""

# Queue one run of the sample job "tally" as Run now would, and print its id.
QUEUE = """
from django.utils import timezone
from tamarind.scheduler.models import JobRun, JobRunTrigger, PeriodicJob
from tamarind.scheduler.services import job_run_enqueue
job = PeriodicJob.objects.get(key="sampletests.tally")
run = JobRun.objects.create(job=job, trigger=JobRunTrigger.MANUAL, scheduled_for=timezone.now())
job_run_enqueue(run_id=run.pk)
print(run.pk)
"""


def queue_run(env: dict[str, str]) -> int:
    return int(tamarind(env, "shell", "-c", QUEUE).split()[-1])


def sqlite_run_status(db: str, run_id: int) -> str:
    conn = sqlite3.connect(db, timeout=5)
    try:
        row = conn.execute("SELECT status FROM scheduler_jobrun WHERE id = ?", [run_id]).fetchone()
    finally:
        conn.close()
    return row[0] if row else ""


def test_worker_survives_a_locked_sqlite_database(tmp_path: Path) -> None:
    """Another connection holds the write lock for 3 s, six times the busy timeout: the worker's polls and ticks
    fail, it logs the outage once per loop, and once the lock is gone it runs the task queued meanwhile."""
    env = sqlite_env(tmp_path, TAMARIND_SQLITE_TIMEOUT="0.5")
    db = env["TAMARIND_SQLITE_PATH"]
    tamarind(env, "shell", "-c", SEED)
    worker = start(env, "worker", "--interval", "0.1", "--tick", "0.5")
    try:
        worker.wait_for("scheduler: ticking")
        time.sleep(1.0)  # past the start-up delay: the loop polls
        lock = sqlite3.connect(db, isolation_level=None, timeout=5)
        lock.execute("BEGIN IMMEDIATE")
        lock.execute("UPDATE scheduler_periodicjob SET description = description")
        time.sleep(3.0)
        assert worker.alive(), worker.output
        lock.execute("COMMIT")
        lock.close()
        run_id = queue_run(env)
        wait_until(lambda: sqlite_run_status(db, run_id) == "succeeded", timeout=30, what="the queued run")
        worker.wait_for(r"worker: the database answers again")
        worker.wait_for(r"scheduler: the database answers again")
        assert worker.alive()
        out = worker.output
        # Each loop logs the streak's first failure, with what happens next, once; then its end, once.
        assert out.count("worker: the database failed (OperationalError: database is locked)") == 1, out
        assert out.count("scheduler: the database failed (OperationalError: database is locked)") == 1, out
        assert "retrying in 1s" in out and "queued tasks wait until it is back" in out
        assert out.count("worker: the database answers again") == 1, out
        assert "Traceback" not in out, out
        assert worker.stop() == 0
    finally:
        worker.kill_group()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a PostgreSQL server to cut the worker off from")
def test_worker_survives_postgresql_going_away(tmp_path: Path) -> None:
    """The worker reaches this run's PostgreSQL test database through a proxy; the test cuts every connection
    and refuses new ones for 4 s (a server restarting), then lets them through: the worker carries on."""
    s = connection.settings_dict
    proxy = TcpProxy(s["HOST"] or "127.0.0.1", int(s["PORT"] or 5432))
    env = base_env(tmp_path)
    env["DATABASE_URL"] = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@127.0.0.1:{proxy.port}/{s['NAME']}"
    env["TAMARIND_CONN_MAX_AGE"] = "600"  # connections persist, so the cut breaks one the worker holds
    tamarind(env, "shell", "-c", SEED)
    worker = start(env, "worker", "--interval", "0.1", "--tick", "0.5")
    try:
        worker.wait_for("scheduler: ticking")
        time.sleep(1.0)
        proxy.cut()
        time.sleep(4.0)
        assert worker.alive(), worker.output
        proxy.resume()
        run_id = queue_run(env)
        from tamarind.scheduler.models import JobRun

        wait_until(lambda: JobRun.objects.get(pk=run_id).status == "succeeded", timeout=30, what="the queued run")
        worker.wait_for(r"worker: the database answers again")
        out = worker.output
        assert out.count("worker: the database failed") == 1, out
        assert "Traceback" not in out, out
        assert worker.stop() == 0
    finally:
        worker.kill_group()
        proxy.close()


def test_supervisor_restarts_a_killed_worker_and_stops_cleanly(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    db = env["TAMARIND_SQLITE_PATH"]
    tamarind(env, "shell", "-c", SEED)
    supervisor = start(env, "worker", "--supervise", "--interval", "0.1", "--no-scheduler")
    try:
        first = int(supervisor.wait_for(r"supervisor: started the worker \(pid (\d+)\)").group(1))
        supervisor.wait_for(r"worker \S+: taking tasks")
        os.kill(first, signal.SIGKILL)
        supervisor.wait_for(
            rf"the worker \(pid {first}\) was killed by SIGKILL after [\d.]+s; starting a new one in 1s"
        )
        mark = len(supervisor.lines)
        second = int(supervisor.wait_for(r"supervisor: started the worker \(pid (\d+)\)", after=mark).group(1))
        assert second != first
        run_id = queue_run(env)
        wait_until(lambda: sqlite_run_status(db, run_id) == "succeeded", timeout=30, what="the queued run")
        # Ctrl-C at a terminal signals the whole foreground group: the supervisor and its worker.
        os.killpg(supervisor.pid, signal.SIGINT)
        assert supervisor.stop(timeout=40) == 0, supervisor.output
        with pytest.raises(ProcessLookupError):
            os.kill(second, 0)
        assert "stopped." in supervisor.output
        assert supervisor.output.count("supervisor: started the worker") == 2
    finally:
        supervisor.kill_group()


def test_supervisor_stops_its_worker_on_sigterm(tmp_path: Path) -> None:
    """What ``make run`` does when the server stops: SIGTERM to the supervisor alone."""
    env = sqlite_env(tmp_path)
    supervisor = start(env, "worker", "--supervise", "--interval", "0.1", "--no-scheduler")
    try:
        child = int(supervisor.wait_for(r"supervisor: started the worker \(pid (\d+)\)").group(1))
        supervisor.wait_for(r"worker \S+: taking tasks")
        assert supervisor.stop(signal.SIGTERM, timeout=40) == 0, supervisor.output
        wait_until(lambda: not _alive(child), timeout=5, what="the worker to end")
        assert supervisor.output.count("supervisor: started the worker") == 1
    finally:
        supervisor.kill_group()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
