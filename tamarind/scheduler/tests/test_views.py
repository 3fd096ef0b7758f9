"""Scheduler pages: the permission trio per route, behaviour, and query counts that do not grow with the runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.scheduler.models import JobRun, JobRunStatus, JobRunTrigger, PeriodicJob
from tamarind.scheduler.services import periodic_jobs_sync
from tamarind.scheduler.tests.conftest import T0
from tamarind.scheduler.tests.sample_jobs import SPECS

pytestmark = pytest.mark.django_db

JOBS = reverse("scheduler:jobs")
RUNS = reverse("scheduler:runs")


def job_url(job):
    return reverse("scheduler:job", args=[job.pk])


def run_now_url(job):
    return reverse("scheduler:run_now", args=[job.pk])


def make_runs(job, n, start=0):
    runs = [
        JobRun(
            job=job,
            scheduled_for=T0 + dt.timedelta(hours=start + i),
            status=JobRunStatus.FAILED if i % 3 == 0 else JobRunStatus.SUCCEEDED,
            started_at=T0,
            finished_at=T0 + dt.timedelta(seconds=2),
            duration=dt.timedelta(seconds=2),
            result=None if i % 3 == 0 else {"sent": i},
            error="Traceback ...\nRuntimeError: boom" if i % 3 == 0 else "",
            claimed_by="host:1",
            worker="host:2",
        )
        for i in range(n)
    ]
    JobRun.objects.bulk_create(runs)
    last = JobRun.objects.filter(job=job).order_by("-created_at", "-id").first()
    PeriodicJob.objects.filter(pk=job.pk).update(last_run=last)


def form_data(**overrides):
    data = {"every_value": "2", "every_unit": "hours", "enabled": "on", "next_due_at": ""}
    data.update(overrides)
    return data


# --- jobs list -------------------------------------------------------------------------------------------------


def test_jobs_list_shows_jobs_with_last_run_and_next_due(book, client_for, jobs):
    make_runs(jobs["explode"], 1)
    body = client_for(book.admin).get(JOBS).content.decode()
    assert "sampletests.tally" in body and "Counts its calls." in body
    assert "1 hour" in body and "1 day" in body and "never" in body
    assert "RuntimeError: boom" in body and "due now" in body


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("director", 403), ("manager", 403), ("tam", 403)])
def test_jobs_list_is_for_admins(book, client_for, jobs, role, status):
    assert client_for(getattr(book, role)).get(JOBS).status_code == status


def test_nav_shows_the_scheduler_to_admins_only(book, client_for):
    assert JOBS in client_for(book.admin).get(reverse("accounts:list")).content.decode()
    assert JOBS not in client_for(book.director).get(reverse("accounts:list")).content.decode()


def test_jobs_list_query_count_is_constant(book, client_for, jobs):
    c = client_for(book.admin)
    make_runs(jobs["tally"], 3)
    with CaptureQueriesContext(connection) as small:
        assert c.get(JOBS).status_code == 200
    tally = SPECS[0]
    periodic_jobs_sync(specs=[replace(tally, key=f"many.job{i}") for i in range(10)])
    for job in PeriodicJob.objects.filter(key__startswith="many."):
        make_runs(job, 4)
    with CaptureQueriesContext(connection) as large:
        assert c.get(JOBS).status_code == 200
    assert len(large) == len(small)


# --- one job: edit and run now -----------------------------------------------------------------------------------


def test_job_page_shows_the_form_and_recent_runs(book, client_for, tally):
    make_runs(tally, 4)
    response = client_for(book.admin).get(job_url(tally))
    body = response.content.decode()
    assert response.status_code == 200
    assert "tamarind.scheduler.tests.sample_jobs.tally" in body and 'name="every_value"' in body
    assert body.count('data-run="') == 4 and "sent: 1" in body


def test_edit_interval_and_enabled(book, client_for, tally):
    response = client_for(book.admin).post(job_url(tally), form_data(every_value="3", every_unit="days", enabled=""))
    assert response.status_code == 302
    tally.refresh_from_db()
    assert (tally.every, tally.enabled, tally.updated_by) == (dt.timedelta(days=3), False, book.admin)
    assert AuditEvent.objects.for_object("scheduler.periodicjob", tally.pk).count() == 1


def test_edit_the_next_run(book, client_for, tally):
    client_for(book.admin).post(
        job_url(tally), form_data(every_value="1", every_unit="hours", next_due_at="2031-05-06T07:00")
    )
    tally.refresh_from_db()
    assert tally.next_due_at == dt.datetime(2031, 5, 6, 7, 0, tzinfo=dt.UTC)


def test_saving_the_form_unchanged_changes_nothing(book, client_for, tally):
    PeriodicJob.objects.filter(pk=tally.pk).update(next_due_at=T0 + dt.timedelta(seconds=17, microseconds=5))
    tally.refresh_from_db()
    shown = timezone.localtime(tally.next_due_at).strftime("%Y-%m-%dT%H:%M")
    response = client_for(book.admin).post(job_url(tally), form_data(every_value="1", next_due_at=shown))
    assert response.status_code == 302
    tally.refresh_from_db()
    assert tally.next_due_at == T0 + dt.timedelta(seconds=17, microseconds=5)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"every_value": "0"}, "greater than or equal to 1"),
        ({"every_value": "lots"}, "Enter a whole number"),
        ({"every_unit": "fortnights"}, "Select a valid choice"),
        ({"every_value": "400", "every_unit": "days"}, "between one minute and 366 days"),
        ({"next_due_at": "soon"}, "Enter a valid date/time"),
    ],
)
def test_bad_input_is_a_400_with_the_reason(book, client_for, tally, data, message):
    response = client_for(book.admin).post(job_url(tally), form_data(**data))
    assert response.status_code == 400 and message in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("director", 404), ("manager", 404), ("other_tam", 404)])
def test_job_page_trio(book, client_for, tally, role, status):
    c = client_for(getattr(book, role))
    assert c.get(job_url(tally)).status_code == status
    response = c.post(job_url(tally), form_data(enabled=""))
    assert response.status_code == (302 if role == "admin" else 404)


def test_unknown_job_is_404(book, client_for):
    assert client_for(book.admin).get(reverse("scheduler:job", args=[999_999])).status_code == 404


def test_run_now(book, client_for, tally, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(book.admin).post(run_now_url(tally), {"next": JOBS})
    assert response.status_code == 302 and response["Location"] == JOBS
    run = JobRun.objects.get(job=tally)
    assert (run.trigger, run.status, run.requested_by) == (JobRunTrigger.MANUAL, JobRunStatus.SUCCEEDED, book.admin)


def test_run_now_twice_says_why_not(book, client_for, tally, django_capture_on_commit_callbacks):
    c = client_for(book.admin)
    with django_capture_on_commit_callbacks(execute=False):
        c.post(run_now_url(tally))
        response = c.post(run_now_url(tally), follow=True)
    assert "already has a run queued" in response.content.decode()
    assert JobRun.objects.count() == 1


def test_run_now_ignores_a_foreign_next(book, client_for, tally, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(book.admin).post(run_now_url(tally), {"next": "https://evil.example/"})
    assert response["Location"] == job_url(tally)


@pytest.mark.parametrize("role", ["director", "manager", "tam", "sa"])
def test_run_now_is_404_for_everyone_else(book, client_for, tally, role):
    assert client_for(getattr(book, role)).post(run_now_url(tally)).status_code == 404
    assert client_for(getattr(book, role)).get(run_now_url(tally)).status_code in (404, 405)
    assert not JobRun.objects.exists()


def test_job_page_query_count_is_constant(book, client_for, tally):
    c = client_for(book.admin)
    make_runs(tally, 2)
    with CaptureQueriesContext(connection) as small:
        assert c.get(job_url(tally)).status_code == 200
    make_runs(tally, 60, start=100)
    with CaptureQueriesContext(connection) as large:
        assert c.get(job_url(tally)).status_code == 200
    assert len(large) == len(small)


# --- runs ----------------------------------------------------------------------------------------------------------


def test_runs_list_filters_by_job_and_status(book, client_for, jobs):
    make_runs(jobs["tally"], 3)
    make_runs(jobs["explode"], 2)
    c = client_for(book.admin)
    body = c.get(RUNS).content.decode()
    assert body.count('data-run="') == 5
    body = c.get(RUNS, {"job": "sampletests.explode"}).content.decode()
    assert body.count('data-run="') == 2
    body = c.get(RUNS, {"status": "failed"}).content.decode()
    assert body.count('data-status="failed"') == 2 and 'data-status="succeeded"' not in body


def test_runs_list_reports_bad_filters_without_failing(book, client_for, jobs):
    make_runs(jobs["tally"], 2)
    response = client_for(book.admin).get(RUNS, {"job": "nope", "status": "exploded"})
    body = response.content.decode()
    assert response.status_code == 200 and body.count('data-run="') == 2
    assert "There is no periodic job" in body and "is not a run status" in body


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("director", 403), ("other_manager", 403)])
def test_runs_list_trio(book, client_for, role, status):
    assert client_for(getattr(book, role)).get(RUNS).status_code == status


def test_runs_list_query_count_is_constant(book, client_for, jobs):
    c = client_for(book.admin)
    make_runs(jobs["tally"], 3)
    with CaptureQueriesContext(connection) as small:
        assert c.get(RUNS).status_code == 200
    make_runs(jobs["explode"], 120, start=10)
    with CaptureQueriesContext(connection) as large:
        assert c.get(RUNS).status_code == 200
    assert len(large) == len(small)
