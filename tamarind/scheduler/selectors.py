"""Reads of the scheduler: gated fetches of jobs and runs, and their lists (admins only)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from tamarind import policy
from tamarind.people.models import User
from tamarind.scheduler.models import JobRun, JobRunQuerySet, JobRunStatus, PeriodicJob


def _pk(value: int | str, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None


def periodic_job_for_user(user: User, job_id: int | str) -> PeriodicJob:
    """The one permission-gated fetch of a periodic job: admins only; for everyone else it does not exist (404)."""
    pk = _pk(job_id, "periodic job")
    if not policy.can_view_scheduler(user):
        raise Http404("No such periodic job.")
    job = PeriodicJob.objects.select_related("last_run", "updated_by").filter(pk=pk).first()
    if job is None:
        raise Http404("No such periodic job.")
    return job


def job_run_for_user(user: User, run_id: int | str) -> JobRun:
    pk = _pk(run_id, "run")
    if not policy.can_view_scheduler(user):
        raise Http404("No such run.")
    run = JobRun.objects.select_related("job", "requested_by").filter(pk=pk).first()
    if run is None:
        raise Http404("No such run.")
    return run


def periodic_job_list(*, user: User) -> list[PeriodicJob]:
    """Every periodic job with its last run, by key. Admins only (403 for everyone else)."""
    if not policy.can_view_scheduler(user):
        raise PermissionDenied("Only admins see the scheduler.")
    return list(PeriodicJob.objects.for_list())


def job_run_list(*, user: User, job: PeriodicJob | None = None, status: str = "") -> JobRunQuerySet:
    """Runs newest first, optionally of one job and in one status. Admins only (403 for everyone else)."""
    if not policy.can_view_scheduler(user):
        raise PermissionDenied("Only admins see the scheduler.")
    runs = JobRun.objects.for_list()
    if job is not None:
        runs = runs.filter(job=job)
    if status:
        if status not in JobRunStatus.values:
            raise ValueError(f"unknown run status {status!r}")
        runs = runs.filter(status=status)
    return runs


def periodic_job_by_key(key: str) -> PeriodicJob | None:
    return PeriodicJob.objects.filter(key=key).first()
