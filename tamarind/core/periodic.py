"""Periodic work as data: what an app declares in ``tamarind/<app>/periodic.py``.

Each app with periodic work keeps ``JOBS: list[PeriodicSpec]`` in its ``periodic.py``. An app whose jobs run long
also lists ``REAPERS``: dotted paths of functions ``(*, now) -> int`` that every scheduler tick calls to fail that
app's running work whose heartbeat is older than the lease (its worker died; see ``core.heartbeat``), with the
reason, and release what it held; they return how many they failed. The scheduler app creates
one ``PeriodicJob`` row per spec that has none (after ``migrate`` and when a worker starts) and never overwrites the
interval or the enabled flag an admin has set on the row. Model-free on purpose: apps import this without
importing the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class PeriodicSpec:
    """One periodic job an app offers.

    ``func`` is the dotted path of a callable that takes no arguments and returns a JSON-able dict summary of
    what it did (stored on the run). ``every`` is the default interval; admins may change it on the job's row.
    """

    key: str  # "notifications.daily_digest": unique across the project, "<app>.<name>"
    func: str  # "tamarind.notifications.services.digest_send_due"
    every: timedelta
    description: str

    def __post_init__(self) -> None:
        if not self.key or "." not in self.key:
            raise ValueError(f"PeriodicSpec key must look like '<app>.<name>', not {self.key!r}")
        if "." not in self.func:
            raise ValueError(f"PeriodicSpec func must be a dotted path, not {self.func!r}")
        if self.every <= timedelta(0):
            raise ValueError(f"PeriodicSpec {self.key}: every must be positive")
