"""The scheduler loop ``tamarind worker`` runs beside the task worker: one tick every
``TAMARIND_SCHEDULER_TICK_SECONDS`` (60 by default) in a background thread of the worker process.

A tick that fails (the database restarting, say) is logged and the loop carries on with the next one.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from tamarind.scheduler.services import scheduler_tick

logger = logging.getLogger(__name__)


def tick_seconds() -> float:
    return float(getattr(settings, "TAMARIND_SCHEDULER_TICK_SECONDS", 60))


def tick_once(worker: str) -> int:
    """One tick, its failure logged rather than raised; returns how many runs it queued."""
    close_old_connections()
    try:
        runs = scheduler_tick(worker=worker)
    except Exception:
        logger.exception("scheduler tick failed")
        return 0
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
        try:
            while not self._stop_event.is_set():
                tick_once(self.worker)
                self.ticks += 1
                self._stop_event.wait(self.interval)
        finally:
            connection.close()  # this thread's own connection

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
