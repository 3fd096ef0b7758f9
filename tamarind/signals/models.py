"""Evidence for the signals (issue 15): when each early-warning indicator and each health color fired for each
account (``SignalInterval``, one row per firing spell, not per day), the outcomes it is judged against
(``Outcome``), the admin's settings for the back-test (``BacktestSettings``), the trust labels (``SignalTrust``) and
how far a history rebuild got (``RebuildState``).

Each day's health color and score is ``health.HealthHistory`` (a point per change, kept by the recompute): the
``health:red`` / ``health:yellow`` intervals are derived from it, no second copy is kept.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

HEALTH_KEYS = ("health:red", "health:yellow")


def _choice(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class SignalInterval(models.Model):
    """One spell of one signal firing for one account: from ``started_on`` (the first day it fired) to ``ended_on``
    (the first day it no longer fired; ``None`` while it still fires). Half-open: ``[started_on, ended_on)``.
    ``key`` is an indicator key of ``dashboards.indicators.INDICATORS`` or ``health:red`` / ``health:yellow``."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="signal_intervals")
    key = models.CharField(max_length=40)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["account", "key", "started_on"]
        indexes = [models.Index(fields=["key", "started_on"], name="signals_interval_key_start")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "key"], condition=Q(ended_on__isnull=True), name="signals_one_open_interval"
            ),
            models.UniqueConstraint(fields=["account", "key", "started_on"], name="signals_interval_start_once"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("started_on")), name="signals_interval_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.key} {self.started_on}..{self.ended_on or ''}"


class OutcomeKind(models.TextChoices):
    CHURNED = "churned", "Churned"
    CONTRACTED = "contracted", "Contracted"
    RENEWED_FLAT = "renewed_flat", "Renewed flat"
    EXPANDED = "expanded", "Expanded"


BAD_KINDS = frozenset({OutcomeKind.CHURNED.value, OutcomeKind.CONTRACTED.value})


class OutcomeSource(models.TextChoices):
    RENEWAL = "renewal", "Closed renewal"
    ARR_HISTORY = "arr_history", "ARR history"


class Outcome(models.Model):
    """What happened to an account on a day: a closed renewal's outcome, or a fall in its monthly ARR history of
    more than the set share (a contraction; to zero: churn). Written by ``services.outcomes_refresh``."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="signal_outcomes")
    kind = models.CharField(max_length=20, choices=OutcomeKind.choices)
    on = models.DateField()
    arr_before = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    arr_after = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    source = models.CharField(max_length=20, choices=OutcomeSource.choices)

    class Meta:
        ordering = ["account", "on", "kind"]
        indexes = [models.Index(fields=["on"], name="signals_outcome_on")]
        constraints = [
            models.UniqueConstraint(fields=["account", "on", "kind"], name="signals_outcome_once"),
            models.CheckConstraint(condition=_choice("kind", OutcomeKind), name="signals_outcome_kind"),
            models.CheckConstraint(condition=_choice("source", OutcomeSource), name="signals_outcome_source"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} on {self.on}"

    @property
    def bad(self) -> bool:
        return self.kind in BAD_KINDS


class BacktestSettings(models.Model):
    """The back-test's numbers, set by an admin (a singleton row)."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    min_outcomes = models.PositiveIntegerField(
        default=10, help_text="Below this many churned or contracted accounts a signal is 'too few outcomes to judge'."
    )
    contraction_share = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.100"),
        help_text="A month-on-month ARR fall of more than this share counts as a contraction.",
    )
    horizons = models.JSONField(default=list, help_text="Days before the outcome a signal must have fired within.")
    auc_months = models.PositiveSmallIntegerField(default=3, help_text="The health score this many months before.")
    trust_min_lift = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("2.00"))
    trust_min_outcomes = models.PositiveIntegerField(default=30)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "back-test settings"
        verbose_name_plural = "back-test settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="signals_settings_singleton"),
            models.CheckConstraint(
                condition=Q(contraction_share__gt=0, contraction_share__lt=1), name="signals_settings_share"
            ),
        ]

    def __str__(self) -> str:
        return "Back-test settings"

    @property
    def horizon_days(self) -> list[int]:
        return [int(h) for h in (self.horizons or [90, 180, 365])]

    @staticmethod
    def horizon_default() -> list[int]:
        return [90, 180, 365]

    @classmethod
    def load(cls) -> BacktestSettings:
        row, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK, defaults={"horizons": [90, 180, 365]})
        return row


class SignalTrust(models.Model):
    """One version of an indicator's trust label: trusted or not, with the thresholds it was judged by and the
    evidence it cleared (a snapshot). The newest version per key is the label; older versions are the history."""

    key = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    trusted = models.BooleanField()
    thresholds = models.JSONField(default=dict)
    evidence = models.JSONField(default=dict)
    note = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="signals_trust_version_once")]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}: {'trusted' if self.trusted else 'unproven'}"


class RebuildState(models.Model):
    """How far the signal history has been written: ``last_day`` recorded (daily record or rebuild), and a
    rebuild's target so that ``--resume`` carries on where it stopped (a singleton row)."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    last_day = models.DateField(null=True, blank=True)
    rebuild_from = models.DateField(null=True, blank=True, help_text="The running rebuild's first day.")
    rebuild_to = models.DateField(null=True, blank=True, help_text="The running rebuild's last day.")
    rebuild_after_account = models.BigIntegerField(
        null=True, blank=True, help_text="The running rebuild has done every account up to this id."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="signals_rebuild_singleton")]

    def __str__(self) -> str:
        return f"recorded to {self.last_day}"
