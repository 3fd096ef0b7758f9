"""Scheduler API: admins read jobs and runs and run a job now; everyone else gets 403 on lists, 404 on objects."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.scheduler.models import JobRun, JobRunTrigger
from tamarind.scheduler.tests.test_views import make_runs

pytestmark = pytest.mark.django_db

BASE = "/api/v1/scheduler"


def test_job_list_and_detail(book, api_for, jobs):
    make_runs(jobs["tally"], 2)
    api = api_for(book.admin)
    listed = {j["key"]: j for j in api.get(f"{BASE}/jobs").json()}
    tally = listed["sampletests.tally"]
    assert tally["every_seconds"] == 3600 and tally["default_every_seconds"] == 3600 and tally["enabled"] is True
    assert tally["last_run"]["status"] == "succeeded" and tally["last_run"]["duration_seconds"] == 2.0
    assert listed["sampletests.explode"]["last_run"] is None
    detail = api.get(f"{BASE}/jobs/{jobs['tally'].pk}").json()
    assert detail["func"] == "tamarind.scheduler.tests.sample_jobs.tally" and detail["url"].startswith("/scheduler/")


def test_run_list_filters_and_detail(book, api_for, jobs):
    make_runs(jobs["tally"], 3)
    make_runs(jobs["explode"], 1)
    api = api_for(book.admin)
    assert len(api.get(f"{BASE}/runs").json()) == 4
    runs = api.get(f"{BASE}/runs", {"job": "sampletests.tally", "status": "failed"}).json()
    assert len(runs) == 1 and runs[0]["job"] == "sampletests.tally" and "RuntimeError: boom" in runs[0]["error"]
    assert len(api.get(f"{BASE}/runs", {"limit": 2}).json()) == 2
    one = api.get(f"{BASE}/runs/{runs[0]['id']}").json()
    assert one["duration_seconds"] == 2.0 and one["worker"] == "host:2" and one["trigger"] == "schedule"


@pytest.mark.parametrize(
    ("params", "status"),
    [({"status": "exploded"}, 422), ({"limit": 0}, 422), ({"limit": "many"}, 422), ({"job": "nope"}, 404)],
)
def test_run_list_bad_input_is_a_clear_4xx(book, api_for, params, status):
    response = api_for(book.admin).get(f"{BASE}/runs", params)
    assert response.status_code == status and response.json()["detail"]


def test_run_now(book, api_for, tally, django_capture_on_commit_callbacks):
    api = api_for(book.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}/jobs/{tally.pk}/run")
    assert response.status_code == 202
    body = response.json()
    assert body["trigger"] == "manual" and body["requested_by"] == book.admin.email
    run = JobRun.objects.get(pk=body["id"])
    assert run.status == "succeeded" and run.trigger == JobRunTrigger.MANUAL


def test_run_now_while_queued_is_422(book, api_for, tally, django_capture_on_commit_callbacks):
    api = api_for(book.admin)
    with django_capture_on_commit_callbacks(execute=False):
        assert api.post(f"{BASE}/jobs/{tally.pk}/run").status_code == 202
        response = api.post(f"{BASE}/jobs/{tally.pk}/run")
    assert response.status_code == 422 and "already has a run queued" in response.json()["detail"]


@pytest.mark.parametrize("role", ["director", "manager", "tam", "sal"])
def test_everyone_else_is_refused(book, api_for, tally, role):
    run = JobRun.objects.create(job=tally, scheduled_for=tally.next_due_at)
    api = api_for(getattr(book, role))
    assert api.get(f"{BASE}/jobs").status_code == 403
    assert api.get(f"{BASE}/runs").status_code == 403
    assert api.get(f"{BASE}/jobs/{tally.pk}").status_code == 404
    assert api.get(f"{BASE}/runs/{run.pk}").status_code == 404
    assert api.post(f"{BASE}/jobs/{tally.pk}/run").status_code == 404
    assert JobRun.objects.count() == 1


def test_anonymous_is_401(client, tally):
    assert client.get(f"{BASE}/jobs").status_code == 401
    assert client.post(f"{BASE}/jobs/{tally.pk}/run").status_code == 401


def test_unknown_ids_are_404(book, api_for):
    api = api_for(book.admin)
    assert api.get(f"{BASE}/jobs/999999").status_code == 404
    assert api.get(f"{BASE}/runs/999999").status_code == 404
    assert api.post(f"{BASE}/jobs/999999/run").status_code == 404


def test_query_counts_are_constant(book, api_for, jobs):
    api = api_for(book.admin)
    make_runs(jobs["tally"], 2)
    api.get(f"{BASE}/jobs")  # the token's first use records itself once
    with CaptureQueriesContext(connection) as small_jobs:
        api.get(f"{BASE}/jobs")
    with CaptureQueriesContext(connection) as small_runs:
        api.get(f"{BASE}/runs")
    make_runs(jobs["explode"], 80, start=10)
    with CaptureQueriesContext(connection) as large_jobs:
        api.get(f"{BASE}/jobs")
    with CaptureQueriesContext(connection) as large_runs:
        api.get(f"{BASE}/runs")
    assert len(large_jobs) == len(small_jobs) and len(large_runs) == len(small_runs)
