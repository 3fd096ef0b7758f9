"""Triage (domain §7): a case per at-risk account, its next steps and updates, escalations, and the settings
that say how often cases and escalations must be updated.

An account has at most one open case (a partial unique constraint), so proposing, opening from the account
page and the API can never make a second one. A case is closed only with an outcome (a check constraint).
How often a case must be updated (red every 14 days, yellow every 30) and each escalation severity's update
cadence are data on the ``TriageSettings`` row, edited by admins and audited.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tamarind.core.steps import NextStep


class HealthColor(models.TextChoices):
    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"


class RiskType(models.TextChoices):
    CUSTOMER_CHURN = "customer_churn", "Customer churn"
    TIER_DOWNGRADE = "tier_downgrade", "Tier downgrade"
    SEAT_CHURN = "seat_churn", "Seat churn"
    SENTIMENT = "sentiment", "Sentiment"
    COMPETITOR = "competitor", "Competitor"


class RiskReason(models.TextChoices):
    LACK_OF_ADOPTION = "lack_of_adoption", "Lack of adoption"
    PRODUCT_VALUE = "product_value", "Product value / gaps"
    PRODUCT_QUALITY = "product_quality", "Product quality / availability"
    LACK_OF_ENGAGEMENT = "lack_of_engagement", "Lack of engagement / sponsor"
    LOSS_OF_BUDGET = "loss_of_budget", "Loss of budget"
    CORPORATE_DECISION = "corporate_decision", "Corporate decision"
    COMPETITION = "competition", "Competition"
    OTHER = "other", "Other"


class Classification(models.TextChoices):
    EXPECTED_AVOIDABLE = "expected_avoidable", "Expected, avoidable"
    EXPECTED_UNAVOIDABLE = "expected_unavoidable", "Expected, unavoidable"
    UNEXPECTED_AVOIDABLE = "unexpected_avoidable", "Unexpected, avoidable"
    UNEXPECTED_UNAVOIDABLE = "unexpected_unavoidable", "Unexpected, unavoidable"


class CaseStatus(models.TextChoices):
    """The board's columns, in order."""

    NEW = "new", "New"
    INVESTIGATING = "investigating", "Investigating"
    ACTION_PLAN = "action_plan", "Action plan"
    MONITORING = "monitoring", "Monitoring"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    WON_BACK = "won_back", "Won back"
    LOST_CHURN = "lost_churn", "Lost (churn)"
    LOST_CONTRACTION = "lost_contraction", "Lost (contraction)"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


def _choice(field: str, choices: type[models.TextChoices], *, blank: bool = True) -> Q:
    q = Q(**{f"{field}__in": choices.values})
    return q | Q(**{field: ""}) if blank else q


class TriageSettings(models.Model):
    """How often triage cases and escalations must be updated, in days: one row (pk 1), edited by admins,
    every change audited. Until an admin saves it, readers get an unsaved row with the defaults
    (``selectors.triage_settings()``): red cases every 14 days, yellow every 30; escalations critical daily,
    high several times a week (every 2 days), medium weekly, low at the standard cadence (30 days)."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    red_update_days = models.PositiveSmallIntegerField("red cases: update every (days)", default=14)
    yellow_update_days = models.PositiveSmallIntegerField("yellow cases: update every (days)", default=30)
    critical_update_days = models.PositiveSmallIntegerField("critical escalations: update every (days)", default=1)
    high_update_days = models.PositiveSmallIntegerField("high escalations: update every (days)", default=2)
    medium_update_days = models.PositiveSmallIntegerField("medium escalations: update every (days)", default=7)
    low_update_days = models.PositiveSmallIntegerField("low escalations: update every (days)", default=30)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = "triage settings"
        verbose_name_plural = "triage settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="triage_settings_singleton"),
            models.CheckConstraint(
                condition=Q(
                    red_update_days__gte=1,
                    yellow_update_days__gte=1,
                    critical_update_days__gte=1,
                    high_update_days__gte=1,
                    medium_update_days__gte=1,
                    low_update_days__gte=1,
                ),
                name="triage_settings_positive",
            ),
        ]

    def __str__(self) -> str:
        return "Triage settings"

    def case_days(self, color: str) -> int:
        """Days a case of this health color may go without an update (red is strictest; others as yellow)."""
        return self.red_update_days if color == HealthColor.RED else self.yellow_update_days

    def escalation_days(self, severity: str) -> int:
        return int(getattr(self, f"{severity}_update_days", self.low_update_days))


SETTINGS_FIELDS: tuple[str, ...] = (
    "red_update_days",
    "yellow_update_days",
    "critical_update_days",
    "high_update_days",
    "medium_update_days",
    "low_update_days",
)


class TriageCaseQuerySet(models.QuerySet["TriageCase"]):
    def visible_to(self, user: models.Model) -> TriageCaseQuerySet:
        """The one list scope: cases of the accounts ``user`` may read (``tamarind.policy.triage_case_scope``)."""
        from tamarind import policy

        scope = policy.triage_case_scope(user)  # type: ignore[arg-type]
        return self if scope is None else self.filter(scope)

    def with_related(self) -> TriageCaseQuerySet:
        # ``account__health``: a card shows the account's health now, not only the color the case opened with.
        return self.select_related("account", "account__region", "account__tam", "account__health", "owner")

    def open(self) -> TriageCaseQuerySet:
        return self.exclude(status=CaseStatus.CLOSED)

    def overdue(self, settings_row: TriageSettings, now: dt.datetime | None = None) -> TriageCaseQuerySet:
        """Open cases not updated within their color's days."""
        return self.open().filter(overdue_q(settings_row, now or timezone.now()))


def red_cadence_q() -> Q:
    """The cases on the red cadence: those whose account's health is Red now, or, for an account not scored
    (any more), whose health was Red when the case opened. A case follows its account's color as it moves, as the
    card shows it: an account that turned Red since the case opened is due every red-cadence days."""
    unscored = Q(account__health__isnull=True) | Q(account__health__color="")
    return Q(account__health__color=HealthColor.RED) | (unscored & Q(health_color=HealthColor.RED))


def late_q(*, red_before: dt.datetime, other_before: dt.datetime) -> Q:
    """Cases last updated before their cadence's cut-off (``red_cadence_q`` decides which cut-off is theirs)."""
    red = red_cadence_q()
    return (red & Q(last_update_at__lt=red_before)) | (~red & Q(last_update_at__lt=other_before))


def overdue_q(settings_row: TriageSettings, now: dt.datetime) -> Q:
    return late_q(
        red_before=now - dt.timedelta(days=settings_row.red_update_days),
        other_before=now - dt.timedelta(days=settings_row.yellow_update_days),
    )


class TriageCase(models.Model):
    """One at-risk account on the triage board. ``last_update_at`` moves with every status move, note and
    step, and is what "overdue" is measured from. Closed cases keep their outcome."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="triage_cases")
    health_color = models.CharField("health at open", max_length=10, choices=HealthColor.choices, blank=True)
    risk_type = models.CharField(max_length=30, choices=RiskType.choices, blank=True)
    risk_reason = models.CharField(max_length=30, choices=RiskReason.choices, blank=True)
    classification = models.CharField(max_length=30, choices=Classification.choices, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="triage_cases"
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    summary = models.TextField(blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    last_update_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TriageCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-last_update_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=~Q(status="closed"),
                name="triage_case_one_open_per_account",
                violation_error_message="This account already has an open triage case.",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed") & ~Q(outcome="") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(outcome="") & Q(closed_at__isnull=True)),
                name="triage_case_outcome_iff_closed",
            ),
            models.CheckConstraint(condition=_choice("status", CaseStatus, blank=False), name="triage_case_status"),
            models.CheckConstraint(condition=_choice("outcome", Outcome), name="triage_case_outcome_valid"),
            models.CheckConstraint(condition=_choice("health_color", HealthColor), name="triage_case_color"),
            models.CheckConstraint(condition=_choice("risk_type", RiskType), name="triage_case_risk_type"),
            models.CheckConstraint(condition=_choice("risk_reason", RiskReason), name="triage_case_risk_reason"),
            models.CheckConstraint(
                condition=_choice("classification", Classification), name="triage_case_classification"
            ),
        ]
        indexes = [models.Index(fields=["status", "last_update_at"], name="triage_case_status_idx")]

    def __str__(self) -> str:
        return f"Triage: {self.account}" if self.account_id else "Triage case"

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED

    @property
    def prev_status(self) -> str:
        """The column to the left (a closed case's is Monitoring: reopening), '' on the first."""
        order = CaseStatus.values
        i = order.index(self.status)
        return order[i - 1] if i > 0 else ""

    @property
    def next_status(self) -> str:
        order = CaseStatus.values
        i = order.index(self.status)
        return order[i + 1] if i + 1 < len(order) else ""

    @property
    def cadence_color(self) -> str:
        """The color whose update cadence the case follows: the account's health now, or the color at open for an
        account not scored (``red_cadence_q`` in SQL). Fetch with ``with_related`` to read it without a query."""
        health = getattr(self.account, "health", None)
        return (health.color if health is not None else "") or self.health_color

    def is_overdue(self, settings_row: TriageSettings, now: dt.datetime | None = None) -> bool:
        if not self.is_open:
            return False
        days = settings_row.case_days(self.cadence_color)
        return self.last_update_at < (now or timezone.now()) - dt.timedelta(days=days)


CASE_FIELDS: tuple[str, ...] = (
    "account",
    "health_color",
    "risk_type",
    "risk_reason",
    "classification",
    "renewal_date",
    "owner",
    "status",
    "outcome",
    "summary",
    "closed_at",
)


class TriageStep(NextStep):
    """A next step of a case, with a date."""

    case = models.ForeignKey(TriageCase, on_delete=models.CASCADE, related_name="steps")


STEP_FIELDS: tuple[str, ...] = ("text", "due_on", "done", "done_at")


class TriageNote(models.Model):
    """An update on a case: what happened, what is next. Posting one counts as updating the case."""

    case = models.ForeignKey(TriageCase, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="triage_note_text_not_blank")]

    def __str__(self) -> str:
        return self.text[:80]


class EscalationQuerySet(models.QuerySet["Escalation"]):
    def visible_to(self, user: models.Model) -> EscalationQuerySet:
        from tamarind import policy

        scope = policy.escalation_scope(user)  # type: ignore[arg-type]
        return self if scope is None else self.filter(scope)

    def with_related(self) -> EscalationQuerySet:
        return self.select_related("account", "account__region", "case", "owner")


class Escalation(models.Model):
    """An escalation on an account (optionally tied to its triage case). Its severity sets how often it must be
    updated (``TriageSettings``: critical daily, high several a week, medium weekly, low standard)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="escalations")
    case = models.ForeignKey(TriageCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations")
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    last_update_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["status", "-last_update_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_choice("severity", Severity, blank=False), name="triage_esc_severity"),
            models.CheckConstraint(
                condition=_choice("status", EscalationStatus, blank=False), name="triage_esc_status"
            ),
            models.CheckConstraint(
                condition=(Q(status="resolved") & Q(resolved_at__isnull=False))
                | (Q(status="open") & Q(resolved_at__isnull=True)),
                name="triage_esc_resolved_at_iff_resolved",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="triage_esc_title_not_blank"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, settings_row: TriageSettings, now: dt.datetime | None = None) -> bool:
        if self.status != EscalationStatus.OPEN:
            return False
        days = settings_row.escalation_days(self.severity)
        return self.last_update_at < (now or timezone.now()) - dt.timedelta(days=days)


ESCALATION_FIELDS: tuple[str, ...] = ("account", "case", "title", "severity", "status", "description", "owner")
