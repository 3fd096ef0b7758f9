"""The manager's routine as data: recurring reviews on a cadence per region, each occurrence with a checklist
built from live data when it opens and kept as it stood, per-item decisions, attendees, notes and a completion.

A 1:1 with a TAM is an occurrence of the ``one_on_one`` kind whose ``subject`` is that TAM: its agenda is the
checklist built from their book (``checklists.py``), plus the items either side adds and the open action items
of the previous 1:1, carried over. The daily burn-down counts (``BurndownCount``) and each person's calendar
feed token (``CalendarFeed``) live here too.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from tamarind.people.models import User


class ReviewKind(models.TextChoices):
    NEW_ACCOUNTS = "new_accounts", "New account assignment"
    ONBOARDING = "onboarding", "Onboarding review"
    SUCCESS_PLAN = "success_plan", "Success plan review"
    TRIAGE_HEALTH = "triage_health", "Triage and health review"
    RENEWAL = "renewal", "Renewal review"
    ONE_ON_ONE = "one_on_one", "1:1 with a TAM"


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    TWICE_MONTHLY = "twice_monthly", "Twice a month (the 15th and the last day)"
    MONTHLY = "monthly", "Monthly"


class OccurrenceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"


class Decision(models.TextChoices):
    NOTED = "noted", "Noted"
    TASK = "task", "Task created"
    CASE = "case", "Triage case opened"
    ESCALATED = "escalated", "Escalated"
    CARRIED_OVER = "carried_over", "Carried over"


class ItemOrigin(models.TextChoices):
    CHECKLIST = "checklist", "From live data"
    ADDED = "added", "Added by hand"
    CARRIED = "carried", "Carried over from the last one"


def valid_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


class ReviewScheduleQuerySet(models.QuerySet["ReviewSchedule"]):
    def visible_to(self, user: User) -> ReviewScheduleQuerySet:
        from tamarind import policy

        scope = policy.review_schedule_scope(user)
        return self if scope is None else self.filter(scope)


class ReviewSchedule(models.Model):
    """One review kind in one region: its cadence, its owner (empty: the region's TAM Manager), the first due
    date the cadence counts from, and the local time and time zone the meeting is held at. Admin-editable data
    (and the region's manager edits the cadence of their own region); every change audited."""

    region = models.ForeignKey("people.Region", on_delete=models.CASCADE, related_name="review_schedules")
    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who runs it; empty means the region's TAM Manager.",
    )
    starts_on = models.DateField(help_text="The first due date; the cadence counts from it.")
    meeting_time = models.TimeField(default=dt.time(10, 0))
    time_zone = models.CharField(max_length=64, default="UTC")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ReviewScheduleQuerySet.as_manager()

    class Meta:
        ordering = ["region__name", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="reviews_schedule_one_per_region_kind"),
            models.CheckConstraint(condition=Q(cadence__in=Cadence.values), name="reviews_schedule_cadence_valid"),
            models.CheckConstraint(condition=Q(kind__in=ReviewKind.values), name="reviews_schedule_kind_valid"),
            models.CheckConstraint(condition=~Q(time_zone=""), name="reviews_schedule_tz_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.region}"

    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone if valid_time_zone(self.time_zone) else "UTC")


SCHEDULE_FIELDS: tuple[str, ...] = ("cadence", "owner", "starts_on", "meeting_time", "time_zone", "enabled")


class OccurrenceQuerySet(models.QuerySet["ReviewOccurrence"]):
    def visible_to(self, user: User) -> OccurrenceQuerySet:
        from tamarind import policy

        scope = policy.review_scope(user)
        return self if scope is None else self.filter(scope)

    def with_related(self) -> OccurrenceQuerySet:
        return self.select_related("region", "region__manager", "owner", "subject", "schedule")

    def not_completed(self) -> OccurrenceQuerySet:
        return self.exclude(status=OccurrenceStatus.COMPLETED)

    def overdue(self, today: dt.date) -> OccurrenceQuerySet:
        return self.not_completed().filter(due_on__lt=today)


class ReviewOccurrence(models.Model):
    """One review held (or due) on one date. ``subject`` is the TAM of a 1:1 (empty for the other kinds).
    Its items are built when it opens and kept as they stood; completing it freezes them."""

    schedule = models.ForeignKey(ReviewSchedule, on_delete=models.PROTECT, related_name="occurrences")
    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    region = models.ForeignKey("people.Region", on_delete=models.PROTECT, related_name="review_occurrences")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews_owned"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="one_on_ones",
        help_text="The TAM of a 1:1.",
    )
    due_on = models.DateField(db_index=True)
    due_at = models.DateTimeField(help_text="The meeting's start: the due date at the schedule's local time.")
    status = models.CharField(max_length=20, choices=OccurrenceStatus.choices, default=OccurrenceStatus.SCHEDULED)
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="The manager's notes.")
    subject_notes = models.TextField(blank=True, help_text="The TAM's notes (a 1:1).")
    sections = models.JSONField(
        default=list, blank=True, help_text="The sections as built when it opened: key, title, total, notice."
    )
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="reviews_attended")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OccurrenceQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "due_on"],
                condition=Q(subject__isnull=True),
                name="reviews_occurrence_one_per_date",
            ),
            models.UniqueConstraint(
                fields=["schedule", "due_on", "subject"],
                condition=Q(subject__isnull=False),
                name="reviews_occurrence_one_per_date_tam",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OccurrenceStatus.values), name="reviews_occurrence_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status="completed") & Q(completed_at__isnull=False))
                | (~Q(status="completed") & Q(completed_at__isnull=True)),
                name="reviews_occurrence_completed_at_iff_completed",
            ),
            models.CheckConstraint(
                condition=Q(status="scheduled") | Q(opened_at__isnull=False),
                name="reviews_occurrence_opened_has_date",
            ),
            models.CheckConstraint(
                condition=Q(kind="one_on_one", subject__isnull=False)
                | (~Q(kind="one_on_one") & Q(subject__isnull=True)),
                name="reviews_occurrence_subject_iff_one_on_one",
            ),
        ]
        indexes = [models.Index(fields=["region", "status", "due_on"], name="reviews_occ_region_idx")]

    def __str__(self) -> str:
        if self.kind == ReviewKind.ONE_ON_ONE and self.subject_id:
            return f"1:1 with {self.subject} · {self.due_on:%Y-%m-%d}"
        return f"{self.get_kind_display()} · {self.due_on:%Y-%m-%d}"

    @property
    def is_completed(self) -> bool:
        return self.status == OccurrenceStatus.COMPLETED

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return not self.is_completed and self.due_on < (today or timezone.localdate())


OCCURRENCE_FIELDS: tuple[str, ...] = (
    "kind",
    "region",
    "owner",
    "subject",
    "due_on",
    "status",
    "opened_at",
    "completed_at",
    "notes",
    "subject_notes",
)


class ReviewItem(models.Model):
    """One line of a review's checklist or a 1:1's agenda, as it stood when the review opened (``facts``,
    ``label``, ``account_name``), and the decision taken on it."""

    occurrence = models.ForeignKey(ReviewOccurrence, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(max_length=40)
    section_title = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=120, help_text="What the item is about, stable between reviews.")
    origin = models.CharField(max_length=10, choices=ItemOrigin.choices, default=ItemOrigin.CHECKLIST)
    label = models.CharField(max_length=300)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="review_items"
    )
    account_name = models.CharField(max_length=255, blank=True)
    link = models.CharField(max_length=500, blank=True)
    facts = models.JSONField(default=dict, blank=True, help_text="The figures the item showed, as they stood.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_to"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    task = models.ForeignKey(
        "actions.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="review_items"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values) | Q(decision=""), name="reviews_item_decision_valid"
            ),
            models.CheckConstraint(
                condition=(Q(decision="") & Q(decided_at__isnull=True))
                | (~Q(decision="") & Q(decided_at__isnull=False)),
                name="reviews_item_decided_at_iff_decision",
            ),
            models.CheckConstraint(condition=Q(origin__in=ItemOrigin.values), name="reviews_item_origin_valid"),
            models.CheckConstraint(condition=~Q(label=""), name="reviews_item_label_not_blank"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)

    @property
    def is_final(self) -> bool:
        """A decision whose side effect is done (a task, a case, an escalation): it is not changed afterwards."""
        return self.decision in (Decision.TASK, Decision.CASE, Decision.ESCALATED)


ITEM_FIELDS: tuple[str, ...] = ("section", "key", "origin", "label", "decision", "decision_note", "decided_at", "task")


class BurndownCount(models.Model):
    """One day's count of one burn-down exception for one TAM (``tam_id`` 0: no TAM) in one region, kept by the
    daily scheduler job so the chart shows each exception over weeks."""

    day = models.DateField()
    exception = models.CharField(max_length=40)
    region_id = models.PositiveIntegerField()
    tam_id = models.PositiveIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "exception"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "exception", "region_id", "tam_id"], name="reviews_burndown_one_row_per_cell"
            )
        ]
        indexes = [models.Index(fields=["exception", "day"], name="reviews_burndown_exc_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.exception} r{self.region_id} t{self.tam_id}: {self.count}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A person's secret calendar feed address (an ICS file). Resetting it makes the old address answer 404."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)
    reset_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(token=""), name="reviews_feed_token_not_blank")]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class ReviewSettings(models.Model):
    """The cockpit's thresholds: one row (pk 1) edited by admins in the Django admin, every change audited.
    Until saved, readers get the defaults (``selectors.review_settings()``). The onboarding exceptions of the
    burn-down use the onboarding targets (``onboarding.OnboardingTargets``), not figures of their own."""

    SINGLETON_PK = 1
    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    capacity_arr = models.DecimalField(
        "capacity target per TAM (ARR)",
        max_digits=14,
        decimal_places=2,
        default=Decimal("3600000"),
        help_text="A TAM's own capacity target, when set on their profile, wins over this.",
    )
    p1_share_target = models.DecimalField(
        "priority 1 share target",
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.333"),
        help_text="0.333 = one third.",
    )
    p1_call_days = models.PositiveSmallIntegerField("priority 1: a call at least every (days)", default=30)
    p2_call_days = models.PositiveSmallIntegerField("priority 2: a call at least every (days)", default=60)
    sentiment_days = models.PositiveSmallIntegerField("TAM sentiment older than (days)", default=90)
    ebr_months = models.PositiveSmallIntegerField("priority 1: an EBR within (months)", default=12)
    at_risk_update_days = models.PositiveSmallIntegerField("at-risk case without an update for (days)", default=35)
    renewal_window_days = models.PositiveSmallIntegerField("renewals due within (days)", default=90)
    schedule_horizon_days = models.PositiveSmallIntegerField("schedule reviews ahead (days)", default=14)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "review settings"
        verbose_name_plural = "review settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="reviews_settings_singleton"),
            models.CheckConstraint(
                condition=Q(capacity_arr__gt=0, p1_share_target__gt=0, p1_share_target__lte=1),
                name="reviews_settings_targets_positive",
            ),
            models.CheckConstraint(
                condition=Q(
                    p1_call_days__gte=1,
                    p2_call_days__gte=1,
                    sentiment_days__gte=1,
                    ebr_months__gte=1,
                    at_risk_update_days__gte=1,
                    renewal_window_days__gte=1,
                    schedule_horizon_days__gte=1,
                ),
                name="reviews_settings_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return "Review settings"


REVIEW_SETTINGS_FIELDS: tuple[str, ...] = (
    "capacity_arr",
    "p1_share_target",
    "p1_call_days",
    "p2_call_days",
    "sentiment_days",
    "ebr_months",
    "at_risk_update_days",
    "renewal_window_days",
    "schedule_horizon_days",
)
