"""``core.dbworker``: the task rows a killed worker leaves "running" are failed by the tick when that worker's process
is gone from this machine; a live worker's, and another machine's, are left alone."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tamarind.core.dbworker import task_results_fail_lost
from tamarind.scheduler.services import worker_id

pytestmark = pytest.mark.django_db


def running(worker: str) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="tamarind.imports.tasks.run_import_job",
        backend_name="default",
        run_after=now,
        started_at=now,
        worker_ids=[worker],
    )


def test_the_rows_of_a_dead_worker_of_this_machine_are_failed(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = running(f"{socket.gethostname()}:{int(gone.stdout)}"[:64])
    alive = running(worker_id())  # this very process
    elsewhere = running("another-machine:1")
    now = timezone.now()
    assert task_results_fail_lost(now=now) == 1
    dead.refresh_from_db()
    assert dead.status == "FAILED" and dead.finished_at == now
    assert dead.traceback.startswith("Worker lost: the process ")
    assert {r.status for r in DBTaskResult.objects.exclude(pk=dead.pk)} == {"RUNNING"}
    assert alive.pk and elsewhere.pk


def test_nothing_to_do_on_another_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert task_results_fail_lost(now=timezone.now()) == 0
