"""``tamarind worker``: registers the jobs, ticks beside the task worker, and two of them run each slot once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tamarind.scheduler import runner
from tamarind.scheduler.models import JobRun, JobRunStatus, PeriodicJob
from tamarind.scheduler.runner import SchedulerLoop
from tamarind.scheduler.tests import sample_jobs

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PROJECT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=True)
def test_batch_worker_ticks_and_runs_the_queue(settings, jobs):
    """Database backend: the tick queues the due runs as task rows, and the worker runs them before it exits."""
    settings.TASKS = DATABASE_TASKS
    call_command("worker", "--batch", "--interval", "0")
    runs = {run.job.key: run for run in JobRun.objects.select_related("job")}
    assert runs["sampletests.tally"].status == JobRunStatus.SUCCEEDED
    assert runs["sampletests.explode"].status == JobRunStatus.FAILED
    assert sample_jobs.CALLS.count("tally") == 1
    assert DBTaskResult.objects.filter(task_path="tamarind.scheduler.tasks.run_periodic_job").count() >= 2
    # Run again at once: nothing is due, nothing runs twice.
    call_command("worker", "--batch", "--interval", "0")
    assert JobRun.objects.filter(job__key="sampletests.tally").count() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_registers_the_apps_jobs_at_start(settings, monkeypatch):
    settings.TASKS = DATABASE_TASKS
    PeriodicJob.objects.all().delete()
    monkeypatch.setattr("tamarind.scheduler.services.periodic_specs", lambda: list(sample_jobs.SPECS))
    call_command("worker", "--batch", "--no-scheduler", "--interval", "0")
    assert PeriodicJob.objects.count() == 2 and not JobRun.objects.exists()  # registered, not ticked


def test_worker_refuses_an_unknown_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "somewhere.else.Backend"}}
    with pytest.raises(CommandError, match="database or RQ"):
        call_command("worker", "--batch")


def test_worker_refuses_a_nonsense_tick(settings, db):
    settings.TASKS = DATABASE_TASKS
    with pytest.raises(CommandError, match="positive"):
        call_command("worker", "--tick", "0", "--no-scheduler")


def test_tick_interval_comes_from_the_settings(settings):
    settings.TAMARIND_SCHEDULER_TICK_SECONDS = 7
    assert runner.tick_seconds() == 7.0
    assert SchedulerLoop(worker="w").interval == 7.0


def test_the_loop_ticks_until_stopped_and_survives_a_failing_tick(monkeypatch):
    ticks: list[str] = []
    failed = threading.Event()

    def tick(*, worker: str) -> list[object]:
        ticks.append(worker)
        if len(ticks) == 2:
            failed.set()
            raise RuntimeError("database restarting")
        return []

    monkeypatch.setattr(runner, "scheduler_tick", tick)
    loop = SchedulerLoop(worker="w9", interval=0.01)
    loop.start()
    deadline = time.monotonic() + 10
    while len(ticks) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    loop.stop()
    assert failed.is_set() and len(ticks) >= 4 and set(ticks) == {"w9"}
    assert not loop.is_alive()


# --- two real worker processes ------------------------------------------------------------------------------------


def _database_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a ``tamarind`` subprocess: this run's PostgreSQL test database, or a fresh SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TAMARIND_", "DJANGO_"))}
    env.update(TAMARIND_VAR_DIR=str(tmp_path / "var"), TAMARIND_TASK_BACKEND="database", TAMARIND_LOG_LEVEL="WARNING")
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    else:
        env["TAMARIND_SQLITE_PATH"] = str(tmp_path / "workers.sqlite3")
        tamarind(env, "migrate", "--noinput", "-v0")
    return env


def tamarind(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tamarind.cli", *args],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"tamarind {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


SEED = """
import datetime as dt
from tamarind.scheduler.models import PeriodicJob
from tamarind.scheduler.services import periodic_jobs_sync
from tamarind.scheduler.tests.sample_jobs import SPECS
periodic_jobs_sync()
PeriodicJob.objects.update(enabled=False)  # the apps' real jobs stay out of this
periodic_jobs_sync(specs=SPECS, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
PeriodicJob.objects.filter(key__startswith="sampletests.").update(enabled=True)
"""

REPORT = """
import json
from tamarind.scheduler.models import JobRun
print(json.dumps([
    {"job": r.job.key, "status": r.status, "claimed_by": r.claimed_by, "worker": r.worker, "result": r.result}
    for r in JobRun.objects.select_related("job").order_by("pk")
]))
"""


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_run_each_due_slot_once(tmp_path):
    env = _database_env(tmp_path)
    tamarind(env, "shell", "-c", SEED)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tamarind.cli", "worker", "--batch", "--interval", "0"],
            env=env,
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err[-3000:]
    runs = json.loads(tamarind(env, "shell", "-c", REPORT).strip().splitlines()[-1])
    by_job = {}
    for run in runs:
        by_job.setdefault(run["job"], []).append(run)
    assert {k: len(v) for k, v in by_job.items()} == {"sampletests.tally": 1, "sampletests.explode": 1}
    assert by_job["sampletests.tally"][0]["status"] == "succeeded"
    assert by_job["sampletests.tally"][0]["result"]["calls"] == 1
    assert by_job["sampletests.explode"][0]["status"] == "failed"
    assert all(run["claimed_by"] and run["worker"] for run in runs)
