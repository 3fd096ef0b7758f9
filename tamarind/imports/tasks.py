"""Background tasks of the imports app (django-tasks): thin wrappers around the services."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def run_import_job(job_id: int) -> dict[str, Any]:
    """Run one queued import job; the outcome is recorded on the job itself."""
    from tamarind.imports.services import import_job_run

    job = import_job_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "message": job.message}
