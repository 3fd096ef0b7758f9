"""Assignment at the point of sale: the qualification rules (versioned data) and each account's standing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tamarind.assignment.rules import RuleSpec, parse_rules

# Domain section 3, as the first version of the rules. Admins change it in the rules editor; this is only the seed.
DEFAULT_DEFINITION: dict[str, Any] = {
    "match": "all",
    "conditions": [
        {"field": "arr", "op": "gt", "value": "50000"},
        {"field": "segment", "op": "in", "value": ["enterprise", "mid_market"]},
        {"field": "tier", "op": "gte", "value": 2},
    ],
}


class RuleSetVersionQuerySet(models.QuerySet["RuleSetVersion"]):
    def live(self) -> RuleSetVersion | None:
        """The version in force: the newest one."""
        return self.select_related("created_by").order_by("-version").first()


class RuleSetVersion(models.Model):
    """One saved version of the rules that decide whether an account qualifies for a TAM.

    Versions are never edited or deleted: saving the editor writes the next version, which is live from then on,
    so every task and qualification can name the exact rules that produced it.
    """

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120, default="Qualification for a TAM")
    definition = models.JSONField()
    note = models.CharField(max_length=500, blank=True, help_text="Why this version was saved.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RuleSetVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [models.CheckConstraint(condition=Q(version__gte=1), name="assignment_version_positive")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def spec(self) -> RuleSpec:
        return parse_rules(self.definition)


class QualificationQuerySet(models.QuerySet["Qualification"]):
    def to_staff(self) -> QualificationQuerySet:
        """Qualifying accounts that still have no TAM: the manager's "New accounts to staff"."""
        return self.filter(qualifies=True, account__tam__isnull=True)

    def flagged_for_disengagement(self) -> QualificationQuerySet:
        return self.filter(qualifies=False, disengagement_flagged_at__isnull=False)


class Qualification(models.Model):
    """Where one account stands against the live rules, as last evaluated.

    This stored standing is what makes evaluation idempotent: side effects (the manager's task and notification,
    the onboarding record, the disengagement flag) fire only on a change of ``qualifies``, never on a repeat.
    """

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="qualification"
    )
    qualifies = models.BooleanField()
    rule_version = models.PositiveIntegerField(help_text="The rules version of the last evaluation.")
    qualified_at = models.DateTimeField(null=True, blank=True, help_text="When it last newly qualified.")
    disengagement_flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="When it stopped qualifying; cleared when it qualifies again."
    )
    evaluated_at = models.DateTimeField(default=timezone.now)

    objects = QualificationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(qualifies=False) | Q(qualified_at__isnull=False), name="assignment_qualified_has_date"
            ),
            models.CheckConstraint(
                condition=Q(qualifies=False) | Q(disengagement_flagged_at__isnull=True),
                name="assignment_flag_only_when_not_qualifying",
            ),
        ]
        indexes = [models.Index(fields=["qualifies", "-qualified_at"], name="assignment_qualifies_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {'qualifies' if self.qualifies else 'does not qualify'}"
