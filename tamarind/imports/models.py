"""CRM imports: the column mappings admins maintain, and the history of every import run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# How many row errors one job keeps; the count goes on past it (``ImportJob.error_count``).
MAX_STORED_ERRORS = 10_000
# How many changes a job keeps as its preview ("first N changes").
MAX_STORED_CHANGES = 50


class ImportMapping(models.Model):
    """How a CRM export's columns and values map onto account fields.

    ``headers`` maps an account field to the header names that carry it (matched case-insensitively, the
    first one present wins). ``synonyms`` maps a field to ``{value in the file: value Tamarind knows}``, e.g.
    ``{"segment": {"MM": "Mid-Market"}, "product_tier": {"Platinum": "Ultimate"}}``. ``version`` goes up on
    every save and is part of each row's import digest, so editing a mapping makes the next import look at
    every row again instead of skipping the ones it has seen.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    is_default = models.BooleanField(default=False, help_text="Used when an import names no mapping.")
    headers = models.JSONField(default=dict)
    synonyms = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="imports_one_default_mapping"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="imports_mapping_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportKind(models.TextChoices):
    """What a file holds: the account book (``importer``), daily product usage or support tickets
    (``tamarind.usage.csv_import``)."""

    ACCOUNTS = "accounts", "Accounts"
    USAGE = "usage", "Product usage"
    TICKETS = "tickets", "Support tickets"
    SUCCESS_PLANS = "success_plans", "Success plans"
    OPPORTUNITIES = "opportunities", "CRM renewal opportunities"
    ARR_HISTORY = "arr_history", "ARR history"
    CONTACTS = "contacts", "CRM contacts"


class ImportSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    CLI = "cli", "Command line"
    DEMO = "demo", "Demo generator"


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def for_list(self) -> ImportJobQuerySet:
        """Rows for history tables: people and mapping joined, the large JSON columns left out."""
        return self.select_related("created_by", "mapping").defer("errors", "changes", "columns")


class ImportJob(models.Model):
    """One import of one CRM file: who ran it, on what, how far it got and what it found.

    The file stays on disk at ``stored_path`` (under ``MEDIA_ROOT/imports/`` for uploads; the given path
    for the command line). ``errors`` keeps the first ``MAX_STORED_ERRORS`` problems as
    ``{"line", "column", "value", "message"}``; ``error_count`` counts them all.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=10, choices=ImportSource.choices, default=ImportSource.WEB)
    kind = models.CharField(max_length=20, default="accounts")
    file_name = models.CharField("original file name", max_length=255)
    stored_path = models.CharField(max_length=1000)
    size = models.BigIntegerField("size (bytes)", default=0)
    mapping = models.ForeignKey(ImportMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    mapping_version = models.PositiveIntegerField(default=0)
    dry_run = models.BooleanField(default=False)
    create_regions = models.BooleanField(
        default=False, help_text="Create the regions the file names that Tamarind does not know, with the import."
    )
    skip_unknown_owners = models.BooleanField(
        default=False,
        help_text="Import lines whose TAM, SAL / AE or SA Tamarind does not know without that owner.",
    )
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    stage = models.CharField(max_length=20, blank=True, help_text="reading, writing: what a running job is doing.")
    total = models.PositiveIntegerField(default=0, help_text="Data rows in the file.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    bytes_processed = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The process running it (host:pid).")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When its worker last said it is alive (see core.heartbeat)."
    )
    message = models.CharField(max_length=500, blank=True, help_text="The outcome in one line.")
    errors = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True, help_text="The first changes, as a preview.")
    columns = models.JSONField(default=dict, blank=True, help_text="Which header fed which field; ignored headers.")
    unknown = models.JSONField(
        default=dict,
        blank=True,
        help_text="Regions and owners the file names that Tamarind does not know, with their line counts.",
    )

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]), name="imports_job_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(finished_at__gte=F("started_at")),
                name="imports_job_finishes_after_start",
            ),
            models.CheckConstraint(condition=Q(size__gte=0), name="imports_job_size_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

    @property
    def changed(self) -> int:
        return self.created + self.updated

    @property
    def percent(self) -> int:
        """Progress through the file, by bytes read (rows are not known until the end)."""
        if self.is_finished:
            return 100
        if not self.size:
            return 0
        return min(99, int(self.bytes_processed * 100 / self.size))

    @property
    def unknown_only(self) -> bool:
        """Finished, and every error it has is a region or owner Tamarind does not know (which ``create_regions``
        and ``skip_unknown_owners`` resolve): nothing else in the file stands in the way."""
        unknown = self.unknown or {}
        return (
            self.status == ImportStatus.FAILED
            and self.error_count > 0
            and bool(unknown)
            and self.error_count == unknown.get("region_errors", 0) + unknown.get("owner_errors", 0)
        )

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors or [])

    def elapsed(self) -> dt.timedelta | None:
        if self.duration is not None:
            return self.duration
        if self.started_at is not None:
            return timezone.now() - self.started_at
        return None

    def summary(self) -> str:
        """The outcome in the wording of the CLI (see ``summary_line``): what changed, or, for a dry run or a
        rejected file, what would have changed and that nothing was written."""
        return summary_line(
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
            errors=self.error_count,
            total=self.total,
            seconds=self.duration.total_seconds() if self.duration else 0.0,
            dry_run=self.dry_run,
            rejected=self.status == ImportStatus.FAILED,
        )


def summary_line(
    *,
    created: int,
    updated: int,
    unchanged: int,
    errors: int,
    total: int,
    seconds: float,
    dry_run: bool = False,
    rejected: bool = False,
) -> str:
    """One line that says only what happened.

    - imported: ``9 changed: created 7, updated 2, unchanged 90, 0 errors (100 rows in 1.2s)``
    - dry run: ``dry run, nothing written: 9 would change: would create 7, update 2, leave 90 unchanged, 0 errors (...)``
    - rejected (any error; nothing is written then): ``rejected, nothing written: 1 error; the rows without errors
      would create 7, update 2, leave 90 unchanged (...)``, with ``dry run, `` in front for a dry run.
    """
    changed = created + updated
    error_word = "error" if errors == 1 else "errors"
    tail = f"({total} rows in {seconds:.1f}s)"
    would = f"would create {created}, update {updated}, leave {unchanged} unchanged"
    if rejected:
        head = "dry run, rejected" if dry_run else "rejected"
        return f"{head}, nothing written: {errors} {error_word}; the rows without errors {would} {tail}"
    if dry_run:
        return f"dry run, nothing written: {changed} would change: {would}, {errors} {error_word} {tail}"
    return (
        f"{changed} changed: created {created}, updated {updated}, unchanged {unchanged}, {errors} {error_word} {tail}"
    )


def error_entry(*, line: int | None, column: str, value: str, message: str) -> dict[str, Any]:
    return {"line": line, "column": column, "value": value, "message": message}
