"""The scheduler loop ``tamarind worker`` runs beside the task worker: one tick every
``TAMARIND_SCHEDULER_TICK_SECONDS`` (60 by default) in a background thread of the worker process.

A tick that fails on the database (locked, restarting, refusing connections) is retried sooner, after a pause that
doubles up to the tick interval, its broken connection closed; the streak is logged once when it starts and once
when it ends (``tamarind.core.resilience.Outage``). A tick that fails otherwise (a bug) is logged with its traceback
and the loop carries on with the next one.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from tamarind.core.resilience import DATABASE_ERRORS, Outage, close_connections
from tamarind.scheduler.services import scheduler_tick

logger = logging.getLogger(__name__)


def tick_seconds() -> float:
    return float(getattr(settings, "TAMARIND_SCHEDULER_TICK_SECONDS", 60))


def tick_once(worker: str, *, outage: Outage | None = None) -> int:
    """One tick, its failure logged rather than raised; returns how many runs it queued.

    With ``outage``, a database failure counts in that streak (logged once per streak) instead of being logged
    with its traceback each time."""
    try:
        close_old_connections()
        runs = scheduler_tick(worker=worker)
    except DATABASE_ERRORS as exc:
        if outage is None:
            logger.exception("scheduler tick failed")
            close_connections()
        else:
            outage.failed(exc)
        return 0
    except Exception:
        logger.exception("scheduler tick failed")
        return 0
    if outage is not None:
        outage.recovered()
    if runs:
        logger.info("scheduler: queued %s", ", ".join(f"{run.job_id}/{run.pk}" for run in runs))
    return len(runs)


class SchedulerLoop(threading.Thread):
    """Ticks at once, then every ``interval`` seconds until ``stop()``. A daemon: it never holds the process up."""

    def __init__(self, *, worker: str, interval: float | None = None) -> None:
        super().__init__(name="tamarind-scheduler", daemon=True)
        self.worker = worker
        self.interval = tick_seconds() if interval is None else interval
        self.ticks = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        logger.info("scheduler: ticking every %ss as %s", self.interval, self.worker)
        outage = Outage(
            "scheduler",
            meanwhile="due jobs are claimed, and lost ones failed, at the first tick that reaches it",
            cap=self.interval,
            log=logger,
        )
        try:
            while not self._stop_event.is_set():
                tick_once(self.worker, outage=outage)
                self.ticks += 1
                # After a database failure the next try comes sooner (1, 2, 4, ... s, at most the interval).
                self._stop_event.wait(outage.delay() if outage.active else self.interval)
        finally:
            close_connections()  # this thread's own connection

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
