"""Renewals and retention (domain §8, §9): a renewal per account and date, its next steps, the twice-monthly
renewal review with its per-renewal decisions, the admins' renewal settings, and each account's monthly ARR
snapshot that retention is computed from.

Invariants live in the database: one renewal per (account, date), one per CRM opportunity id, an outcome (with
its new ARR) if and only if the renewal is closed, money never negative, one snapshot per (account, month), one
settings row.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tamarind.core.steps import NextStep


def _choice(field: str, choices: type[models.TextChoices], *, blank: bool = True) -> Q:
    q = Q(**{f"{field}__in": choices.values})
    return q | Q(**{field: ""}) if blank else q


class Forecast(models.TextChoices):
    COMMIT = "commit", "Commit"
    LIKELY = "likely", "Likely"
    AT_RISK = "at_risk", "At risk"
    WILL_CHURN = "will_churn", "Will churn"


# The forecasts that notify the manager and propose a triage case when a renewal moves into them.
RISK_FORECASTS = frozenset({Forecast.AT_RISK, Forecast.WILL_CHURN})


class RenewalStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class RenewalOutcome(models.TextChoices):
    RENEWED_FLAT = "renewed_flat", "Renewed flat"
    EXPANDED = "expanded", "Expanded"
    CONTRACTED = "contracted", "Contracted"
    CHURNED = "churned", "Churned"


class OutcomeReason(models.TextChoices):
    """Why ARR moved: churn (cancellation, downgrade) or expansion (seats, product, mix, price)."""

    CANCELLATION = "cancellation", "Cancellation"
    DOWNGRADE = "downgrade", "Downgrade"
    SEAT_EXPANSION = "seat_expansion", "Seat expansion"
    PRODUCT_CHANGE = "product_change", "Product change"
    PRODUCT_SEAT_MIX = "product_seat_mix", "Product / seat mix"
    PRICE_CHANGE = "price_change", "Price change"


class RenewalSettings(models.Model):
    """The renewal settings: one row (pk 1), edited by admins in Django admin and on the settings page, every
    change audited. Until saved, readers get an unsaved row with these defaults (``selectors.renewal_settings``)."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    fiscal_start_month = models.PositiveSmallIntegerField(
        "fiscal year starts in month", default=2, help_text="1 = January, 2 = February, ..."
    )
    task_lead_months = models.PositiveSmallIntegerField("renewal task opens (months before)", default=6)
    review_due_days = models.PositiveSmallIntegerField("internal renewal review due (days after the task)", default=60)
    term_months = models.PositiveSmallIntegerField("renewal term (months)", default=12)
    reviews_per_month = models.PositiveSmallIntegerField("renewal reviews per month", default=2)
    gross_target_pct = models.DecimalField("gross retention target (%)", max_digits=6, decimal_places=2, default=90)
    net_target_pct = models.DecimalField("net retention target (%)", max_digits=6, decimal_places=2, default=130)
    roll_up_to_parent = models.BooleanField(
        "retention rolled up to the parent account",
        default=False,
        help_text="Compare a parent's and its children's ARR together instead of each account on its own.",
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = "renewal settings"
        verbose_name_plural = "renewal settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="renewals_settings_singleton"),
            models.CheckConstraint(
                condition=Q(fiscal_start_month__gte=1, fiscal_start_month__lte=12), name="renewals_settings_month"
            ),
            models.CheckConstraint(
                condition=Q(
                    task_lead_months__gte=1,
                    task_lead_months__lte=24,
                    review_due_days__gte=1,
                    term_months__gte=1,
                    term_months__lte=120,
                    reviews_per_month__gte=1,
                    reviews_per_month__lte=31,
                    gross_target_pct__gt=0,
                    net_target_pct__gt=0,
                ),
                name="renewals_settings_positive",
            ),
        ]

    def __str__(self) -> str:
        return "Renewal settings"

    @property
    def review_every_days(self) -> int:
        """Days a renewal review may be apart: twice a month is every 15 days."""
        return max(1, math.ceil(30 / self.reviews_per_month))


SETTINGS_FIELDS: tuple[str, ...] = (
    "fiscal_start_month",
    "task_lead_months",
    "review_due_days",
    "term_months",
    "reviews_per_month",
    "gross_target_pct",
    "net_target_pct",
    "roll_up_to_parent",
)


class RenewalQuerySet(models.QuerySet["Renewal"]):
    def visible_to(self, user: models.Model) -> RenewalQuerySet:
        """The one list scope: renewals of the accounts ``user`` may read (``policy.renewal_scope``)."""
        from tamarind import policy

        scope = policy.renewal_scope(user)  # type: ignore[arg-type]
        return self if scope is None else self.filter(scope)

    def with_related(self) -> RenewalQuerySet:
        return self.select_related("account", "account__region", "account__health", "tam", "owner")

    def open(self) -> RenewalQuerySet:
        return self.filter(status=RenewalStatus.OPEN)


class Renewal(models.Model):
    """One renewal of one account on one date: the ARR up for renewal, who owns it (SAL/AE) and the TAM, the
    forecast with its reason, notes, and once closed the outcome with the new ARR and its reason.

    ``previous_forecast`` and ``forecast_changed_at`` keep the last forecast move, so the review page says what
    moved since the last review without reading the audit trail. ``task_raised_on`` / ``review_task_raised_on``
    record that the renewal's tasks were raised, so a task done early is not raised again."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="renewals")
    renewal_date = models.DateField(db_index=True)
    arr = models.DecimalField("ARR up for renewal", max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="owner (SAL / AE)",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_renewals",
    )
    tam = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="TAM",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tam_renewals",
    )
    forecast = models.CharField(max_length=12, choices=Forecast.choices, default=Forecast.LIKELY)
    forecast_reason = models.CharField(max_length=500, blank=True)
    previous_forecast = models.CharField(max_length=12, choices=Forecast.choices, blank=True)
    forecast_changed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    crm_opportunity_id = models.CharField("CRM opportunity id", max_length=64, blank=True)
    crm_stage = models.CharField("CRM stage", max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=RenewalStatus.choices, default=RenewalStatus.OPEN)
    outcome = models.CharField(max_length=20, choices=RenewalOutcome.choices, blank=True)
    new_arr = models.DecimalField("new ARR", max_digits=14, decimal_places=2, null=True, blank=True)
    outcome_reason = models.CharField(max_length=20, choices=OutcomeReason.choices, blank=True)
    outcome_notes = models.CharField(max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    task_raised_on = models.DateField(null=True, blank=True, editable=False)
    review_task_raised_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RenewalQuerySet.as_manager()

    class Meta:
        ordering = ["renewal_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "renewal_date"],
                name="renewals_one_per_account_date",
                violation_error_message="This account already has a renewal on that date.",
            ),
            models.UniqueConstraint(
                fields=["crm_opportunity_id"],
                condition=~Q(crm_opportunity_id=""),
                name="renewals_one_per_opportunity",
                violation_error_message="Another renewal has this CRM opportunity id.",
            ),
            models.CheckConstraint(condition=Q(arr__gte=0), name="renewals_arr_not_negative"),
            models.CheckConstraint(
                condition=Q(new_arr__isnull=True) | Q(new_arr__gte=0), name="renewals_new_arr_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(status="closed") & ~Q(outcome="") & Q(new_arr__isnull=False) & Q(closed_at__isnull=False))
                | (Q(status="open") & Q(outcome="") & Q(new_arr__isnull=True) & Q(closed_at__isnull=True)),
                name="renewals_outcome_iff_closed",
            ),
            models.CheckConstraint(condition=_choice("forecast", Forecast, blank=False), name="renewals_forecast"),
            models.CheckConstraint(condition=_choice("previous_forecast", Forecast), name="renewals_prev_forecast"),
            models.CheckConstraint(condition=_choice("status", RenewalStatus, blank=False), name="renewals_status"),
            models.CheckConstraint(condition=_choice("outcome", RenewalOutcome), name="renewals_outcome"),
            models.CheckConstraint(condition=_choice("outcome_reason", OutcomeReason), name="renewals_reason"),
        ]
        indexes = [models.Index(fields=["renewal_date", "id"], name="renewals_date_id_idx")]

    def __str__(self) -> str:
        return f"{self.account} renews {self.renewal_date.isoformat()}" if self.account_id else "Renewal"

    @property
    def is_open(self) -> bool:
        return self.status == RenewalStatus.OPEN

    @property
    def expected_arr(self) -> Decimal | None:
        """What this renewal is expected to bring: the new ARR once closed; open, the ARR unless it will churn."""
        if not self.is_open:
            return self.new_arr
        return Decimal(0) if self.forecast == Forecast.WILL_CHURN else self.arr


RENEWAL_FIELDS: tuple[str, ...] = (
    "account",
    "renewal_date",
    "arr",
    "currency",
    "owner",
    "tam",
    "forecast",
    "forecast_reason",
    "notes",
    "crm_opportunity_id",
    "crm_stage",
    "status",
    "outcome",
    "new_arr",
    "outcome_reason",
    "outcome_notes",
    "closed_at",
)


class RenewalStep(NextStep):
    """A next step of a renewal, with its date."""

    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="steps")

    class Meta(NextStep.Meta):
        indexes = [models.Index(fields=["renewal", "done", "due_on"], name="renewals_step_next_idx")]


class RenewalReviewQuerySet(models.QuerySet["RenewalReview"]):
    def visible_to(self, user: models.Model) -> RenewalReviewQuerySet:
        from tamarind import policy

        scope = policy.renewal_review_scope(user)  # type: ignore[arg-type]
        return self if scope is None else self.filter(scope)


class RenewalReview(models.Model):
    """A renewal review that was held: for one region, on a date, who attended, notes, and a decision per
    renewal discussed. Recorded by the region's manager or an admin."""

    region = models.ForeignKey("people.Region", on_delete=models.CASCADE, related_name="renewal_reviews")
    held_on = models.DateField()
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="renewal_reviews")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RenewalReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["region", "-held_on"], name="renewals_review_region_idx")]

    def __str__(self) -> str:
        return f"Renewal review {self.held_on.isoformat()}" if self.held_on else "Renewal review"


class ReviewDecision(models.Model):
    """What a review decided about one renewal."""

    review = models.ForeignKey(RenewalReview, on_delete=models.CASCADE, related_name="decisions")
    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=500)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "renewal"], name="renewals_one_decision_per_review"),
            models.CheckConstraint(condition=~Q(decision=""), name="renewals_decision_not_blank"),
        ]

    def __str__(self) -> str:
        return self.decision[:80]


class SnapshotSource(models.TextChoices):
    JOB = "job", "Month-end job"
    BACKFILL = "backfill", "Backfilled from the audit trail"
    IMPORT = "import", "Imported history"
    DEMO = "demo", "Demo"


def month_index(year: int, month: int) -> int:
    """Months since year 0: consecutive months differ by one, so "12 months earlier" is ``- 12`` in any SQL."""
    return year * 12 + month - 1


class ArrSnapshot(models.Model):
    """One account's ARR at the end of one month. ``month`` is the month's first day; ``month_index`` the same
    month as a number (``month_index``) so that retention pairs a month with 12 months earlier portably."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="arr_snapshots")
    month = models.DateField()
    month_index = models.PositiveIntegerField()
    arr = models.DecimalField("ARR", max_digits=14, decimal_places=2)
    source = models.CharField(max_length=10, choices=SnapshotSource.choices, default=SnapshotSource.JOB)
    taken_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["account", "month"]
        constraints = [
            # (month, account): retention reads whole months, so the month leads the index this builds.
            models.UniqueConstraint(fields=["month_index", "account"], name="renewals_one_snapshot_per_month"),
            models.CheckConstraint(condition=Q(arr__gte=0), name="renewals_snapshot_arr_not_negative"),
            models.CheckConstraint(condition=_choice("source", SnapshotSource, blank=False), name="renewals_snap_src"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}: {self.arr}"
