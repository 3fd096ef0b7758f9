"""Periodic work of stuck-customer triage (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS = [
    PeriodicSpec(
        key="stuck.sweep",
        func="tamarind.stuck.services.stuck_sweep_job",
        every=timedelta(days=1),
        description="Find stuck pooled customers: open cases with why, refresh reasons, stamp when they got unstuck.",
    )
]
