"""Periodic work of the signal evidence (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS = [
    PeriodicSpec(
        key="signals.record",
        func="tamarind.signals.services.signal_history_record_job",
        every=timedelta(hours=6),
        description="Record which early-warning indicators and health colors fire today (once a day), then "
        "refresh the outcomes from closed renewals and the ARR history.",
    )
]
