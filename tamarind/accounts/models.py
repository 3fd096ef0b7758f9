"""The account book: customer accounts (per business unit), product tiers as ordered rungs, TAM history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

if TYPE_CHECKING:
    from tamarind.people.models import User


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-Market"
    ENTERPRISE = "enterprise", "Enterprise"


class Priority(models.IntegerChoices):
    FULL = 1, "1 — full lifecycle"
    CADENCE_60 = 2, "2 — 60-day cadence"
    UNMANAGED_CHILD = 3, "3 — unmanaged child"
    DIGITAL = 4, "4 — digital only"


class EngagementModel(models.TextChoices):
    """The five built-in engagement models' keys. The models themselves are data (``tamarind.engagement``), so
    admins add more; ``Account.engagement_model`` holds any model's key, these included."""

    HIGH_TOUCH = "high_touch", "High touch"
    LOW_TOUCH = "low_touch", "Low touch"
    NAMED = "named", "Named"
    POOLED = "pooled", "Pooled (service desk)"
    DIGITAL = "digital", "Digital program"


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ADOPTION = "adoption", "Adoption"
    OPTIMIZE_GROW = "optimize_grow", "Optimize and Grow"
    WILL_CHURN = "will_churn", "Will Churn"


class ProductTier(models.Model):
    """A plan name on an ordered rung. Names that share a rung are the same plan (Premium = Silver).

    The rungs are configuration: admins add names and move rungs; rules compare ``rung``, never names.
    """

    name = models.CharField(max_length=60, unique=True)
    rung = models.PositiveSmallIntegerField(help_text="0 = lowest (Free). Equal rungs are equal plans.")

    class Meta:
        ordering = ["rung", "name"]

    def __str__(self) -> str:
        return self.name


class AccountQuerySet(models.QuerySet["Account"]):
    def visible_to(self, user: User) -> AccountQuerySet:
        """The one list scope: accounts this user may read (see ``tamarind.policy``)."""
        from tamarind import policy

        scope = policy.account_scope(user)
        if scope is None:
            return self
        return self.filter(scope)

    def for_rows(self) -> AccountQuerySet:
        """What a list row shows: the region, the tier, the parent and the TAM, in the same query."""
        return self.select_related("region", "product_tier", "parent", "tam")

    def with_owners(self) -> AccountQuerySet:
        """``for_rows`` and the other owners (SAL/AE, SA), who come in their own small queries: joining all six
        relations in one query costs PostgreSQL more to plan than to run, as each outer join about triples the
        join orders it weighs (20 ms of planning for seven tables, 65 ms for eight on a busy machine, against
        1 to 3 ms for five or six)."""
        return self.for_rows().prefetch_related("sal", "sa")

    def with_health(self) -> AccountQuerySet:
        """Each account's current health color and score (``health_color``, ``health_score``; empty and ``None``
        when not scored yet) from the same query: two columns, not the stored breakdown."""
        return self.annotate(health_color=F("health__color"), health_score=F("health__score"))


class Account(models.Model):
    """A paying customer, per business unit: a parent's children are separate accounts with their own rules."""

    crm_id = models.CharField("CRM id", max_length=64, unique=True)
    name = models.CharField(max_length=255, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    # Indexed by ``accounts_region_id_idx`` (region, id) rather than the foreign key's own index.
    region = models.ForeignKey("people.Region", on_delete=models.PROTECT, related_name="accounts", db_index=False)
    segment = models.CharField(max_length=20, choices=Segment.choices)
    arr = models.DecimalField("ARR", max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    product_tier = models.ForeignKey(
        ProductTier, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    licenses = models.PositiveIntegerField("number of licenses", default=0)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.FULL)
    # The key of an ``engagement.EngagementModel`` (built-in or admin-added); empty for none.
    engagement_model = models.CharField(max_length=40, blank=True)
    tam = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="TAM",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tam_accounts",
    )
    sal = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="SAL / AE",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sal_accounts",
    )
    sa = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="SA",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sa_accounts",
    )
    customer_since = models.DateField(null=True, blank=True)
    next_renewal_date = models.DateField(null=True, blank=True, db_index=True)
    lifecycle_stage = models.CharField(max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.ONBOARDING)
    collaboration_url = models.URLField("collaboration space", max_length=500, blank=True)
    import_hash = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="Digest of the last imported CRM row, so an unchanged row is skipped on re-import.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(arr__gte=0), name="accounts_arr_not_negative"),
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=4), name="accounts_priority_1_4"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="accounts_not_own_parent"),
            models.CheckConstraint(condition=~Q(crm_id=""), name="accounts_crm_id_not_blank"),
        ]
        indexes = [
            # A region's accounts by id, read from the index alone: what a region-scoped dashboard joins its
            # records to (a merge join with no visit to the table) instead of scanning the region's rows.
            models.Index(fields=["region", "id"], name="accounts_region_id_idx"),
            models.Index(fields=["region", "segment"], name="accounts_region_segment_idx"),
            models.Index(fields=["-arr"], name="accounts_arr_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_engagement_model_display(self) -> str:
        """The model's label: a built-in's name, else the key of the model an admin added."""
        labels = dict(EngagementModel.choices)
        return str(labels.get(self.engagement_model, self.engagement_model))


# The fields a person edits on an account; audit snapshots and forms use this list.
ACCOUNT_FIELDS: tuple[str, ...] = (
    "crm_id",
    "name",
    "parent",
    "region",
    "segment",
    "arr",
    "currency",
    "product_tier",
    "licenses",
    "priority",
    "engagement_model",
    "tam",
    "sal",
    "sa",
    "customer_since",
    "next_renewal_date",
    "lifecycle_stage",
    "collaboration_url",
)


class TamAssignment(models.Model):
    """One change of an account's TAM: who set it, from whom, to whom, when."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tam_history")
    from_tam = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_tam = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_tam=F("to_tam")) | Q(from_tam__isnull=True) | Q(to_tam__isnull=True),
                name="accounts_tam_assignment_changes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_tam or '—'} → {self.to_tam or '—'}"
