"""Stuck-customer triage (domain section 10): rules that find pooled customers who are stuck, and the cases a
pool TAM claims, works (outreach logged on the account's timeline) and resolves with an outcome.

A case is opened by the daily sweep (``services.stuck_sweep``) for a pooled account when an enabled rule fires;
it keeps the reasons (refreshed by each sweep) and, when no rule fires any more, the moment it got unstuck
(``unstuck_at``), which the queue measures: how many cases got unstuck within 30 days of opening.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tamarind.stuck import rules

UNSTUCK_WITHIN_DAYS = 30


class RuleKind(models.TextChoices):
    LOW_UTILIZATION = rules.LOW_UTILIZATION, "Low license utilization"
    NO_FIRST_VALUE = rules.NO_FIRST_VALUE, "No first value"
    POOR_ONBOARDING = rules.POOR_ONBOARDING, "Poor onboarding score"
    NO_ACTIVITY = rules.NO_ACTIVITY, "No activity"
    TICKET_SPIKE = rules.TICKET_SPIKE, "Support ticket spike"
    POOR_SURVEY = rules.POOR_SURVEY, "Poor survey score"


class StuckRule(models.Model):
    """One stuck-customer rule: its kind picks the check (``rules.CHECKS``), ``params`` its thresholds
    (``rules.PARAMS``: validated by ``clean``); only enabled rules fire."""

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    params = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=RuleKind.values), name="stuck_rule_kind_valid")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from tamarind.core.errors import ValidationFailed

        try:
            self.params = rules.clean_params(self.kind, self.params)
        except ValidationFailed as exc:
            raise ValidationError(exc.errors) from exc

    def spec(self) -> rules.RuleSpec:
        return rules.RuleSpec(key=self.key, name=self.name, kind=self.kind, params=dict(self.params or {}))


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    RESOLVED = "resolved", "Resolved"


UNRESOLVED = (CaseStatus.OPEN, CaseStatus.CLAIMED)


class Outcome(models.TextChoices):
    UNSTUCK = "unstuck", "Unstuck: back on track"
    HANDED_OVER = "handed_over", "Handed over (TAM-managed model, renewal or triage)"
    NO_RESPONSE = "no_response", "No response from the customer"
    NOT_STUCK = "not_stuck", "Not stuck after all"


class StuckCaseQuerySet(models.QuerySet["StuckCase"]):
    def unresolved(self) -> StuckCaseQuerySet:
        return self.filter(status__in=UNRESOLVED)


class StuckCase(models.Model):
    """A pooled account found stuck: why (``reasons``: the rules that fired, ``{rule, name, kind, why}`` each, as
    of the last sweep), the pool whose TAMs work it, who claimed it, the outreach (on the account's timeline) and
    the outcome. ``unstuck_at``: the first sweep after which no rule fired any more (cleared if one fires again
    while the case is not resolved). One open or claimed case per account."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="stuck_cases")
    pool = models.ForeignKey(
        "servicedesk.Pool", null=True, blank=True, on_delete=models.SET_NULL, related_name="stuck_cases"
    )
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="stuck_cases"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    outreach_count = models.PositiveIntegerField(default=0)
    last_outreach_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unstuck_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = StuckCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="stuck_case_status_valid"),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(outcome__in=Outcome.values), name="stuck_case_outcome_valid"
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(status__in=["open", "claimed"]), name="stuck_one_open_case_per_account"
            ),
            models.CheckConstraint(
                condition=(Q(status="resolved") & ~Q(outcome="") & Q(resolved_at__isnull=False))
                | (~Q(status="resolved") & Q(outcome="") & Q(resolved_at__isnull=True)),
                name="stuck_case_outcome_iff_resolved",
            ),
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(claimed_by__isnull=False, claimed_at__isnull=False),
                name="stuck_case_claimed_has_claimer",
            ),
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="stuck_case_status_idx")]

    def __str__(self) -> str:
        return f"Stuck case {self.pk} of {self.account_id}"

    @property
    def is_unresolved(self) -> bool:
        return self.status in UNRESOLVED

    def unstuck_within(self, days: int = UNSTUCK_WITHIN_DAYS) -> bool:
        """Got unstuck within ``days`` of opening."""
        return self.unstuck_at is not None and self.unstuck_at <= self.opened_at + dt.timedelta(days=days)
