"""Test-only periodic jobs: what the scheduler's tests register and run (no app has real ones they could rely on)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

from tamarind.core.periodic import PeriodicSpec

CALLS: list[str] = []
_lock = threading.Lock()


def tally() -> dict[str, Any]:
    """A well-behaved job: counts its calls and returns a summary with values JSON does not know natively."""
    with _lock:
        CALLS.append("tally")
        n = len(CALLS)
    return {"calls": n, "on": dt.date(2026, 1, 2), "amount": Decimal("1.50")}


def explode() -> dict[str, Any]:
    CALLS.append("explode")
    raise RuntimeError("the mail server said no")


def not_a_dict() -> list[int]:
    return [1, 2, 3]


SPECS = [
    PeriodicSpec(
        key="sampletests.tally",
        func="tamarind.scheduler.tests.sample_jobs.tally",
        every=dt.timedelta(hours=1),
        description="Counts its calls.",
    ),
    PeriodicSpec(
        key="sampletests.explode",
        func="tamarind.scheduler.tests.sample_jobs.explode",
        every=dt.timedelta(days=1),
        description="Always fails.",
    ),
]
