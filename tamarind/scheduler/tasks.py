"""Background tasks of the scheduler (django-tasks): thin wrappers around the services."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def run_periodic_job(run_id: int) -> dict[str, Any]:
    """Run one queued periodic run; the outcome (duration, result, error) is recorded on the run itself."""
    from tamarind.scheduler.services import periodic_job_run

    run = periodic_job_run(run_id=run_id)
    return {"run": run.pk, "job": run.job.key, "status": run.status}
