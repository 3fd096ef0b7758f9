"""``tamarind worker``: the background worker. It runs the task queue of the configured backend (a resilient
django-tasks-db loop for ``database``, an RQ worker for ``rq``) and, in a thread of the same process, the scheduler
tick every ``TAMARIND_SCHEDULER_TICK_SECONDS``. Any number of workers may run: the tick claims each due slot once.

The worker outlives a database that is locked or gone for a while (it retries with a growing pause and logs the
outage once, see ``tamarind.core.resilience``); ``--supervise`` runs it under a supervisor that starts a new one
whenever it ends anyway (``tamarind.core.supervisor``), which is how ``make run`` starts it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.core.resilience import DATABASE_ERRORS, Outage
from tamarind.scheduler.runner import SchedulerLoop, tick_once, tick_seconds
from tamarind.scheduler.services import periodic_jobs_sync, worker_id

DATABASE = "django_tasks_db.DatabaseBackend"
RQ = "django_tasks_rq.RQBackend"
IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"
RQ_JOB_CLASS = "django_tasks_rq.Job"

logger = logging.getLogger("tamarind.worker")


def register_jobs() -> list[str]:
    """``periodic_jobs_sync`` at start-up, retried (with the outage logged once) until the database answers."""
    outage = Outage("worker", meanwhile="the worker starts once it answers", log=logger)
    while True:
        try:
            created = periodic_jobs_sync()
        except DATABASE_ERRORS as exc:
            time.sleep(outage.failed(exc))
            continue
        outage.recovered()
        return created


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
        parser.add_argument(
            "--supervise",
            action="store_true",
            help="run the worker in a child process and start a new one whenever it ends (what `make run` does)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        backend = str(settings.TASKS["default"]["BACKEND"])
        if backend not in (DATABASE, RQ, IMMEDIATE):
            raise CommandError(f"The task backend is {backend}; `tamarind worker` runs the database or RQ backend.")
        interval = opts["tick"] if opts["tick"] is not None else tick_seconds()
        if interval <= 0:
            raise CommandError("The scheduler tick interval must be a positive number of seconds.")
        if opts["supervise"]:
            if opts["batch"]:
                raise CommandError("--supervise keeps a worker running; it does not go with --batch.")
            from tamarind.core.supervisor import supervise

            forwarded = ["--interval", str(opts["interval"]), "--tick", str(interval)]
            if opts["no_scheduler"]:
                forwarded.append("--no-scheduler")
            supervise(forwarded)
            return
        name = worker_id()
        scheduler = not opts["no_scheduler"]
        # Jobs an app added since the last migrate get their rows now (any worker may be the first to start).
        created = register_jobs()
        if created:
            self.stdout.write(f"Registered periodic jobs: {', '.join(created)}")
        loop: SchedulerLoop | None = None
        if scheduler and opts["batch"]:
            tick_once(name)  # queue what is due now, so the batch below runs it
        elif scheduler:
            loop = SchedulerLoop(worker=name, interval=interval)
            loop.start()
        try:
            if backend == DATABASE:
                from tamarind.core.dbworker import run_db_worker

                run_db_worker(worker_id=name, interval=opts["interval"], batch=opts["batch"])
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
