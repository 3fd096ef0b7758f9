"""Writes of the scheduler: registering the jobs apps declare, the tick that claims due jobs, running and recording
runs, and the admin's edits and "Run now".

Claiming is a compare-and-swap: the tick moves a due job's ``next_due_at`` from the value it read to the next slot
with ``UPDATE ... WHERE next_due_at = <value read>``. Of two workers that read the same due row, the database lets
exactly one update it (PostgreSQL re-checks the condition after the first commits; SQLite runs one write
transaction at a time), and the loser updates no row and records nothing. A partial unique constraint on
(job, scheduled_for) stands behind it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import time
import traceback
from collections.abc import Iterable
from functools import partial
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record
from tamarind.core.context import request_id_scope
from tamarind.core.errors import ValidationFailed
from tamarind.core.heartbeat import Pulse, lease, lost_reason, process_name
from tamarind.core.periodic import PeriodicSpec
from tamarind.core.resilience import DATABASE_ERRORS
from tamarind.people.models import User
from tamarind.scheduler.models import MAX_EVERY, MIN_EVERY, JobRun, JobRunStatus, JobRunTrigger, PeriodicJob

logger = logging.getLogger(__name__)

# A run still queued this long after it was queued is presumed lost (no worker took it, or the queue dropped it).
# A running run is lost when its heartbeat is older than the lease (``core.heartbeat``).
QUEUED_LOST_AFTER = dt.timedelta(hours=1)
# The end of a traceback is the part that says what went wrong; keep that much.
MAX_ERROR_CHARS = 20_000
JOB_FIELDS = ("every", "enabled", "next_due_at")


def worker_id() -> str:
    """This process's name in run records: host and process id."""
    return process_name()


# --- registering the jobs apps declare ------------------------------------------------------------------------


def _periodic_modules() -> list[ModuleType]:
    """The ``periodic.py`` module of every installed Tamarind app that has one."""
    modules = []
    for config in apps.get_app_configs():
        if not config.name.startswith("tamarind."):
            continue
        module_name = f"{config.name}.periodic"
        try:
            modules.append(importlib.import_module(module_name))
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
    return modules


def reaper_paths() -> list[str]:
    """The dotted paths in the ``REAPERS`` lists of the apps' ``periodic.py`` (see ``lost_work_fail``)."""
    return [path for module in _periodic_modules() for path in getattr(module, "REAPERS", [])]


def periodic_specs() -> list[PeriodicSpec]:
    """Every ``PeriodicSpec`` in the ``JOBS`` list of an installed Tamarind app's ``periodic.py``."""
    specs: dict[str, PeriodicSpec] = {}
    for module in _periodic_modules():
        module_name = module.__name__
        for spec in getattr(module, "JOBS", []):
            if spec.key in specs:
                raise ImproperlyConfigured(f"Two periodic jobs are called {spec.key!r} ({module_name} and another).")
            specs[spec.key] = spec
    return list(specs.values())


@transaction.atomic
def periodic_jobs_sync(*, specs: Iterable[PeriodicSpec] | None = None, now: dt.datetime | None = None) -> list[str]:
    """Create a job row for each spec that has none; bring the code-owned fields of the others up to date.

    ``func``, ``description`` and ``default_every`` follow the code. ``every``, ``enabled`` and ``next_due_at``
    belong to the admins once the row exists and are never touched here. A new job is due at once. Safe to run
    from several processes at the same time (insert-or-ignore). Returns the keys of the jobs created.
    """
    now = now or timezone.now()
    wanted = {spec.key: spec for spec in (periodic_specs() if specs is None else specs)}
    for spec in wanted.values():
        if not MIN_EVERY <= spec.every <= MAX_EVERY:
            raise ImproperlyConfigured(f"Periodic job {spec.key}: every must be between {MIN_EVERY} and {MAX_EVERY}.")
    existing = {job.key: job for job in PeriodicJob.objects.filter(key__in=wanted)}
    for key, job in existing.items():
        spec = wanted[key]
        changed = [
            name
            for name, value in (("func", spec.func), ("description", spec.description), ("default_every", spec.every))
            if getattr(job, name) != value
        ]
        if changed:
            job.func, job.description, job.default_every = spec.func, spec.description, spec.every
            job.save(update_fields=changed)
    missing = [
        PeriodicJob(
            key=spec.key,
            func=spec.func,
            description=spec.description,
            every=spec.every,
            default_every=spec.every,
            next_due_at=now,
            created_at=now,
        )
        for key, spec in wanted.items()
        if key not in existing
    ]
    PeriodicJob.objects.bulk_create(missing, ignore_conflicts=True)
    return [job.key for job in missing]


# --- the tick -------------------------------------------------------------------------------------------------


def next_slot(slot: dt.datetime, every: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """The first time after ``now`` in the series ``slot``, ``slot + every``, ...

    Slots missed while no worker ran are skipped, not caught up one by one, and the series keeps its phase (a
    daily job due at 07:00 stays at 07:00).
    """
    if slot > now:
        return slot
    return slot + every * ((now - slot) // every + 1)


def scheduler_tick(*, now: dt.datetime | None = None, worker: str = "") -> list[JobRun]:
    """Fail the work whose worker was lost (``lost_work_fail``), then claim every enabled job that is due, record a
    queued run for each, and hand the runs to the task backend.

    Idempotent per due slot: a slot another worker (or an earlier tick) claimed is not claimed again. Jobs are
    claimed in key order within one transaction, so two concurrent ticks lock rows in the same order. The runs
    are enqueued once the transaction commits.
    """
    now = now or timezone.now()
    lost_work_fail(now=now)
    return _claim_due(now=now, worker=worker or worker_id())


def lost_work_fail(*, now: dt.datetime) -> dict[str, int]:
    """Fail every piece of work whose worker is gone: the scheduler's own runs (``runs_lost``), the task rows of
    dead workers on this machine (``core.dbworker.task_results_fail_lost``) and what each app's
    ``REAPERS`` (dotted paths in its ``periodic.py``) find: functions ``(*, now) -> int`` that fail their app's
    running work whose heartbeat is older than the lease, with the reason, and release what it held.

    Each in its own short transaction. A reaper that fails on a bug is logged and the others still run; a database
    failure goes up to the caller (the tick's loop retries it). Returns how many each reaper failed (when any).
    """
    failed: dict[str, int] = {}
    own = ["tamarind.scheduler.services.runs_lost", "tamarind.core.dbworker.task_results_fail_lost"]
    for path in [*own, *reaper_paths()]:
        try:
            with transaction.atomic():
                count = int(import_string(path)(now=now))
        except DATABASE_ERRORS:
            raise
        except Exception:
            logger.exception("scheduler: %s failed", path)
            continue
        if count:
            logger.warning("scheduler: %s failed %d piece(s) of work whose worker was lost", path, count)
            failed[path] = count
    return failed


@transaction.atomic
def _claim_due(*, now: dt.datetime, worker: str) -> list[JobRun]:
    runs: list[JobRun] = []
    for job in PeriodicJob.objects.due(now).order_by("pk").only("pk", "every", "next_due_at"):
        slot = job.next_due_at
        claimed = PeriodicJob.objects.filter(pk=job.pk, enabled=True, next_due_at=slot).update(
            next_due_at=next_slot(slot, job.every, now)
        )
        if not claimed:
            continue  # another worker got there first
        run = JobRun.objects.create(job_id=job.pk, scheduled_for=slot, claimed_by=worker, created_at=now)
        PeriodicJob.objects.filter(pk=job.pk).update(last_run=run)
        runs.append(run)
    for run in runs:
        transaction.on_commit(partial(job_run_enqueue, run_id=run.pk))
    return runs


def runs_lost(*, now: dt.datetime) -> int:
    """Fail the runs whose worker is gone: running with no heartbeat for the lease (killed, or the machine went
    down), or still queued ``QUEUED_LOST_AFTER`` after they were queued (no worker took them, or the queue dropped
    them). Jobs are idempotent, so the next slot redoes the work; a run that was in fact only slow still records its
    own end over this. Returns how many were failed."""
    stale = (
        JobRun.objects.filter(status=JobRunStatus.RUNNING)
        .annotate(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_sign__lt=now - lease())
        .values_list("pk", "last_sign", "worker", "started_at")
    )
    failed = 0
    for pk, last_sign, worker, started_at in stale:
        failed += JobRun.objects.filter(pk=pk, status=JobRunStatus.RUNNING).update(
            status=JobRunStatus.FAILED,
            finished_at=now,
            # How long it is known to have run: until its worker last said it was alive.
            duration=max(dt.timedelta(0), last_sign - (started_at or last_sign)),
            error=lost_reason(last_sign, worker),
        )
    hours = int(QUEUED_LOST_AFTER.total_seconds() // 3600)
    failed += JobRun.objects.filter(status=JobRunStatus.QUEUED, created_at__lt=now - QUEUED_LOST_AFTER).update(
        status=JobRunStatus.FAILED,
        finished_at=now,
        error=(
            f"Lost: still queued after {hours} hour{'s' if hours != 1 else ''}; no worker took it "
            "(is `tamarind worker` running?), or the queue dropped it."
        ),
    )
    return failed


def _run_beat(fields: dict[str, Any], *, run_id: int) -> None:
    """The heartbeat of a running run (``core.heartbeat.Pulse``)."""
    JobRun.objects.filter(pk=run_id, status=JobRunStatus.RUNNING).update(heartbeat_at=timezone.now(), **fields)


def job_run_enqueue(*, run_id: int) -> None:
    """Hand a queued run to the task backend; if the backend refuses (Redis down), the run fails with the reason."""
    from tamarind.scheduler.tasks import run_periodic_job

    try:
        run_periodic_job.enqueue(run_id)
    except Exception as exc:
        logger.exception("could not queue periodic run %s", run_id)
        now = timezone.now()
        JobRun.objects.filter(pk=run_id, status=JobRunStatus.QUEUED).update(
            status=JobRunStatus.FAILED, finished_at=now, error=f"The run could not be queued: {exc!r}"
        )


# --- running a run ----------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """The job's summary as plain JSON (dates and decimals as strings); anything else becomes its ``repr``."""
    if value is None:
        return None
    try:
        out = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        out = repr(value)
    return out if isinstance(out, dict) else {"value": out}


def periodic_job_run(*, run_id: int, worker: str = "") -> JobRun:
    """Run one queued run: call the job's function and record how it went (duration, result or error).

    A run that is not queued any more (another worker took it, or it ran already) is left alone, so a task
    delivered twice runs the job once. Not atomic: the job's own services open their transactions, and a failing
    job must still leave its failed run behind.
    """
    started_at = timezone.now()
    claimed = JobRun.objects.filter(pk=run_id, status=JobRunStatus.QUEUED).update(
        status=JobRunStatus.RUNNING, started_at=started_at, heartbeat_at=started_at, worker=worker or worker_id()
    )
    run = JobRun.objects.select_related("job").get(pk=run_id)
    if not claimed:
        return run
    clock = time.monotonic()
    try:
        func = import_string(run.job.func)
        with request_id_scope(f"periodic-{run.pk}"), Pulse(partial(_run_beat, run_id=run.pk), name=f"run {run.pk}"):
            result = func()
    except Exception:
        logger.exception("periodic job %s (run %s) failed", run.job.key, run.pk)
        run.status = JobRunStatus.FAILED
        run.error = traceback.format_exc()[-MAX_ERROR_CHARS:]
        run.result = None
    else:
        run.status = JobRunStatus.SUCCEEDED
        run.result = _jsonable(result)
    run.duration = dt.timedelta(seconds=time.monotonic() - clock)
    run.finished_at = max(timezone.now(), started_at)
    run.save(update_fields=["status", "error", "result", "duration", "finished_at"])
    return run


# --- what admins do -------------------------------------------------------------------------------------------


def _job_state(job: PeriodicJob) -> dict[str, Any]:
    """The admin-owned fields as the audit trail keeps them (the interval in seconds)."""
    return {
        "every": int(job.every.total_seconds()),
        "enabled": job.enabled,
        "next_due_at": job.next_due_at.isoformat(),
    }


def _require_manager(actor: User | None) -> User:
    if actor is None or not policy.can_manage_scheduler(actor):
        raise PermissionDenied("Only admins manage periodic jobs.")
    return actor


@transaction.atomic
def periodic_job_run_now(*, actor: User, job: PeriodicJob, source: str = "web") -> JobRun:
    """Queue a run of ``job`` at once ("Run now"), enabled or not, leaving its schedule as it is.

    Refused while another run of the job is queued or running, so a double click runs it once; a run whose worker
    was lost (``runs_lost``) is failed first rather than waited for.
    """
    _require_manager(actor)
    job = PeriodicJob.objects.select_for_update().get(pk=job.pk)
    now = timezone.now()
    runs_lost(now=now)
    active = job.runs.active().order_by("-created_at").first()
    if active is not None:
        raise ValidationFailed(
            f"{job.key} already has a run {active.get_status_display().lower()} "
            f"(since {timezone.localtime(active.created_at):%Y-%m-%d %H:%M:%S})."
        )
    run = JobRun.objects.create(
        job=job,
        trigger=JobRunTrigger.MANUAL,
        requested_by=actor,
        scheduled_for=now,
        claimed_by=f"{actor.email} ({source})"[:200],
        created_at=now,
    )
    PeriodicJob.objects.filter(pk=job.pk).update(last_run=run)
    audit_record(
        actor=actor,
        obj=run,
        action=AuditAction.CREATE,
        after={"job": job.key, "trigger": JobRunTrigger.MANUAL.value, "status": run.status},
        source=source,
    )
    transaction.on_commit(partial(job_run_enqueue, run_id=run.pk))
    return run


@transaction.atomic
def periodic_job_update(
    *,
    actor: User,
    job: PeriodicJob,
    every: dt.timedelta | None = None,
    enabled: bool | None = None,
    next_due_at: dt.datetime | None = None,
    source: str = "web",
) -> list[str]:
    """Change a job's interval, switch it on or off, or move its next run; returns the fields that changed.

    A shorter interval brings the next run forward to at most one new interval from now, unless ``next_due_at``
    is given. The code never overwrites these fields (see ``periodic_jobs_sync``).
    """
    _require_manager(actor)
    errors: dict[str, list[str]] = {}
    if every is not None and not MIN_EVERY <= every <= MAX_EVERY:
        errors["every"] = ["The interval must be between one minute and 366 days."]
    if next_due_at is not None and timezone.is_naive(next_due_at):
        errors["next_due_at"] = ["The next run needs a time zone."]
    if errors:
        raise ValidationFailed(errors)
    job = PeriodicJob.objects.select_for_update().get(pk=job.pk)
    before = _job_state(job)
    now = timezone.now()
    if every is not None and every != job.every:
        job.every = every
        if next_due_at is None:
            job.next_due_at = min(job.next_due_at, now + every)
    if enabled is not None:
        job.enabled = enabled
    if next_due_at is not None:
        job.next_due_at = next_due_at
    after = _job_state(job)
    changed = [name for name in JOB_FIELDS if before[name] != after[name]]
    if not changed:
        return []
    job.updated_at, job.updated_by = now, actor
    job.save(update_fields=[*changed, "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        obj=job,
        action=AuditAction.UPDATE,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
        source=source,
    )
    return changed
