"""Engagement models as data (domain section 10): the models, every account's moves between them, the capacity
targets, and the iterations whose results are compared.

``Account.engagement_model`` holds a model's ``key``. The five built-in models are seeded by migration 0002;
admins add more. An account's model on any past day is read from its ``Placement`` rows (every move, dated).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# Domain section 11: the catalogue a model's metrics and early-warning indicators are chosen from.
METRICS: dict[str, str] = {
    "time_to_engage": "Time to engage (and share within target)",
    "time_to_first_value": "Time to first value (and share within target)",
    "time_to_onboard": "Time to onboard (and share within target)",
    "success_plan_coverage": "Success plan coverage (green plans of priority 1 accounts)",
    "ebr_coverage": "EBR coverage",
    "health_mix": "Health mix",
    "health_staleness": "Health staleness (stale reviews)",
    "gross_retention": "Gross retention",
    "net_retention": "Net retention",
    "calls_per_account": "Calls per account",
    "accounts_per_tam": "Accounts per TAM",
    "arr_per_tam": "ARR per TAM",
}
INDICATORS: dict[str, str] = {
    "utilization_below_75": "Utilization below 75% after onboarding",
    "active_users_falling": "Active users falling month on month",
    "no_first_value_day_30": "No first value by day 30",
    "no_call_over_cadence": "No call for longer than the cadence",
    "ticket_spike": "Support ticket spike",
    "open_urgent_ticket": "Open urgent ticket",
    "renewal_6m_not_green": "Renewal within 6 months with non-green health",
    "stalled_triage_case": "Stalled triage case",
}


class EngagementModelQuerySet(models.QuerySet["EngagementModel"]):
    def active(self) -> EngagementModelQuerySet:
        return self.filter(is_active=True)


class EngagementModel(models.Model):
    """One way of engaging customers (high touch, low touch, named, pooled, digital, or one an admin adds).

    ``criteria`` is the qualification definition (see ``engagement.placement``); ``precedence`` settles which
    model wins where two models' criteria overlap (lower wins; overlapping without distinct precedences is
    refused by ``services.engagement_model_save``). ``cadence_days`` maps a priority ("1".."4") to the days
    between calls. ``tam_managed`` says whether accounts in the model keep a named TAM (they count on the TAM's
    capacity); pooled and digital accounts do not.
    """

    key = models.SlugField(max_length=40, unique=True, help_text="Stored on each account; never changes.")
    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    tam_managed = models.BooleanField(default=True, help_text="Accounts in this model count on their TAM's book.")
    criteria = models.JSONField(default=dict, blank=True)
    precedence = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Lower wins where criteria overlap; empty: no precedence."
    )
    cadence_days = models.JSONField(default=dict, blank=True, help_text='Days between calls per priority, {"1": 30}.')
    services = models.JSONField(default=list, blank=True, help_text="Services included, one text each.")
    metrics = models.JSONField(default=list, blank=True, help_text="Keys of the metrics catalogue.")
    indicators = models.JSONField(default=list, blank=True, help_text="Keys of the early-warning catalogue.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EngagementModelQuerySet.as_manager()

    class Meta:
        ordering = [F("precedence").asc(nulls_last=True), "name"]
        constraints = [
            models.UniqueConstraint(fields=["precedence"], name="engagement_model_precedence_unique"),
            models.CheckConstraint(condition=~Q(key=""), name="engagement_model_key_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name

    def settings_snapshot(self) -> dict[str, Any]:
        """The model's settings as they are now (what an iteration keeps)."""
        return {
            "key": self.key,
            "name": self.name,
            "tam_managed": self.tam_managed,
            "criteria": self.criteria,
            "precedence": self.precedence,
            "cadence_days": self.cadence_days,
            "services": self.services,
            "metrics": self.metrics,
            "indicators": self.indicators,
        }


class PlacementSource(models.TextChoices):
    RULES = "rules", "By the rules"
    MANUAL = "manual", "By hand"
    INITIAL = "initial", "As found when models became data"


class Placement(models.Model):
    """One move of an account between models, with its day: the account's model on a past day is the
    ``to_model`` of its newest placement on or before that day. A move by hand carries a reason and pins the
    account (the rules leave it where it was put until it is released back to the rules)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="placements")
    from_model = models.CharField(max_length=40, blank=True)
    to_model = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=10, choices=PlacementSource.choices)
    reason = models.CharField(max_length=500, blank=True)
    placed_on = models.DateField(default=timezone.localdate)
    placed_at = models.DateTimeField(default=timezone.now)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["account", "placed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=PlacementSource.MANUAL) | ~Q(reason=""), name="engagement_manual_has_reason"
            ),
            models.CheckConstraint(condition=Q(source__in=PlacementSource.values), name="engagement_source_valid"),
        ]
        indexes = [models.Index(fields=["account", "placed_on"], name="engagement_placement_day_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_model or '-'} -> {self.to_model or '-'} on {self.placed_on}"


class CapacitySettings(models.Model):
    """The capacity targets (domain section 10): ARR per TAM and the priority 1 share of a book. One row
    (pk 1); until an admin saves it, readers get an unsaved row with the defaults. A TAM's own
    ``capacity_arr`` overrides the ARR target for that TAM."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    target_arr_per_tam = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("3600000"))
    target_p1_share = models.DecimalField(
        "target priority 1 share", max_digits=4, decimal_places=3, default=Decimal("0.333")
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = "capacity settings"
        verbose_name_plural = "capacity settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="engagement_capacity_singleton"),
            models.CheckConstraint(condition=Q(target_arr_per_tam__gt=0), name="engagement_capacity_arr_positive"),
            models.CheckConstraint(
                condition=Q(target_p1_share__gte=0, target_p1_share__lte=1), name="engagement_capacity_share_0_1"
            ),
        ]

    def __str__(self) -> str:
        return "Capacity targets"


class Iteration(models.Model):
    """A named iteration of the engagement models (e.g. "FY22-Q1: high touch + low touch + named"): its dates,
    the models' settings as they were when it was recorded, and (``IterationAccount``) the accounts in each.
    Iterations never overlap (checked by ``services.iteration_create``)."""

    name = models.CharField(max_length=120, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    notes = models.TextField(blank=True)
    models_snapshot = models.JSONField(default=list, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="engagement_iteration_dates"),
        ]

    def __str__(self) -> str:
        return self.name


class IterationAccount(models.Model):
    """An account in an iteration: the model it was in on the iteration's first day, its TAM and ARR then."""

    iteration = models.ForeignKey(Iteration, on_delete=models.CASCADE, related_name="members")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    model_key = models.CharField(max_length=40)
    tam = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    arr = models.DecimalField(max_digits=14, decimal_places=2)
    priority = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["iteration", "model_key", "account"]
        constraints = [
            models.UniqueConstraint(fields=["iteration", "account"], name="engagement_iteration_account_once"),
        ]

    def __str__(self) -> str:
        return f"{self.iteration_id}: {self.account_id} in {self.model_key}"
