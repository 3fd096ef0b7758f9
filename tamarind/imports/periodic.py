"""Periodic work of the imports app (see ``tamarind.core.periodic``): none of its own, one reaper."""

from tamarind.core.periodic import PeriodicSpec

JOBS: list[PeriodicSpec] = []

# Called by every scheduler tick: fail import jobs whose worker is gone (no heartbeat for the lease).
REAPERS = ["tamarind.imports.services.import_jobs_fail_lost"]
