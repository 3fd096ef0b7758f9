"""Periodic work of the digital journey (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS = [
    PeriodicSpec(
        key="journeys.run",
        func="tamarind.journeys.services.journey_run_job",
        every=timedelta(days=1),
        description="Digital journey: queue every step due today (by days since each customer started), then deliver.",
    ),
    PeriodicSpec(
        key="journeys.deliver",
        func="tamarind.journeys.services.sends_deliver_job",
        every=timedelta(minutes=15),
        description="Digital journey: deliver queued sends whose attempt is due (retries with backoff).",
    ),
]
