"""Heartbeats of long jobs: how the scheduler tells a job whose worker died from one that is only slow.

A job that runs in the background (an import, a periodic run, a health recompute) writes ``heartbeat_at`` on its
row while it works, every ``beat_seconds()``, from a ``Pulse``: a thread of the worker with its own database
connection, so the job's own long transaction neither hides the heartbeat from others nor holds it up on
PostgreSQL. A job whose heartbeat is older than the lease (``TAMARIND_JOB_LEASE_SECONDS``, 300 by default) has
lost its worker: the scheduler tick (and the next one to claim the same work) fails it with the reason and
releases what it held; its own transaction died with its worker, so nothing it half wrote is kept.

On SQLite the heartbeat waits behind other writers like any write, the job's own write transaction included: the
lease must stay well above the longest write transaction (seconds; see README, "The worker").

A ``Pulse`` started inside a transaction writes in it, synchronously, instead: another connection could not see
the job's uncommitted row, and if the process dies the transaction takes the row with it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tamarind.core.resilience import DATABASE_ERRORS, Outage, close_connections

logger = logging.getLogger("tamarind.heartbeat")

# Write is ``write(fields)``: set ``heartbeat_at`` (and any progress ``fields``) on the job's row while it runs.
Write = Callable[[dict[str, Any]], Any]


def process_name() -> str:
    """This process's name on the jobs it runs: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def lease() -> dt.timedelta:
    """How long a running job may go without a heartbeat before it counts as lost."""
    return dt.timedelta(seconds=float(getattr(settings, "TAMARIND_JOB_LEASE_SECONDS", 300)))


def beat_seconds() -> float:
    """Seconds between two heartbeats: a tenth of the lease, so a few missed beats are never a lost job."""
    return max(0.2, lease().total_seconds() / 10)


def lost_since(heartbeat: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether a job last heard from at ``heartbeat`` counts as lost ``now``."""
    return heartbeat is not None and heartbeat < (now or timezone.now()) - lease()


def lost_reason(heartbeat: dt.datetime | None, worker: str = "") -> str:
    """``Worker lost: no heartbeat since 2026-03-02 09:14:05 UTC (worker host:1234).``"""
    when = timezone.localtime(heartbeat).strftime("%Y-%m-%d %H:%M:%S %Z") if heartbeat else "it started"
    who = f" (worker {worker})" if worker else ""
    return f"Worker lost: no heartbeat since {when}{who}."


class Pulse:
    """``with Pulse(write, name=...) as pulse:`` keeps a job's heartbeat fresh while the block runs.

    ``pulse.update(**fields)`` hands progress (rows read, stage) to the next write: the thread writes it within
    ``min_gap`` seconds, together with the heartbeat. Database failures are retried at the next beat, logged once
    per streak. Inside a transaction (see the module docstring) it writes each ``update`` at once, in the
    transaction, and has no thread.
    """

    def __init__(self, write: Write, *, name: str, every: float | None = None, min_gap: float = 0.5) -> None:
        self.write = write
        self.name = name
        self.every = beat_seconds() if every is None else every
        self.min_gap = min_gap
        self.beats = 0
        self.inline = False
        self._pending: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Pulse:
        self.inline = connection.in_atomic_block
        if not self.inline:
            self._thread = threading.Thread(target=self._run, name=f"pulse {self.name}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            # A beat blocked behind SQLite's write lock ends on its own (its write checks the job still runs).
            self._thread.join(timeout=2)

    def update(self, **fields: Any) -> None:
        """Progress to write with the next heartbeat (at once, inside a transaction)."""
        if self.inline:
            self.write(fields)
            return
        with self._lock:
            self._pending.update(fields)
        self._wake.set()

    def _run(self) -> None:
        outage = Outage(f"heartbeat of {self.name}", meanwhile="the job goes on", log=logger)
        # Whoever claimed the job wrote its first heartbeat: a job shorter than a beat never opens a connection here.
        last = time.monotonic()
        try:
            while not self._stop.is_set():
                woken = self._wake.wait(timeout=max(0.0, last + self.every - time.monotonic()))
                if self._stop.is_set():
                    return
                if woken:  # progress: written at most every min_gap seconds
                    self._wake.clear()
                    gap = last + self.min_gap - time.monotonic()
                    if gap > 0 and self._stop.wait(gap):
                        return
                with self._lock:
                    fields, self._pending = self._pending, {}
                try:
                    self.write(fields)
                except DATABASE_ERRORS as exc:
                    with self._lock:
                        self._pending = {**fields, **self._pending}
                    outage.failed(exc)
                else:
                    outage.recovered()
                    self.beats += 1
                last = time.monotonic()
        finally:
            close_connections()
