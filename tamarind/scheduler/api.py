"""REST routes of the scheduler under ``/api/v1/scheduler/`` (admins only; auth and error bodies: ``core.api``).

Non-admins get 403 on the lists and 404 for any job or run id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.core.schemas import ErrorOut, Id, Offset, QuerySchema
from tamarind.scheduler import selectors, services
from tamarind.scheduler.models import JobRun, JobRunStatus, JobRunTrigger, PeriodicJob

router = Router(tags=["Scheduler"])


class RunOut(Schema):
    """One run of a periodic job: the slot it was for, who ran it, how long it took and how it ended."""

    id: int
    job: str = Field(..., description="The job's key.")
    status: JobRunStatus
    trigger: JobRunTrigger
    requested_by: str | None = Field(None, description="Email of the admin who asked for it (Run now).")
    scheduled_for: dt.datetime = Field(..., description="The due time the tick claimed (Run now: when asked).")
    claimed_by: str
    worker: str = Field(..., description="The worker process that ran it.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_seconds: float | None
    result: dict[str, Any] | None = Field(None, description="The summary the job returned.")
    error: str = Field(..., description="The traceback of a failed run.")

    @staticmethod
    def resolve_job(obj: JobRun) -> str:
        return obj.job.key

    @staticmethod
    def resolve_requested_by(obj: JobRun) -> str | None:
        return obj.requested_by.email if obj.requested_by else None

    @staticmethod
    def resolve_duration_seconds(obj: JobRun) -> float | None:
        return round(obj.duration.total_seconds(), 3) if obj.duration is not None else None


class LastRunOut(Schema):
    id: int
    status: JobRunStatus
    created_at: dt.datetime
    finished_at: dt.datetime | None
    duration_seconds: float | None

    @staticmethod
    def resolve_duration_seconds(obj: JobRun) -> float | None:
        return round(obj.duration.total_seconds(), 3) if obj.duration is not None else None


class JobOut(Schema):
    """A periodic job: what it calls, how often, whether it is on, when it is next due, how it last went."""

    id: int
    key: str
    description: str
    func: str
    every_seconds: int
    default_every_seconds: int = Field(..., description="The interval the code suggests.")
    enabled: bool
    next_due_at: dt.datetime
    last_run: LastRunOut | None
    url: str = Field(..., description="The job's page in the web UI.")

    @staticmethod
    def resolve_every_seconds(obj: PeriodicJob) -> int:
        return int(obj.every.total_seconds())

    @staticmethod
    def resolve_default_every_seconds(obj: PeriodicJob) -> int:
        return int(obj.default_every.total_seconds())

    @staticmethod
    def resolve_url(obj: PeriodicJob) -> str:
        return reverse("scheduler:job", args=[obj.pk])


class RunQuery(QuerySchema):
    job: str | None = Field(None, description="Only runs of the job with this key.")
    status: JobRunStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


@router.get("/jobs", response={200: list[JobOut], 403: ErrorOut}, summary="List periodic jobs")
def scheduler_job_list(request: HttpRequest) -> list[PeriodicJob]:
    return selectors.periodic_job_list(user=request.user)  # type: ignore[arg-type]


@router.get("/jobs/{job_id}", response={200: JobOut, 404: ErrorOut}, summary="A periodic job")
def scheduler_job_detail(request: HttpRequest, job_id: Id) -> PeriodicJob:
    return selectors.periodic_job_for_user(request.user, job_id)  # type: ignore[arg-type]


@router.post(
    "/jobs/{job_id}/run",
    response={202: RunOut, 404: ErrorOut, 422: ErrorOut},
    summary="Run a periodic job now",
)
def scheduler_job_run_now(request: HttpRequest, job_id: Id) -> Status:
    """Queue a run at once (enabled or not). 422 while another run of the job is queued or running."""
    job = selectors.periodic_job_for_user(request.user, job_id)  # type: ignore[arg-type]
    run = services.periodic_job_run_now(actor=request.user, job=job, source="api")  # type: ignore[arg-type]
    return Status(202, selectors.job_run_for_user(request.user, run.pk))  # type: ignore[arg-type]


@router.get("/runs", response={200: list[RunOut], 403: ErrorOut, 404: ErrorOut}, summary="List runs, newest first")
def scheduler_run_list(request: HttpRequest, params: Query[RunQuery]) -> list[JobRun]:
    if not policy.can_view_scheduler(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("Only admins see the scheduler.")
    job = None
    if params.job:
        job = selectors.periodic_job_by_key(params.job)
        if job is None:
            raise Http404(f"No periodic job {params.job!r}.")
    runs = selectors.job_run_list(user=request.user, job=job, status=params.status or "")  # type: ignore[arg-type]
    return list(runs[params.offset : params.offset + params.limit])


@router.get("/runs/{run_id}", response={200: RunOut, 404: ErrorOut}, summary="A run")
def scheduler_run_detail(request: HttpRequest, run_id: Id) -> JobRun:
    return selectors.job_run_for_user(request.user, run_id)  # type: ignore[arg-type]
