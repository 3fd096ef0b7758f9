"""Periodic work of the assignment app (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS = [
    PeriodicSpec(
        key="assignment.evaluate_stale",
        func="tamarind.assignment.services.qualification_refresh_stale",
        every=timedelta(minutes=10),
        description="Evaluate accounts never evaluated, or last judged by an older rules version.",
    )
]
