"""Periodic work of the success app (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS = [
    PeriodicSpec(
        key="success.recompute_all",
        func="tamarind.success.services.success_daily_job",
        every=timedelta(days=1),
        description="Recompute every success plan's color with the live settings (inactivity grows by the day), "
        "raise or close the success-plan tasks and open the EBR tasks that are due. Queued at once when an admin "
        "saves new success settings.",
    )
]
