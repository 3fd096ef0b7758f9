"""The scheduler's services: registering jobs, the tick, running and recording runs, the admin's edits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.core.periodic import PeriodicSpec
from tamarind.scheduler import services
from tamarind.scheduler.models import JobRun, JobRunStatus, JobRunTrigger, PeriodicJob
from tamarind.scheduler.services import next_slot, periodic_jobs_sync, scheduler_tick
from tamarind.scheduler.tests import sample_jobs
from tamarind.scheduler.tests.conftest import T0

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


# --- the spec ----------------------------------------------------------------------------------------------------


def test_spec_refuses_nonsense():
    with pytest.raises(ValueError, match=r"<app>\.<name>"):
        PeriodicSpec(key="nodot", func="a.b", every=HOUR, description="")
    with pytest.raises(ValueError, match="dotted path"):
        PeriodicSpec(key="a.b", func="nodots", every=HOUR, description="")
    with pytest.raises(ValueError, match="positive"):
        PeriodicSpec(key="a.b", func="a.b", every=dt.timedelta(0), description="")


# --- sync -------------------------------------------------------------------------------------------------------


def test_sync_creates_missing_jobs_due_at_once(jobs):
    tally = jobs["tally"]
    assert (tally.func, tally.every, tally.default_every, tally.enabled) == (
        "tamarind.scheduler.tests.sample_jobs.tally",
        HOUR,
        HOUR,
        True,
    )
    assert tally.next_due_at == T0 and tally.last_run is None
    assert periodic_jobs_sync(specs=sample_jobs.SPECS, now=T0 + HOUR) == []  # nothing new the second time
    assert PeriodicJob.objects.filter(key__startswith="sampletests.").count() == 2


def test_sync_never_overwrites_admin_edits_but_follows_the_code(book, tally):
    services.periodic_job_update(
        actor=book.admin, job=tally, every=dt.timedelta(minutes=5), enabled=False, next_due_at=T0 + 3 * HOUR
    )
    changed = PeriodicSpec(
        key="sampletests.tally",
        func="tamarind.scheduler.tests.sample_jobs.not_a_dict",
        every=dt.timedelta(days=2),
        description="Now says something else.",
    )
    assert periodic_jobs_sync(specs=[changed], now=T0 + 10 * HOUR) == []
    tally.refresh_from_db()
    # The admin's fields stay as the admin left them ...
    assert (tally.every, tally.enabled, tally.next_due_at) == (dt.timedelta(minutes=5), False, T0 + 3 * HOUR)
    # ... the code's follow the code.
    assert tally.func.endswith("not_a_dict") and tally.description == "Now says something else."
    assert tally.default_every == dt.timedelta(days=2)


def test_sync_refuses_an_interval_the_tick_cannot_keep(db):
    fast = PeriodicSpec(key="x.fast", func="a.b", every=dt.timedelta(seconds=5), description="")
    with pytest.raises(ImproperlyConfigured, match="between"):
        periodic_jobs_sync(specs=[fast])


def test_sync_finds_the_apps_periodic_modules(monkeypatch, db):
    """Without ``specs`` it reads every installed app's ``periodic.py`` (a fake one here)."""
    import sys
    import types

    from django.apps import apps

    module = types.ModuleType("tamarind.dashboards.periodic")
    module.JOBS = [PeriodicSpec(key="dashboards.refresh", func="a.b", every=HOUR, description="d")]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tamarind.dashboards.periodic", module)
    assert apps.is_installed("tamarind.dashboards")
    keys = {spec.key for spec in services.periodic_specs()}
    assert "dashboards.refresh" in keys
    periodic_jobs_sync()
    assert PeriodicJob.objects.filter(key="dashboards.refresh").exists()
    duplicate = types.ModuleType("tamarind.onboarding.periodic")
    duplicate.JOBS = module.JOBS  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tamarind.onboarding.periodic", duplicate)
    with pytest.raises(ImproperlyConfigured, match=r"dashboards\.refresh"):
        services.periodic_specs()


def test_post_migrate_registers_the_jobs(monkeypatch, db):
    """``migrate`` (here: its post_migrate signal) runs the sync."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    calls = []
    monkeypatch.setattr(services, "periodic_jobs_sync", lambda **kw: calls.append(kw) or [])
    config = apps.get_app_config("scheduler")
    post_migrate.send(sender=config, app_config=config, verbosity=0, interactive=False, using="default", apps=apps)
    assert calls == [{}]


# --- the tick ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0, T0 + HOUR),  # due exactly now: the next slot
        (T0 + dt.timedelta(minutes=59), T0 + HOUR),
        (T0 + HOUR, T0 + 2 * HOUR),
        (T0 + dt.timedelta(hours=5, minutes=30), T0 + 6 * HOUR),  # missed slots are skipped, the phase kept
        (T0 - dt.timedelta(minutes=1), T0),  # not due yet: unchanged
    ],
)
def test_next_slot(now, expected):
    assert next_slot(T0, HOUR, now) == expected


def test_tick_claims_a_due_slot_once(tally, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        runs = scheduler_tick(now=T0 + dt.timedelta(seconds=30), worker="w1")
    assert [r.job_id for r in runs if r.job_id == tally.pk] == [tally.pk]
    run = JobRun.objects.get(job=tally)
    assert (run.scheduled_for, run.claimed_by, run.trigger) == (T0, "w1", JobRunTrigger.SCHEDULE)
    tally.refresh_from_db()
    assert tally.next_due_at == T0 + HOUR and tally.last_run_id == run.pk
    # The same moment again, by another worker: nothing is due any more.
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduler_tick(now=T0 + dt.timedelta(seconds=40), worker="w2") == []
    assert JobRun.objects.filter(job=tally).count() == 1
    assert sample_jobs.CALLS.count("tally") == 1
    # The next slot is claimed when it comes.
    with django_capture_on_commit_callbacks(execute=True):
        runs = scheduler_tick(now=T0 + HOUR, worker="w2")
    assert {r.job_id for r in runs} == {tally.pk}
    assert sample_jobs.CALLS.count("tally") == 2


def test_the_tick_fails_runs_whose_worker_was_lost(tally, django_capture_on_commit_callbacks):
    lost = JobRun.objects.create(
        job=tally, scheduled_for=T0 - 2 * HOUR, claimed_by="w0", created_at=T0 - 2 * HOUR, status=JobRunStatus.RUNNING
    )
    recent = JobRun.objects.create(job=tally, scheduled_for=T0 - HOUR, claimed_by="w0", created_at=T0 - HOUR / 2)
    scheduler_tick(now=T0 - dt.timedelta(seconds=1))  # nothing due: the sweep still runs
    lost.refresh_from_db()
    recent.refresh_from_db()
    # Its worker never wrote a heartbeat (a run from before heartbeats): the last sign of life is when it was queued.
    assert lost.status == JobRunStatus.FAILED
    assert lost.error.startswith("Worker lost: no heartbeat since 2026-03-02 07:00:00")
    assert lost.finished_at == T0 - dt.timedelta(seconds=1)
    assert recent.status == JobRunStatus.QUEUED
    # A lost run no longer blocks the schedule, and running it late records its own end.
    done = services.periodic_job_run(run_id=recent.pk)
    assert done.status == JobRunStatus.SUCCEEDED


def test_tick_does_nothing_before_a_job_is_due(tally):
    assert scheduler_tick(now=T0 - dt.timedelta(seconds=1)) == []
    assert not JobRun.objects.exists()


def test_disabled_jobs_are_skipped(book, jobs, django_capture_on_commit_callbacks):
    services.periodic_job_update(actor=book.admin, job=jobs["explode"], enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        runs = scheduler_tick(now=T0 + HOUR)
    assert [r.job_id for r in runs] == [jobs["tally"].pk]
    assert not JobRun.objects.filter(job=jobs["explode"]).exists()
    jobs["explode"].refresh_from_db()
    assert jobs["explode"].next_due_at == T0  # untouched while off


def test_a_stale_compare_and_swap_claims_nothing(tally):
    """What a second worker sees when another moved the slot between its read and its update."""
    PeriodicJob.objects.filter(pk=tally.pk).update(next_due_at=T0 + HOUR)  # the other worker's claim
    claimed = PeriodicJob.objects.filter(pk=tally.pk, enabled=True, next_due_at=T0).update(next_due_at=T0 + HOUR)
    assert claimed == 0


def test_the_database_refuses_a_second_run_for_the_same_slot(tally):
    JobRun.objects.create(job=tally, scheduled_for=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        JobRun.objects.create(job=tally, scheduled_for=T0)
    # Run now may share a time with a slot: only scheduled runs are one per slot.
    JobRun.objects.create(job=tally, scheduled_for=T0, trigger=JobRunTrigger.MANUAL)


def test_runs_are_enqueued_only_after_the_tick_commits(tally, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        scheduler_tick(now=T0)
    assert sample_jobs.CALLS == [] and len(callbacks) == 2
    assert set(JobRun.objects.values_list("status", flat=True)) == {JobRunStatus.QUEUED}


def test_a_backend_that_refuses_the_task_fails_the_run(tally, monkeypatch, django_capture_on_commit_callbacks):
    from tamarind.scheduler import tasks

    class Refusing:
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(tasks, "run_periodic_job", Refusing())
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick(now=T0)
    run = JobRun.objects.get(job=tally)
    assert run.status == JobRunStatus.FAILED and "Redis is down" in run.error


# --- running and recording ----------------------------------------------------------------------------------------


def test_a_run_records_duration_and_result(tally, django_capture_on_commit_callbacks):
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick(now=T0)
    run = JobRun.objects.get(job=tally)
    assert run.status == JobRunStatus.SUCCEEDED
    assert run.result == {"calls": 1, "on": "2026-01-02", "amount": "1.50"}
    assert run.error == "" and run.worker
    assert run.duration is not None and dt.timedelta(0) <= run.duration < dt.timedelta(seconds=5)
    assert before <= run.started_at <= run.finished_at <= timezone.now()


def test_a_failing_run_records_the_error(jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick(now=T0)
    run = JobRun.objects.get(job=jobs["explode"])
    assert run.status == JobRunStatus.FAILED and run.result is None
    assert "Traceback" in run.error and run.error_summary == "RuntimeError: the mail server said no"
    assert run.duration is not None and run.finished_at is not None
    # The other job of the same tick ran regardless.
    assert JobRun.objects.get(job=jobs["tally"]).status == JobRunStatus.SUCCEEDED


def test_a_job_whose_function_is_gone_fails_cleanly(tally):
    PeriodicJob.objects.filter(pk=tally.pk).update(func="tamarind.scheduler.tests.sample_jobs.nowhere")
    run = JobRun.objects.create(job=tally, scheduled_for=T0)
    run = services.periodic_job_run(run_id=run.pk)
    assert run.status == JobRunStatus.FAILED and "nowhere" in run.error


def test_a_result_that_is_not_a_dict_is_wrapped(tally):
    PeriodicJob.objects.filter(pk=tally.pk).update(func="tamarind.scheduler.tests.sample_jobs.not_a_dict")
    run = services.periodic_job_run(run_id=JobRun.objects.create(job=tally, scheduled_for=T0).pk)
    assert run.status == JobRunStatus.SUCCEEDED and run.result == {"value": [1, 2, 3]}


def test_a_run_delivered_twice_runs_once(tally):
    run = JobRun.objects.create(job=tally, scheduled_for=T0)
    services.periodic_job_run(run_id=run.pk, worker="a")
    again = services.periodic_job_run(run_id=run.pk, worker="b")
    assert sample_jobs.CALLS == ["tally"] and again.worker == "a"


def test_the_task_is_a_thin_wrapper(tally):
    from tamarind.scheduler.tasks import run_periodic_job

    run = JobRun.objects.create(job=tally, scheduled_for=T0)
    result = run_periodic_job.enqueue(run.pk)
    assert result.return_value == {"run": run.pk, "job": "sampletests.tally", "status": "succeeded"}


# --- what admins do ------------------------------------------------------------------------------------------------


def test_update_changes_the_schedule_and_audits_it(book, tally):
    changed = services.periodic_job_update(actor=book.admin, job=tally, every=dt.timedelta(days=1), enabled=False)
    assert changed == ["every", "enabled"]
    tally.refresh_from_db()
    assert (tally.every, tally.enabled, tally.updated_by) == (dt.timedelta(days=1), False, book.admin)
    event = AuditEvent.objects.for_object("scheduler.periodicjob", tally.pk).get()
    assert event.before == {"every": 3600, "enabled": True} and event.after == {"every": 86400, "enabled": False}
    assert services.periodic_job_update(actor=book.admin, job=tally, every=dt.timedelta(days=1)) == []


def test_a_shorter_interval_brings_the_next_run_forward(book, tally):
    PeriodicJob.objects.filter(pk=tally.pk).update(next_due_at=timezone.now() + dt.timedelta(days=1))
    tally.refresh_from_db()
    services.periodic_job_update(actor=book.admin, job=tally, every=dt.timedelta(minutes=10))
    tally.refresh_from_db()
    assert tally.next_due_at <= timezone.now() + dt.timedelta(minutes=10)


@pytest.mark.parametrize("every", [dt.timedelta(seconds=30), dt.timedelta(days=400)])
def test_update_refuses_intervals_out_of_range(book, tally, every):
    with pytest.raises(ValidationFailed, match="between one minute and 366 days"):
        services.periodic_job_update(actor=book.admin, job=tally, every=every)


@pytest.mark.parametrize("role", ["director", "manager", "tam", "sal"])
def test_only_admins_manage_jobs(book, tally, role):
    with pytest.raises(PermissionDenied):
        services.periodic_job_update(actor=getattr(book, role), job=tally, enabled=False)
    with pytest.raises(PermissionDenied):
        services.periodic_job_run_now(actor=getattr(book, role), job=tally)
    assert not AuditEvent.objects.filter(object_type__startswith="scheduler.").exists()


def test_run_now_runs_a_disabled_job_and_keeps_the_schedule(book, tally, django_capture_on_commit_callbacks):
    services.periodic_job_update(actor=book.admin, job=tally, enabled=False)
    tally.refresh_from_db()
    due = tally.next_due_at
    with django_capture_on_commit_callbacks(execute=True):
        run = services.periodic_job_run_now(actor=book.admin, job=tally)
    run.refresh_from_db()
    assert (run.status, run.trigger, run.requested_by) == (JobRunStatus.SUCCEEDED, JobRunTrigger.MANUAL, book.admin)
    tally.refresh_from_db()
    assert tally.next_due_at == due and tally.last_run_id == run.pk
    assert AuditEvent.objects.for_object("scheduler.jobrun", run.pk).get().after["trigger"] == "manual"


def test_run_now_twice_queues_once(book, tally, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.periodic_job_run_now(actor=book.admin, job=tally)
        with pytest.raises(ValidationFailed, match="already has a run queued"):
            services.periodic_job_run_now(actor=book.admin, job=tally)
    # A run still queued after QUEUED_LOST_AFTER (no worker took it) no longer blocks Run now.
    JobRun.objects.update(created_at=timezone.now() - services.QUEUED_LOST_AFTER - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=False):
        services.periodic_job_run_now(actor=book.admin, job=tally)
    assert JobRun.objects.filter(job=tally).count() == 2
