"""Customer health: the model versions (data), the TAM's sentiment, each account's current score and its history,
and the record of every recompute run."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tamarind.health.spec import HealthSpec, parse_spec


class HealthColor(models.TextChoices):
    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"


class HealthModelVersionQuerySet(models.QuerySet["HealthModelVersion"]):
    def live(self) -> HealthModelVersion | None:
        """The version in force: the newest one."""
        return self.select_related("created_by").order_by("-version").first()


class HealthModelVersion(models.Model):
    """One saved version of the health model (measures, weights, bands, thresholds, staleness; ``health.spec``).

    Versions are never edited or deleted: saving the editor writes the next version, live from then on, so every
    score names the exact model that produced it.
    """

    version = models.PositiveIntegerField(unique=True)
    definition = models.JSONField()
    note = models.CharField(max_length=500, blank=True, help_text="Why this version was saved.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = HealthModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [models.CheckConstraint(condition=Q(version__gte=1), name="health_version_positive")]

    def __str__(self) -> str:
        return f"Health model v{self.version}"

    def spec(self) -> HealthSpec:
        return parse_spec(self.definition)


class SentimentQuerySet(models.QuerySet["Sentiment"]):
    def newest_first(self) -> SentimentQuerySet:
        return self.order_by("-set_at", "-id")


class Sentiment(models.Model):
    """A TAM's health review of an account: a color with a reason. Append-only; the newest one counts."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="sentiments")
    color = models.CharField(max_length=10, choices=HealthColor.choices)
    reason = models.TextField()
    requires_triage = models.BooleanField(default=False, help_text="Yellow that needs a triage case all the same.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    objects = SentimentQuerySet.as_manager()

    class Meta:
        ordering = ["-set_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(color__in=HealthColor.values), name="health_sentiment_color_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="health_sentiment_reason_not_blank"),
        ]
        indexes = [models.Index(fields=["account", "-set_at"], name="health_sentiment_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.color}"


class HealthScore(models.Model):
    """The current health of one account, as last computed, with its explanation (``breakdown``).

    Rewritten only when something in it changed, so a repeated recompute writes nothing. ``score`` and ``color``
    are empty while no measure has data.
    """

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="health"
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    color = models.CharField(max_length=10, choices=HealthColor.choices, blank=True)
    red_override = models.BooleanField(default=False)
    drag = models.CharField(max_length=30, blank=True, help_text="The measure pulling the score down most.")
    stale = models.BooleanField(default=False, help_text="The TAM's sentiment is older than the staleness setting.")
    requires_triage = models.BooleanField(default=False)
    breakdown = models.JSONField(default=dict)
    model_version = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)
    color_changed_at = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="A hash of what the score says (score, color, flags, breakdown, model version): a recompute "
        "compares it instead of reading every breakdown back.",
    )
    inputs_digest = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="A hash of what the score was computed from (inputs, day, model version): a recompute whose "
        "inputs are the same skips scoring the account again.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="health_score_0_100"),
            models.CheckConstraint(condition=Q(color__in=[*HealthColor.values, ""]), name="health_score_color_valid"),
            models.CheckConstraint(
                condition=(Q(score__isnull=True) & Q(color="")) | (Q(score__isnull=False) & ~Q(color="")),
                name="health_score_color_iff_score",
            ),
        ]
        indexes = [models.Index(fields=["color"], name="health_score_color_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} {self.color}"


def inputs_digest(parts: tuple[Any, ...]) -> str:
    """A stable hash of what a score is computed from (the scorer is deterministic in it)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def score_digest(fields: tuple[Any, ...], breakdown_json: str) -> str:
    """A stable hash of what a score says: its plain fields and its breakdown as JSON text (the same in every
    process: no Python ``hash``). A recompute compares it with the stored ``digest``."""
    text = "|".join(map(str, fields)) + "|" + breakdown_json
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class HealthHistory(models.Model):
    """One account's score on one day (the last one computed that day): the history chart."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="health_history")
    day = models.DateField()
    score = models.PositiveSmallIntegerField()
    color = models.CharField(max_length=10, choices=HealthColor.choices)

    class Meta:
        ordering = ["account", "day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="health_history_one_per_day"),
            models.CheckConstraint(condition=Q(score__lte=100), name="health_history_score_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.score}"


class RunKind(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped (another full run holds the lock)"
    FAILED = "failed", "Failed"


class HealthRun(models.Model):
    """One recompute, full or incremental, with its counts and duration."""

    kind = models.CharField(max_length=12, choices=RunKind.choices)
    source = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the process running it last said it is alive (see core.heartbeat)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    accounts = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    color_changes = models.PositiveIntegerField(default=0)
    notifications = models.PositiveIntegerField(default=0)
    tasks = models.PositiveIntegerField(default=0)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} ({self.status})"


class HealthLock(models.Model):
    """A named lease: the full recompute takes ``full`` so only one runs at a time (see ``services``). The run's
    heartbeat renews it; a lease not renewed for ``TAMARIND_JOB_LEASE_SECONDS`` is free for the next run."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or 'free'}"
