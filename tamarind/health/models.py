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
    """The current health of one account, as last computed; its explanation (the breakdown) is kept beside it in
    ``HealthExplanation``.

    Rewritten only when something in it changed, so a repeated recompute writes nothing. ``score`` and ``color``
    are empty while no measure has data.

    What dashboards read in SQL is kept in columns, written by every recompute:

    - each measure's score and color (``<measure>_score``, ``<measure>_color``; empty while the measure is missing);
    - the facts the early-warning indicators of domain section 11 compare with their thresholds: the latest usage
      month's licenses and active users and the month before's active users, tickets opened in the last 30 days
      (null until tickets are reported), open urgent tickets, the day of the newest sentiment and of the last call
      or meeting. A dashboard decides each indicator for today in the query (``dashboards.indicator_sql``), so a
      threshold changed in the settings or a day passing needs no rescore.

    Nothing here moves with the day alone: the breakdown keeps dates and counts, and the texts ("41 days since the
    last call") are rendered when read. ``rescore_on`` is the first day on which the day alone may change the score
    (a band's edge, the utilization table's next column, the sentiment turning stale); until then a recompute whose
    inputs did not move skips the account.
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
    # Each measure's score and color (the breakdown's, as columns).
    sentiment_score = models.PositiveSmallIntegerField(null=True, blank=True)
    sentiment_color = models.CharField(max_length=10, choices=HealthColor.choices, blank=True)
    product_usage_score = models.PositiveSmallIntegerField(null=True, blank=True)
    product_usage_color = models.CharField(max_length=10, choices=HealthColor.choices, blank=True)
    success_plan_score = models.PositiveSmallIntegerField(null=True, blank=True)
    success_plan_color = models.CharField(max_length=10, choices=HealthColor.choices, blank=True)
    engagement_score = models.PositiveSmallIntegerField(null=True, blank=True)
    engagement_color = models.CharField(max_length=10, choices=HealthColor.choices, blank=True)
    support_score = models.PositiveSmallIntegerField(null=True, blank=True)
    support_color = models.CharField(max_length=10, choices=HealthColor.choices, blank=True)
    # The facts the early-warning indicators compare (see the class docstring).
    sentiment_on = models.DateField(null=True, blank=True, help_text="The day of the newest TAM sentiment.")
    engaged_on = models.DateField(null=True, blank=True, help_text="The day of the last call or meeting.")
    licenses = models.PositiveIntegerField(null=True, blank=True, help_text="Licenses of the latest usage month.")
    active_users = models.PositiveIntegerField(null=True, blank=True, help_text="Active users, latest usage month.")
    active_users_prev = models.PositiveIntegerField(
        null=True, blank=True, help_text="Active users of the month before the latest."
    )
    tickets_30d = models.PositiveIntegerField(
        null=True, blank=True, help_text="Tickets opened in the last 30 days (null: tickets never reported)."
    )
    open_urgent = models.PositiveIntegerField(default=0, help_text="Open urgent tickets.")
    model_version = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)
    color_changed_at = models.DateTimeField(null=True, blank=True)
    scored_on = models.DateField(null=True, blank=True, help_text="The day the score was worked out for.")
    rescore_on = models.DateField(
        null=True, blank=True, help_text="The first later day on which the day alone may change it (null: never)."
    )
    digest = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="A hash of what the score says (score, color, flags, columns, breakdown, model version): a "
        "recompute compares it instead of reading every breakdown back.",
    )
    inputs_digest = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="A hash of what the score was computed from (inputs, model version): a recompute whose inputs "
        "are the same skips scoring the account again until ``rescore_on``.",
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
        indexes = [
            # The red and yellow lists: one color, lowest score first, a page at a time.
            models.Index(fields=["color", "score", "account"], name="health_score_color_idx"),
            # The stale list: oldest review first, among the flagged scores only.
            models.Index(fields=["sentiment_on", "account"], condition=Q(stale=True), name="health_score_stale_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} {self.color}"


class HealthExplanation(models.Model):
    """How an account's current score was worked out: its ``breakdown`` (each measure's facts, score, band, weight,
    effective weight, contribution and last update; the drag; the red override), written with the score.

    A table of its own, one row per score: the breakdown is about 1 KB of JSON, read only when one account's
    explanation is shown, and kept in the score's row it made every row the dashboards aggregate ten times wider
    (PostgreSQL keeps a value under about 2 KB inline).
    """

    health = models.OneToOneField(
        HealthScore, primary_key=True, on_delete=models.CASCADE, related_name="explanation", db_column="account_id"
    )
    breakdown = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.health_id}: explanation"


def breakdown_of(health: HealthScore | None) -> dict[str, Any]:
    """A score's breakdown (empty when there is no score or no explanation stored with it)."""
    explanation = getattr(health, "explanation", None) if health is not None else None
    return explanation.breakdown if explanation is not None else {}


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


class SnapshotLevel(models.TextChoices):
    """Which slice of the book a ``HealthMixSnapshot`` row counts; the columns a level does not use hold 0 / ''."""

    BOOK = "book", "Whole book"
    SEGMENT = "segment", "Segment"
    REGION = "region", "Region"
    REGION_SEGMENT = "region_segment", "Region and segment"
    TAM = "tam", "TAM (within a region)"
    TAM_SEGMENT = "tam_segment", "TAM and segment (within a region)"


SNAPSHOT_SLOTS = ("green", "yellow", "red", "unscored")  # a snapshot's count (and ``<slot>_arr``) columns


class HealthMixSnapshot(models.Model):
    """The health mix of one slice of the book on one day: accounts and ARR per color, stale reviews. Written by
    every full recompute for its day (the day's rows replaced), so the trend chart reads one row per day of the
    slice shown instead of the history of every account.

    A slice is the whole book, a segment, a region, a region's segment, a TAM's accounts in a region (``tam_id`` 0:
    the region's accounts without a TAM) or those of one segment (``SnapshotLevel``). Region and TAM are plain ids
    (history outlives a renamed or removed region); accounts out of health reporting (will churn) are not counted.
    """

    day = models.DateField()
    level = models.CharField(max_length=16, choices=SnapshotLevel.choices)
    region_id = models.PositiveIntegerField(default=0)
    tam_id = models.PositiveIntegerField(default=0)
    segment = models.CharField(max_length=20, blank=True)
    green = models.PositiveIntegerField(default=0)
    yellow = models.PositiveIntegerField(default=0)
    red = models.PositiveIntegerField(default=0)
    unscored = models.PositiveIntegerField(default=0)
    green_arr = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    yellow_arr = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    red_arr = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    unscored_arr = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    stale = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # The trend reads one level, one slice, a range of days: this index answers it.
            models.UniqueConstraint(
                fields=["level", "tam_id", "region_id", "segment", "day"], name="health_snapshot_one_per_slice_day"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="health_snapshot_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.level} r{self.region_id} t{self.tam_id} {self.segment}"


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


class HealthModelDraft(models.Model):
    """A proposed health model definition that is not a version: nothing scores with it. The editor opens it
    (``/health/model/edit/?draft=<id>``) with the live model's preview beside it, and saving there writes the next
    version through ``health_model_save`` like any other change, so a draft goes live only through the editor's
    preview and versioning. Made by ``services.health_model_draft_create`` (e.g. from the signals' suggested
    weights, issue 15); ``origin`` and ``detail`` say what produced it."""

    definition = models.JSONField()
    based_on_version = models.PositiveIntegerField(help_text="The live version when the draft was made.")
    note = models.CharField(max_length=500, blank=True)
    origin = models.CharField(max_length=40, blank=True, help_text="What made it, e.g. signals:weights.")
    detail = models.JSONField(default=dict, blank=True, help_text="What produced it (e.g. the weight fit).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Health model draft {self.pk} (from v{self.based_on_version})"
