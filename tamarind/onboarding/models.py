"""Onboarding: one record per onboarding of an account, its milestone dates, steps and time-to-value targets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tamarind.onboarding.metrics import TargetDays

if TYPE_CHECKING:
    from tamarind.people.models import User


class OnboardingStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"


OPEN_STATUSES: tuple[str, ...] = tuple(s for s in OnboardingStatus.values if s != OnboardingStatus.COMPLETED)


@dataclass(frozen=True)
class Step:
    """One step of the onboarding checklist, done on the date stored in ``field``."""

    key: str
    field: str
    label: str
    help: str


# The checklist, in the order a TAM works through it (domain reference, section 4).
STEPS: tuple[Step, ...] = (
    Step("handoff", "handoff_done_on", "Internal handoff", "With the SAL/AE and the SA."),
    Step("welcome_email", "welcome_email_done_on", "Welcome email", "Sent to the customer's contacts."),
    Step("kickoff_call", "kickoff_call_done_on", "Kickoff call", "The first engagement, within the engage target."),
    Step("success_plan", "success_plan_done_on", "First success plan draft", "Shared with the customer."),
    Step("cadence_call", "cadence_call_done_on", "First cadence call", "Completes the onboarding."),
)
STEP_BY_KEY: dict[str, Step] = {s.key: s for s in STEPS}

# The milestone dates, in the order they usually happen.
DATE_FIELDS: tuple[str, ...] = (
    "contract_start",
    "onboarding_start",
    "first_engagement",
    "infrastructure_ready",
    "first_value",
    "onboarding_finish",
)

# Completing an onboarding needs every milestone date.
REQUIRED_TO_COMPLETE: tuple[str, ...] = DATE_FIELDS


class OnboardingQuerySet(models.QuerySet["Onboarding"]):
    def visible_to(self, user: User) -> OnboardingQuerySet:
        """Onboarding records of the accounts ``user`` may read (see ``tamarind.policy``)."""
        from tamarind import policy

        scope = policy.onboarding_scope(user)
        return self if scope is None else self.filter(scope)

    def open(self) -> OnboardingQuerySet:
        return self.exclude(status=OnboardingStatus.COMPLETED)

    def with_people(self) -> OnboardingQuerySet:
        return self.select_related("account", "account__region", "account__tam", "tam")


class Onboarding(models.Model):
    """The onboarding of one account by its TAM: status, milestone dates, checklist, notes and the survey score.

    An account has at most one onboarding that is not completed (a partial unique constraint); completed ones
    stay as history. ``tam`` is empty while the account has no TAM ("unassigned" on the managers' lists).
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="onboardings")
    tam = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="TAM",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="onboardings",
    )
    status = models.CharField(max_length=20, choices=OnboardingStatus.choices, default=OnboardingStatus.NOT_STARTED)

    contract_start = models.DateField("contract start (purchase)", null=True, blank=True)
    onboarding_start = models.DateField(null=True, blank=True)
    first_engagement = models.DateField(
        "first engagement", null=True, blank=True, help_text="The first call with the customer (kickoff call)."
    )
    infrastructure_ready = models.DateField(null=True, blank=True)
    first_value = models.DateField(
        null=True, blank=True, help_text="10% of licenses in use, or set by hand when the customer sees value."
    )
    onboarding_finish = models.DateField(null=True, blank=True, help_text="The first cadence call.")

    handoff_done_on = models.DateField("internal handoff done", null=True, blank=True)
    welcome_email_done_on = models.DateField("welcome email sent", null=True, blank=True)
    kickoff_call_done_on = models.DateField("kickoff call held", null=True, blank=True)
    success_plan_done_on = models.DateField("first success plan drafted", null=True, blank=True)
    cadence_call_done_on = models.DateField("first cadence call held", null=True, blank=True)

    notes = models.TextField(blank=True)
    challenges = models.TextField(blank=True)
    highlights = models.TextField(blank=True)
    delay_reason = models.CharField(max_length=500, blank=True, help_text="Why the onboarding is on hold or late.")
    experience_score = models.PositiveSmallIntegerField(
        "onboarding experience score",
        null=True,
        blank=True,
        help_text="1 (poor) to 5 (excellent), from the customer survey or the TAM's judgement.",
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OnboardingQuerySet.as_manager()

    class Meta:
        ordering = ["-onboarding_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=~Q(status="completed"),
                name="onboarding_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(experience_score__isnull=True) | Q(experience_score__gte=1, experience_score__lte=5),
                name="onboarding_score_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | (
                    Q(experience_score__isnull=False)
                    & ~Q(notes="")
                    & Q(**{f"{name}__isnull": False for name in REQUIRED_TO_COMPLETE})
                ),
                name="onboarding_completed_has_dates_notes_score",
            ),
            models.CheckConstraint(
                condition=~Q(status="on_hold") | ~Q(delay_reason=""),
                name="onboarding_on_hold_has_reason",
            ),
            models.CheckConstraint(condition=Q(status__in=OnboardingStatus.values), name="onboarding_status_valid"),
        ]
        indexes = [
            models.Index(fields=["tam", "status"], name="onboarding_tam_status_idx"),
            models.Index(fields=["status", "onboarding_start"], name="onboarding_status_start_idx"),
        ]

    def __str__(self) -> str:
        return f"Onboarding of {self.account}" if self.account_id else "Onboarding"

    @property
    def is_open(self) -> bool:
        return self.status != OnboardingStatus.COMPLETED

    def dates(self) -> dict[str, dt.date | None]:
        return {name: getattr(self, name) for name in DATE_FIELDS}


# Fields a person edits on an onboarding record; audit snapshots use this list.
ONBOARDING_FIELDS: tuple[str, ...] = (
    "tam",
    "status",
    *DATE_FIELDS,
    *(s.field for s in STEPS),
    "notes",
    "challenges",
    "highlights",
    "delay_reason",
    "experience_score",
)


class OnboardingTargets(models.Model):
    """The time-to-value targets in days: one row (pk 1), edited by admins, every change audited.

    Until an admin saves it the row need not exist: readers get the defaults (``onboarding_targets()``).
    """

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    engage_days = models.PositiveSmallIntegerField(
        "time to engage (days)", default=14, help_text="Onboarding start to the first call with the customer."
    )
    first_value_days = models.PositiveSmallIntegerField(
        "time to first value (days)", default=30, help_text="Contract start to first value."
    )
    onboard_days = models.PositiveSmallIntegerField(
        "time to onboard (days)", default=45, help_text="Onboarding start to onboarding finish."
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = "onboarding targets"
        verbose_name_plural = "onboarding targets"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="onboarding_targets_singleton"),
            models.CheckConstraint(
                condition=Q(engage_days__gte=1, first_value_days__gte=1, onboard_days__gte=1),
                name="onboarding_targets_positive",
            ),
        ]

    def __str__(self) -> str:
        return "Onboarding targets"

    def as_days(self) -> TargetDays:
        return TargetDays(engage=self.engage_days, first_value=self.first_value_days, onboard=self.onboard_days)


TARGET_FIELDS: tuple[str, ...] = ("engage_days", "first_value_days", "onboard_days")
