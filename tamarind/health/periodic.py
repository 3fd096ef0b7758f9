"""Periodic work of the health app (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS = [
    PeriodicSpec(
        key="health.recompute_all",
        func="tamarind.health.services.health_recompute_all_job",
        every=timedelta(hours=1),
        description="Rescore every account with the live health model (one full run at a time); "
        "stale sentiments raise health review tasks.",
    )
]

# Called by every scheduler tick: fail recomputes whose worker is gone and free the lock they held.
REAPERS = ["tamarind.health.services.health_runs_fail_lost"]
