"""The digital journey (domain section 10): email programs for the smallest customers, by days since they started.

A program (``Program``) is chosen by engagement model and/or ARR band and addresses contacts holding some personas.
Its steps (``Step``) fall on a day offset since the account's ``customer_since`` (day 0 = that date); a step may
repeat every ``repeat_days`` (the NPS survey every six months). The daily run (``services.journey_run``) inserts one
``Send`` per due (step, contact, occurrence): the unique constraint is what makes a step never send twice to a
contact, whatever the number of runs. The worker delivers queued sends (``services.sends_deliver``); opens, clicks,
unsubscribes and bounces are recorded as ``Event`` rows (data, not audit events).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q


class ProgramStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class StepKind(models.TextChoices):
    EMAIL = "email", "Email"
    NPS = "nps", "NPS survey"
    CSAT = "csat", "CSAT survey"
    WEBINAR = "webinar", "Webinar invitation"


SURVEY_KINDS = (StepKind.NPS, StepKind.CSAT)
# How far ahead a webinar invitation step looks for sessions to invite to (days after the run's day).
WEBINAR_INVITE_AHEAD_DAYS = 14


class SendStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    BOUNCED = "bounced", "Bounced"
    FAILED = "failed", "Failed"


class EventKind(models.TextChoices):
    OPEN = "open", "Opened"
    CLICK = "click", "Clicked"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
    BOUNCE = "bounce", "Bounced"
    REGISTER = "register", "Registered for the webinar"


def new_token() -> str:
    """The secret of a send's tracking and unsubscribe links (24 random bytes, URL-safe)."""
    return secrets.token_urlsafe(24)


class ProgramQuerySet(models.QuerySet["Program"]):
    def active(self) -> ProgramQuerySet:
        return self.filter(status=ProgramStatus.ACTIVE)


class Program(models.Model):
    """An email series. An account qualifies when its engagement model is one of ``engagement_models`` or its ARR
    lies in [``min_arr``, ``max_arr``] (either bound may be open); a program with neither criterion matches none."""

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=ProgramStatus.choices, default=ProgramStatus.ACTIVE)
    engagement_models = models.JSONField(default=list, blank=True)
    min_arr = models.DecimalField("minimum ARR", max_digits=14, decimal_places=2, null=True, blank=True)
    max_arr = models.DecimalField("maximum ARR", max_digits=14, decimal_places=2, null=True, blank=True)
    personas = models.ManyToManyField("contacts.Persona", blank=True, related_name="journey_programs")
    track = models.BooleanField("track opens and clicks", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProgramStatus.values), name="journey_program_status_valid"),
            models.CheckConstraint(
                condition=Q(min_arr__isnull=True) | Q(max_arr__isnull=True) | Q(min_arr__lte=models.F("max_arr")),
                name="journey_program_arr_band_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == ProgramStatus.ACTIVE

    def has_band(self) -> bool:
        return self.min_arr is not None or self.max_arr is not None


class Step(models.Model):
    """One email of a program, ``day`` days after the customer started; repeated every ``repeat_days`` days or
    every ``repeat_months`` calendar months if one is set (never both): occurrence 0 on ``day``, occurrence k on
    ``day + k * repeat_days``, or on day ``day``'s date plus ``k * repeat_months`` months (``schedule``). Survey steps invite to an NPS or CSAT
    survey and carry its link (``{{ survey_url }}``).

    A webinar step (``kind=webinar``) is not tied to one date: from ``day`` days after the customer started, each
    daily run invites the program's persona contacts to every webinar session starting within
    ``WEBINAR_INVITE_AHEAD_DAYS`` for which the account is on the session's invitation list (the net-new
    customers of ``webinars.selectors.invitees_for``). Its sends name the session (``Send.webinar_session``) and use
    the session's id as ``occurrence``, so a contact is invited once per session (and once per session across
    steps and programs: ``journey_send_webinar_once``). It does not repeat."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.EMAIL)
    day = models.PositiveIntegerField("day since start")
    repeat_days = models.PositiveIntegerField("repeat every (days)", null=True, blank=True)
    repeat_months = models.PositiveSmallIntegerField("repeat every (calendar months)", null=True, blank=True)
    subject = models.CharField("subject template", max_length=200)
    body = models.TextField("body template")
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program_id", "day", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=StepKind.values), name="journey_step_kind_valid"),
            models.CheckConstraint(
                condition=Q(repeat_days__isnull=True) | Q(repeat_days__gte=1), name="journey_step_repeat_positive"
            ),
            models.CheckConstraint(
                condition=Q(repeat_months__isnull=True) | Q(repeat_months__gte=1),
                name="journey_step_repeat_months_positive",
            ),
            models.CheckConstraint(
                condition=Q(repeat_days__isnull=True) | Q(repeat_months__isnull=True),
                name="journey_step_repeat_one_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (day {self.day})"

    @property
    def repeats(self) -> bool:
        return bool(self.repeat_days or self.repeat_months)

    @property
    def is_survey(self) -> bool:
        return self.kind in SURVEY_KINDS

    @property
    def is_webinar(self) -> bool:
        return self.kind == StepKind.WEBINAR


class SendQuerySet(models.QuerySet["Send"]):
    def due_for_delivery(self, now: object) -> SendQuerySet:
        return self.filter(status=SendStatus.QUEUED, next_attempt_at__lte=now)


class Send(models.Model):
    """One step's email to one contact (``occurrence`` counts a recurring step's repeats; for a webinar step it is
    the session's id). Never twice: the (step, contact, occurrence) constraint, and for webinar invitations the
    (contact, session) one."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="sends")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="journey_sends")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="journey_sends")
    occurrence = models.PositiveIntegerField(default=0)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=SendStatus.choices, default=SendStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    token = models.CharField(max_length=40, unique=True, default=new_token)
    survey_invitation = models.ForeignKey(
        "surveys.SurveyInvitation", on_delete=models.SET_NULL, null=True, blank=True, related_name="journey_sends"
    )
    webinar_session = models.ForeignKey(
        "webinars.Session", on_delete=models.SET_NULL, null=True, blank=True, related_name="journey_sends"
    )
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)

    objects = SendQuerySet.as_manager()

    class Meta:
        ordering = ["-due_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["step", "contact", "occurrence"], name="journey_send_once"),
            models.UniqueConstraint(
                fields=["contact", "webinar_session"],
                condition=Q(webinar_session__isnull=False),
                name="journey_send_webinar_once",
            ),
            models.CheckConstraint(condition=Q(status__in=SendStatus.values), name="journey_send_status_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="journey_send_queue_idx"),
            models.Index(fields=["account", "due_on"], name="journey_send_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.step_id} to {self.contact_id} #{self.occurrence}"


class Event(models.Model):
    """Something a send's recipient did (open, click with its URL, unsubscribe) or that happened to it (bounce)."""

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="events")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="journey_events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    at = models.DateTimeField()
    url = models.URLField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="journey_event_kind_valid"),
            # One registration per invitation, even for two clicks at once.
            models.UniqueConstraint(
                fields=["send"], condition=Q(kind="register"), name="journey_event_one_registration"
            ),
        ]
        indexes = [models.Index(fields=["account", "at"], name="journey_event_account_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.send_id}"
