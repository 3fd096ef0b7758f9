"""The scheduler's rows of the permission matrix: admins only; lists answer 403 and objects 404 to everyone else."""

from __future__ import annotations

from typing import Any

from tamarind.scheduler.models import JobRun, PeriodicJob
from tamarind.scheduler.services import periodic_jobs_sync
from tamarind.scheduler.tests.sample_jobs import SPECS
from tamarind.testing.matrix import Row, only


def job(book: Any, t: dict[str, Any]) -> int:
    """The sample job ``sampletests.tally`` (registered on first use), stashed in ``t``."""
    if "sched_job" not in t:
        periodic_jobs_sync(specs=SPECS)
        t["sched_job"] = PeriodicJob.objects.get(key="sampletests.tally")
    return t["sched_job"].pk


def run(book: Any, t: dict[str, Any]) -> int:
    if "sched_run" not in t:
        t["sched_run"] = JobRun.objects.create(job_id=job(book, t), scheduled_for=t["sched_job"].next_due_at)
    return t["sched_run"].pk


ADMIN_LIST = only({"admin": 200}, 403)
ADMIN_OBJECT = only({"admin": 200}, 404)

ROWS: list[Row] = [
    Row("scheduler:jobs", "get", lambda b, t: "/scheduler/", ADMIN_LIST),
    Row("scheduler:runs", "get", lambda b, t: "/scheduler/runs/", ADMIN_LIST),
    Row("scheduler:job", "get", lambda b, t: f"/scheduler/{job(b, t)}/", ADMIN_OBJECT),
    Row(
        "scheduler:run_now", "post", lambda b, t: f"/scheduler/{job(b, t)}/run/", only({"admin": 302}, 404), json=False
    ),
    Row(
        "api:scheduler_job_list", "get", lambda b, t: "/api/v1/scheduler/jobs", only({"admin": 200}, 403, 401), api=True
    ),
    Row(
        "api:scheduler_job_detail",
        "get",
        lambda b, t: f"/api/v1/scheduler/jobs/{job(b, t)}",
        only({"admin": 200}, 404, 401),
        api=True,
    ),
    Row(
        "api:scheduler_job_run_now",
        "post",
        lambda b, t: f"/api/v1/scheduler/jobs/{job(b, t)}/run",
        only({"admin": 202}, 404, 401),
        api=True,
    ),
    Row(
        "api:scheduler_run_list", "get", lambda b, t: "/api/v1/scheduler/runs", only({"admin": 200}, 403, 401), api=True
    ),
    Row(
        "api:scheduler_run_detail",
        "get",
        lambda b, t: f"/api/v1/scheduler/runs/{run(b, t)}",
        only({"admin": 200}, 404, 401),
        api=True,
    ),
]
