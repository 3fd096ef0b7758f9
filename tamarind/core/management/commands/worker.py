"""``tamarind worker``: the background worker. It runs the task queue of the configured backend (django-tasks-db's
``db_worker`` for ``database``, an RQ worker for ``rq``) and, in a thread of the same process, the scheduler tick
every ``TAMARIND_SCHEDULER_TICK_SECONDS``. Any number of workers may run: the tick claims each due slot once.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.scheduler.runner import SchedulerLoop, tick_once, tick_seconds
from tamarind.scheduler.services import periodic_jobs_sync, worker_id

DATABASE = "django_tasks_db.DatabaseBackend"
RQ = "django_tasks_rq.RQBackend"
IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"
RQ_JOB_CLASS = "django_tasks_rq.Job"


class Command(BaseCommand):
    help = (
        "Run the background worker: the task queue of the configured backend (database or RQ) and the scheduler "
        "tick beside it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls (database)")
        parser.add_argument(
            "--batch", action="store_true", help="tick once, run everything queued, then exit (RQ: burst mode)"
        )
        parser.add_argument("--no-scheduler", action="store_true", help="run tasks only, no scheduler tick")
        parser.add_argument(
            "--tick", type=float, default=None, help="seconds between scheduler ticks (TAMARIND_SCHEDULER_TICK_SECONDS)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        backend = str(settings.TASKS["default"]["BACKEND"])
        if backend not in (DATABASE, RQ, IMMEDIATE):
            raise CommandError(f"The task backend is {backend}; `tamarind worker` runs the database or RQ backend.")
        name = worker_id()
        scheduler = not opts["no_scheduler"]
        # Jobs an app added since the last migrate get their rows now (any worker may be the first to start).
        created = periodic_jobs_sync()
        if created:
            self.stdout.write(f"Registered periodic jobs: {', '.join(created)}")
        interval = opts["tick"] if opts["tick"] is not None else tick_seconds()
        if interval <= 0:
            raise CommandError("The scheduler tick interval must be a positive number of seconds.")
        loop: SchedulerLoop | None = None
        if scheduler and opts["batch"]:
            tick_once(name)  # queue what is due now, so the batch below runs it
        elif scheduler:
            loop = SchedulerLoop(worker=name, interval=interval)
            loop.start()
        try:
            if backend == DATABASE:
                extra = ["--no-reload", "--worker-id", name, *(["--batch"] if opts["batch"] else [])]
                call_command("db_worker", "--interval", str(opts["interval"]), *extra)
            elif backend == RQ:
                queues = [str(q) for q in settings.TASKS["default"].get("QUEUES") or ["default"]]  # type: ignore[attr-defined]
                # --with-scheduler: RQ's own scheduler moves tasks enqueued with run_after onto the queue when due.
                extra = ["--job-class", RQ_JOB_CLASS, "--with-scheduler", *(["--burst"] if opts["batch"] else [])]
                call_command("rqworker", *queues, *extra)
            elif not opts["batch"]:
                # The immediate backend runs tasks as they are enqueued: there is only the tick to keep alive.
                while loop is not None and loop.is_alive():
                    time.sleep(1)
        finally:
            if loop is not None:
                loop.stop()
