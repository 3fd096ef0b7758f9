"""Work whose worker died: the scheduler tick fails it within the lease, with its reason, and releases what it held.

The rows here are what a worker killed in the middle leaves behind (``test_killed_worker.py`` kills a real one):
an import job "running" at 99%, a periodic run "running", a full health recompute "running" holding the recompute
lock, each with the heartbeat its worker last wrote.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.core.errors import ValidationFailed
from tamarind.core.heartbeat import lease
from tamarind.health.models import HealthLock, HealthRun, RunKind, RunStatus
from tamarind.imports.models import ImportJob, ImportStatus
from tamarind.scheduler.models import JobRun, JobRunStatus, JobRunTrigger, PeriodicJob
from tamarind.scheduler.services import periodic_job_run_now, periodic_jobs_sync, scheduler_tick
from tamarind.testing.browser import seed_defaults

pytestmark = pytest.mark.django_db

KILLED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # the last heartbeat the dead worker wrote
WORKER = "gone-host:4242"


@pytest.fixture
def left_behind(book):
    """What a worker SIGKILLed during an import and a full health recompute leaves in the database."""
    started = KILLED - dt.timedelta(minutes=3)
    job = ImportJob.objects.create(
        created_by=book.admin,
        file_name="crm.csv",
        stored_path="/nowhere/crm.csv",
        size=1000,
        status=ImportStatus.RUNNING,
        stage="writing",
        started_at=started,
        bytes_processed=999,
        rows_processed=5000,
        heartbeat_at=KILLED,
        worker=WORKER,
    )
    seed_defaults()  # what migrate seeds (the health model, the rules): a transactional test's flush may have taken it
    periodic_jobs_sync()
    health_job = PeriodicJob.objects.get(key="health.recompute_all")
    run = JobRun.objects.create(
        job=health_job,
        trigger=JobRunTrigger.MANUAL,
        requested_by=book.admin,
        status=JobRunStatus.RUNNING,
        scheduled_for=started,
        created_at=started,
        started_at=started,
        heartbeat_at=KILLED,
        worker=WORKER,
    )
    recompute = HealthRun.objects.create(kind=RunKind.FULL, source="scheduler", started_at=started, heartbeat_at=KILLED)
    HealthLock.objects.update_or_create(name="full", defaults={"holder": "dead", "locked_until": KILLED + lease()})
    assert job.percent == 99
    return {"job": job, "run": run, "recompute": recompute, "health_job": health_job}


def test_nothing_is_failed_while_its_heartbeat_is_within_the_lease(left_behind):
    scheduler_tick(now=KILLED + lease() - dt.timedelta(seconds=1))
    assert ImportJob.objects.get(pk=left_behind["job"].pk).status == ImportStatus.RUNNING
    assert JobRun.objects.get(pk=left_behind["run"].pk).status == JobRunStatus.RUNNING
    assert HealthRun.objects.get(pk=left_behind["recompute"].pk).status == RunStatus.RUNNING
    assert HealthLock.objects.get(name="full").holder == "dead"


def test_the_tick_fails_lost_work_within_the_lease_with_its_reason_and_releases_the_lock(left_behind):
    now = KILLED + lease() + dt.timedelta(seconds=1)
    scheduler_tick(now=now)
    since = timezone.localtime(KILLED).strftime("%Y-%m-%d %H:%M:%S %Z")

    job = ImportJob.objects.get(pk=left_behind["job"].pk)
    assert job.status == ImportStatus.FAILED
    assert job.message.startswith(f"Worker lost: no heartbeat since {since} (worker {WORKER}).")
    assert "nothing was imported" in job.message
    assert job.finished_at == now and job.stage == "" and job.percent == 100

    run = JobRun.objects.get(pk=left_behind["run"].pk)
    assert run.status == JobRunStatus.FAILED
    assert run.error == f"Worker lost: no heartbeat since {since} (worker {WORKER})."
    assert run.finished_at == now and run.is_finished

    recompute = HealthRun.objects.get(pk=left_behind["recompute"].pk)
    assert recompute.status == RunStatus.FAILED
    assert recompute.error.startswith(f"Worker lost: no heartbeat since {since}")
    assert recompute.finished_at == now

    lock = HealthLock.objects.get(name="full")
    assert lock.holder == "" and lock.locked_until is None


def test_run_now_waits_for_a_run_whose_worker_is_alive(left_behind, book):
    JobRun.objects.filter(pk=left_behind["run"].pk).update(heartbeat_at=timezone.now())
    with pytest.raises(ValidationFailed, match="already has a run running"):
        periodic_job_run_now(actor=book.admin, job=left_behind["health_job"])


def test_run_now_works_again_once_the_tick_failed_the_lost_run(left_behind, book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick(now=KILLED + lease() + dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        run = periodic_job_run_now(actor=book.admin, job=left_behind["health_job"])
    run.refresh_from_db()
    assert run.status == JobRunStatus.SUCCEEDED, run.error
    assert run.result["status"] == RunStatus.DONE  # the recompute took the lock: not skipped
    assert HealthRun.objects.filter(status=RunStatus.DONE, kind=RunKind.FULL).count() == 1


def test_run_now_itself_fails_a_lost_run_it_finds(left_behind, book):
    """The next claimant does not wait for the tick: Run now fails the lost run and queues its own."""
    run = periodic_job_run_now(actor=book.admin, job=left_behind["health_job"])
    assert run.status == JobRunStatus.QUEUED
    lost = JobRun.objects.get(pk=left_behind["run"].pk)
    assert lost.status == JobRunStatus.FAILED and lost.error.startswith("Worker lost")


def test_a_full_recompute_takes_over_a_lost_lock(left_behind):
    """The next full recompute fails the lost one and takes the lock (no hour-long lease to sit out)."""
    from tamarind.health.services import health_recompute_all

    out = health_recompute_all(source="test")
    assert out.status == RunStatus.DONE
    recompute = HealthRun.objects.get(pk=left_behind["recompute"].pk)
    assert recompute.status == RunStatus.FAILED and recompute.error.startswith("Worker lost")


def test_a_queued_run_nobody_picked_up_is_failed_after_an_hour(left_behind):
    created = KILLED - dt.timedelta(minutes=5)
    queued = JobRun.objects.create(
        job=left_behind["health_job"], scheduled_for=created, created_at=created, trigger=JobRunTrigger.MANUAL
    )
    scheduler_tick(now=created + dt.timedelta(minutes=59))
    assert JobRun.objects.get(pk=queued.pk).status == JobRunStatus.QUEUED
    scheduler_tick(now=created + dt.timedelta(hours=1, minutes=1))
    queued.refresh_from_db()
    assert queued.status == JobRunStatus.FAILED
    assert queued.error.startswith("Lost: still queued after 1 hour")
