"""The task loop ``tamarind worker`` runs for the database backend: django-tasks-db's worker, made to outlive a
database that is locked or gone for a while.

django-tasks-db's own loop ignores "database is locked" only inside its claim; the ``BEGIN EXCLUSIVE`` before it,
a server restarting or refusing connections, and a task whose outcome cannot be saved all end the process. Here
every pass of the loop that fails on the database is retried after a pause that doubles up to
``Outage.cap`` seconds, the broken connections closed, the streak logged once when it starts and once when it ends
(``tamarind.core.resilience.Outage``). A task that ran but whose outcome could not be saved is marked failed, with
the reason, once the database is back, rather than left "running". What a task does to its own records (an import
job, a periodic run) is its own business; their heartbeats cover a worker that dies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import random
import socket
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from tamarind.core.resilience import DATABASE_ERRORS, Outage, describe

logger = logging.getLogger("tamarind.worker")


class ResilientWorker(Worker):
    """django-tasks-db's ``Worker`` whose loop survives database failures (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outage = Outage("worker", meanwhile="queued tasks wait until it is back", log=logger)
        # Tasks that ran but whose outcome could not be saved: (task id, what went wrong).
        self.unrecorded: list[tuple[str, str]] = []

    def claim_next(self) -> DBTaskResult | None:
        """Claim the next ready task in an exclusive transaction (as django-tasks-db does); None when none is."""
        close_old_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def record_unrecorded(self) -> None:
        """Mark failed the tasks whose outcome a database failure kept us from saving (still "running")."""
        while self.unrecorded:
            task_id, reason = self.unrecorded[0]
            now = timezone.now()
            DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="django.db.utils.OperationalError",
                traceback=f"The worker lost the database while saving this task's outcome: {reason}",
            )
            self.unrecorded.pop(0)

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` in short steps, so a shutdown signal is not kept waiting."""
        deadline = time.monotonic() + seconds
        while self.running and time.monotonic() < deadline:
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))

    def run(self) -> None:
        logger.info("worker %s: taking tasks from %s", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            # A few workers starting together do not poll in step.
            time.sleep(random.random())
        while self.running:
            try:
                self.record_unrecorded()
                task_result = self.claim_next()
            except DATABASE_ERRORS as exc:
                self.pause(self.outage.failed(exc))
                continue
            self.outage.recovered()
            if task_result is not None:
                try:
                    self.run_task(task_result)
                except DATABASE_ERRORS as exc:
                    # run_task records the outcome itself; this is the database failing while it did.
                    logger.warning("worker: task %s ran, but its outcome could not be saved", task_result.id)
                    self.unrecorded.append((str(task_result.id), describe(exc)))
                    self.pause(self.outage.failed(exc))
                    continue
            elif self.batch:
                logger.info("worker %s: nothing left to run; exiting.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info("worker %s: ran %d tasks; exiting.", self.worker_id, self._run_tasks)
                return
            with contextlib.suppress(*DATABASE_ERRORS):  # a broken connection is closed at the next pass anyway
                close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)


def run_db_worker(*, worker_id: str, interval: float, batch: bool, queues: list[str] | None = None) -> None:
    """Run the resilient database worker in this process until a signal stops it (or, with ``batch``, until the
    queue is empty). Signals as django-tasks-db's: the first SIGINT/SIGTERM finishes the task at hand."""
    worker = ResilientWorker(
        queue_names=queues or ["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=not batch,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    worker.configure_signals()
    worker.run()


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, as another user's process
    return False


def task_results_fail_lost(*, now: dt.datetime) -> int:
    """Fail the django-tasks-db task rows left "running" by a worker process of this machine that no longer exists
    (killed): the database backend has no lease of its own. Rows of workers on other machines are left to their
    machine's tick. Called by every scheduler tick (``scheduler.services.lost_work_fail``); returns how many."""
    if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
        return 0
    host = socket.gethostname()
    failed = 0
    for pk, worker_ids in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list("pk", "worker_ids"):
        last = str((worker_ids or [""])[-1])
        _, _, pid = last.rpartition(":")
        if not pid.isdigit() or f"{host}:{pid}"[:64] != last or not _process_gone(int(pid)):
            continue
        failed += DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path="tamarind.core.dbworker.WorkerLost",
            traceback=f"Worker lost: the process {last} that ran this task is gone (killed, or its machine restarted).",
        )
    return failed
