"""Enablement webinars (domain section 10): topics, run in rounds (1 operationalize, 2 promotion with marketing,
3 on demand) as sessions; who registered for and who attended each session (imported from the webinar platform's
attendee report, matched to contacts by email), how long, whether they stayed to the end, their feedback score; and
the registrants the report named that match no single contact (kept for a person to match: never dropped).

A registration and its attendance are one row (``Attendance``, ``attended`` true or false): a registrant who did
not attend has no join/leave times, no minutes, did not stay and gave no feedback (DB constraints hold this).

The targets (50% of net-new customers attend, 80% of attendees stay to the end, feedback above 4.0), what
"net-new" means (customers who started within N days of the session) and what "stayed to the end" means (left
within N minutes of the end) are data: the one ``WebinarSettings`` row, which admins edit.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Topic(models.Model):
    """A webinar topic; the five of domain section 10 are seeded, admins add more."""

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name


class Round(models.TextChoices):
    OPERATIONALIZE = "1", "Round 1: operationalize"
    PROMOTION = "2", "Round 2: promotion with marketing"
    ON_DEMAND = "3", "Round 3: on demand"


class WebinarSettings(models.Model):
    """The one row of webinar targets and rules (pk 1, seeded by migration; ``selectors.webinar_settings``)."""

    attendance_target = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.500"), help_text="Share of net-new customers attending."
    )
    stayed_target = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.800"), help_text="Share of attendees staying to the end."
    )
    feedback_target = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("4.00"), help_text="Average feedback must be above this."
    )
    net_new_days = models.PositiveIntegerField(
        default=90, help_text="A customer is net-new for a session if it started within this many days before it."
    )
    stayed_within_minutes = models.PositiveIntegerField(
        default=5, help_text="An attendee stayed to the end if they left within this many minutes of the end."
    )

    class Meta:
        verbose_name = "webinar settings"
        verbose_name_plural = "webinar settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(attendance_target__gte=0, attendance_target__lte=1, stayed_target__gte=0)
                & Q(stayed_target__lte=1, feedback_target__gte=1, feedback_target__lte=5),
                name="webinar_settings_targets_in_range",
            )
        ]

    def __str__(self) -> str:
        return "Webinar settings"


class SessionQuerySet(models.QuerySet["Session"]):
    def with_refs(self) -> SessionQuerySet:
        return self.select_related("topic", "host")

    def in_season(self) -> SessionQuerySet:
        return self.order_by("starts_at", "pk")


class Session(models.Model):
    """One live (or on-demand) session of a topic in a round; its attendance comes from the attendee report."""

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="sessions")
    round = models.CharField(max_length=1, choices=Round.choices)
    title = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="webinar_sessions"
    )
    recording_url = models.URLField("recording link", max_length=500, blank=True)
    report_filename = models.CharField(max_length=255, blank=True)
    report_rows = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(round__in=Round.values), name="webinar_session_round_valid"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="webinar_session_ends_after_start"),
        ]
        indexes = [models.Index(fields=["topic", "round"], name="webinar_session_topic_round")]

    def __str__(self) -> str:
        return self.title or f"{self.topic} ({self.get_round_display()})"

    @property
    def label(self) -> str:
        return str(self)


# Attended: both times known. Registered only: no times, nothing measured (``feedback`` here; the unmatched
# attendee's row has no ``stayed_to_end``, hence the two spellings).
ATTENDED_TIMES = Q(attended=True, first_join__isnull=False, last_leave__isnull=False)
NO_SHOW = Q(attended=False, first_join__isnull=True, last_leave__isnull=True, minutes_attended=0, feedback__isnull=True)
ATTENDED_OR_NO_SHOW = ATTENDED_TIMES | (NO_SHOW & Q(stayed_to_end=False))


class AttendanceQuerySet(models.QuerySet["Attendance"]):
    def with_refs(self) -> AttendanceQuerySet:
        return self.select_related("contact", "account", "session__topic")


class Attendance(models.Model):
    """A contact's registration for a session and, when ``attended``, their attendance (one row per session and
    contact; several join/leave rows of the report merged): first join, last leave, minutes attended (the union of
    their intervals), stayed to the end, feedback 1-5. A registrant who did not attend (``attended`` false) has
    none of these: no times, 0 minutes, not stayed, no feedback. ``account`` is the contact's, kept for the
    per-account and per-round queries."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="webinar_attendances")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="webinar_attendances")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    attended = models.BooleanField(
        default=True, help_text="False: registered for the session but did not attend (no times)."
    )
    first_join = models.DateTimeField(null=True, blank=True)
    last_leave = models.DateTimeField(null=True, blank=True)
    minutes_attended = models.PositiveIntegerField(default=0)
    stayed_to_end = models.BooleanField(default=False)
    feedback = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        ordering = ["session_id", "first_join", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "contact"], name="webinar_attendance_one_per_contact"),
            models.CheckConstraint(condition=Q(last_leave__gte=F("first_join")), name="webinar_attendance_times"),
            models.CheckConstraint(
                condition=Q(feedback__isnull=True) | Q(feedback__gte=1, feedback__lte=5),
                name="webinar_attendance_feedback_1_5",
            ),
            models.CheckConstraint(condition=ATTENDED_OR_NO_SHOW, name="webinar_attendance_attended_times"),
        ]
        indexes = [models.Index(fields=["account", "session"], name="webinar_attendance_account")]

    def __str__(self) -> str:
        return f"{self.email} at session {self.session_id}"


class UnmatchedReason(models.TextChoices):
    UNKNOWN = "unknown", "No contact has this email"
    AMBIGUOUS = "ambiguous", "Contacts at several accounts have this email"


class UnmatchedAttendee(models.Model):
    """A registrant of the report that matches no single contact: unknown email, or an email of contacts at
    several accounts. Kept with its raw join/leave intervals (none when it did not attend: ``attended`` false)
    until a person matches it to a contact (then it stays, resolved, and the contact's registration and attendance
    are written from it); re-imports keep the person's choice."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="unmatched")
    email = models.CharField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=10, choices=UnmatchedReason.choices)
    attended = models.BooleanField(
        default=True, help_text="False: registered for the session but did not attend (no times)."
    )
    intervals = models.JSONField(default=list, blank=True, help_text="[[join ISO, leave ISO], ...] as reported.")
    first_join = models.DateTimeField(null=True, blank=True)
    last_leave = models.DateTimeField(null=True, blank=True)
    minutes_attended = models.PositiveIntegerField(default=0)
    feedback = models.PositiveSmallIntegerField(null=True, blank=True)
    lines = models.CharField(max_length=200, blank=True, help_text="The report's line numbers.")
    resolved_contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "email", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "email"], name="webinar_unmatched_one_per_email"),
            models.CheckConstraint(condition=Q(reason__in=UnmatchedReason.values), name="webinar_unmatched_reason"),
            models.CheckConstraint(
                condition=Q(feedback__isnull=True) | Q(feedback__gte=1, feedback__lte=5),
                name="webinar_unmatched_feedback_1_5",
            ),
            models.CheckConstraint(condition=ATTENDED_TIMES | NO_SHOW, name="webinar_unmatched_attended_times"),
        ]

    def __str__(self) -> str:
        return f"Unmatched {self.email} at session {self.session_id}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
