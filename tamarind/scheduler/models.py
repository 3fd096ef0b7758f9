"""Periodic work as data: the jobs apps declare, and a record of every run.

A ``PeriodicJob`` row exists for each ``PeriodicSpec`` an app lists in its ``periodic.py`` (created by
``services.periodic_jobs_sync``). Code owns ``func`` and ``description``; admins own ``every``, ``enabled`` and
``next_due_at``. The scheduler tick claims a due row by moving its ``next_due_at`` forward with a compare-and-swap
update, and records a ``JobRun`` for the slot it claimed; a unique constraint on (job, scheduled_for) for scheduled
runs backs that up, so no slot is ever run twice.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# The shortest and longest interval an admin may set. The tick runs about once a minute, so a shorter interval
# would only pretend to be honoured.
MIN_EVERY = dt.timedelta(minutes=1)
MAX_EVERY = dt.timedelta(days=366)


class PeriodicJobQuerySet(models.QuerySet["PeriodicJob"]):
    def for_list(self) -> PeriodicJobQuerySet:
        """Rows for the jobs page: each with its last run (and who last edited it) joined."""
        return self.select_related("last_run", "updated_by").order_by("key")

    def due(self, now: dt.datetime) -> PeriodicJobQuerySet:
        return self.filter(enabled=True, next_due_at__lte=now)


class PeriodicJob(models.Model):
    """One periodic job: what to call (``func``), how often, whether it is on, and when it is next due."""

    key = models.CharField(max_length=100, unique=True, help_text="<app>.<name>, from the app's periodic.py")
    func = models.CharField(max_length=255, help_text="Dotted path of the callable the run calls.")
    description = models.CharField(max_length=255, blank=True)
    every = models.DurationField(help_text="How often it runs.")
    default_every = models.DurationField(help_text="The interval the code suggests (the spec's).")
    enabled = models.BooleanField(default=True)
    next_due_at = models.DateTimeField(db_index=True)
    last_run = models.ForeignKey(
        "JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The latest run."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="When an admin last changed it.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PeriodicJobQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(condition=Q(every__gte=MIN_EVERY), name="scheduler_job_every_min"),
            models.CheckConstraint(condition=Q(every__lte=MAX_EVERY), name="scheduler_job_every_max"),
            models.CheckConstraint(condition=~Q(key=""), name="scheduler_job_key_not_blank"),
            models.CheckConstraint(condition=~Q(func=""), name="scheduler_job_func_not_blank"),
        ]

    def __str__(self) -> str:
        return self.key


class JobRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobRunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Run now"


class JobRunQuerySet(models.QuerySet["JobRun"]):
    def for_list(self) -> JobRunQuerySet:
        return self.select_related("job", "requested_by").order_by("-created_at", "-id")

    def active(self) -> JobRunQuerySet:
        return self.filter(status__in=[JobRunStatus.QUEUED, JobRunStatus.RUNNING])


class JobRun(models.Model):
    """One run of a periodic job: which slot it was for, who claimed it, how long it took and how it ended.

    ``scheduled_for`` is the due time the tick claimed (for "Run now", the moment it was asked for).
    ``claimed_by`` names the worker whose tick claimed it; ``worker`` the one that ran it.
    """

    job = models.ForeignKey(PeriodicJob, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=JobRunTrigger.choices, default=JobRunTrigger.SCHEDULE)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=JobRunStatus.choices, default=JobRunStatus.QUEUED)
    scheduled_for = models.DateTimeField()
    claimed_by = models.CharField(max_length=200, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The process that ran it.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When its worker last said it is alive (see core.heartbeat)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True, help_text="The summary the job returned.")
    error = models.TextField(blank=True)

    objects = JobRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["job", "-created_at"], name="scheduler_run_job_idx")]
        constraints = [
            # The database's own guarantee behind the compare-and-swap claim: one scheduled run per due slot.
            models.UniqueConstraint(
                fields=["job", "scheduled_for"],
                condition=Q(trigger="schedule"),
                name="scheduler_one_run_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]), name="scheduler_run_status_valid"
            ),
            models.CheckConstraint(condition=Q(trigger__in=["schedule", "manual"]), name="scheduler_run_trigger_valid"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(finished_at__gte=F("started_at")),
                name="scheduler_run_finishes_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobRunStatus.SUCCEEDED, JobRunStatus.FAILED)

    @property
    def error_summary(self) -> str:
        """The last line of the error (the exception and its message), for tables."""
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""
