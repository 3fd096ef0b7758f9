"""Success plans (domain reference, section 5): one current plan per account with its objectives and their tasks,
the admins' plan templates and versioned success settings, the managers' and peers' plan reviews, and EBRs.

A plan's color (Green / Yellow / Red) is computed by ``success.rules.plan_color`` and stored on the plan with its
reasons, rewritten by the services whenever the plan, its objectives, its activity or the account's priority
change, and by the daily recompute (inactivity grows with the days alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tamarind.success.rules import DEFAULT_SETTINGS, SettingsValues

if TYPE_CHECKING:
    from tamarind.people.models import User


class PlanColor(models.TextChoices):
    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


CURRENT_STATUSES: tuple[str, ...] = (PlanStatus.DRAFT.value, PlanStatus.ACTIVE.value)


class ObjectiveCategory(models.TextChoices):
    ADOPTION = "adoption", "Adoption"
    ROI = "roi", "ROI"
    EXPANSION = "expansion", "Expansion"


class ObjectiveStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class ObjectivePriority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class PlanTaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"


class Risk(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class SuccessSettingsQuerySet(models.QuerySet["SuccessSettings"]):
    def live(self) -> SuccessSettings | None:
        return self.select_related("created_by").order_by("-version").first()


class SuccessSettings(models.Model):
    """One saved version of the success settings. Never edited: saving writes the next version, live from then
    on (``success_settings_save``), and every plan's color names the version that produced it.

    ``objectives_needed`` maps segment -> priority ("1".."4") -> open objectives a green plan needs.
    """

    version = models.PositiveIntegerField(unique=True)
    objectives_needed = models.JSONField()
    activity_days = models.PositiveSmallIntegerField(
        default=60, help_text="A green plan has had activity within this many days."
    )
    new_customer_days = models.PositiveSmallIntegerField(
        default=60, help_text="A new customer has a plan within this many days of becoming a customer."
    )
    new_customer_lookback_days = models.PositiveSmallIntegerField(
        default=365, help_text="Customers of this many days or fewer count as new customers in the coverage."
    )
    ebr_lead_months = models.PositiveSmallIntegerField(
        "EBR lead (months)", default=7, help_text="The EBR task opens this many months before the renewal."
    )
    ebr_due_days = models.PositiveSmallIntegerField(
        "EBR due (days)", default=45, help_text="The EBR task is due this many days after it opens."
    )
    ebr_target_pct = models.PositiveSmallIntegerField(
        "EBR coverage target (%)", default=75, help_text="Share of priority 1 accounts with an EBR in 12 months."
    )
    review_due_days = models.PositiveSmallIntegerField(
        "review due (days)",
        default=90,
        help_text="A plan with no completed manager review for this many days needs review (quarterly).",
    )
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuccessSettingsQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        verbose_name = "success settings version"
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="success_settings_version_positive"),
            models.CheckConstraint(
                condition=Q(
                    activity_days__gte=1,
                    new_customer_days__gte=1,
                    ebr_lead_months__gte=1,
                    ebr_due_days__gte=1,
                    review_due_days__gte=1,
                ),
                name="success_settings_days_positive",
            ),
            models.CheckConstraint(
                condition=Q(ebr_target_pct__gte=0, ebr_target_pct__lte=100), name="success_settings_target_pct"
            ),
        ]

    def __str__(self) -> str:
        return f"Success settings v{self.version}"

    def values(self) -> SettingsValues:
        return SettingsValues(
            version=self.version,
            objectives_needed=self.objectives_needed,
            activity_days=self.activity_days,
            new_customer_days=self.new_customer_days,
            ebr_lead_months=self.ebr_lead_months,
            ebr_due_days=self.ebr_due_days,
            ebr_target_pct=self.ebr_target_pct,
            new_customer_lookback_days=self.new_customer_lookback_days,
            review_due_days=self.review_due_days,
        )


def live_settings() -> SettingsValues:
    """The settings in force: the newest version, or the defaults before any is saved."""
    row = SuccessSettings.objects.order_by("-version").first()
    return row.values() if row is not None else DEFAULT_SETTINGS


class PlanTemplate(models.Model):
    """An admin-defined starting point: default objectives (and their tasks) for a new plan. A new plan uses the
    template of the account's engagement model, else of its segment, else the default template (both blank)."""

    name = models.CharField(max_length=120, unique=True)
    engagement_model = models.CharField(max_length=20, blank=True, help_text="Empty: any engagement model.")
    segment = models.CharField(max_length=20, blank=True, help_text="Empty: any segment.")
    strategy = models.TextField(blank=True, help_text="Starting text of the Strategy section (Markdown).")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlanTemplateObjective(models.Model):
    """A default objective of a template; ``tasks``: one task name per line."""

    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="objectives")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=ObjectiveCategory.choices, default=ObjectiveCategory.ADOPTION)
    success_criteria = models.TextField(blank=True)
    tasks = models.TextField(blank=True, help_text="One task per line.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def task_names(self) -> list[str]:
        return [line.strip()[:200] for line in self.tasks.splitlines() if line.strip()]


class SuccessPlanQuerySet(models.QuerySet["SuccessPlan"]):
    def visible_to(self, user: User) -> SuccessPlanQuerySet:
        """Plans of the accounts ``user`` may read (see ``tamarind.policy.success_plan_scope``)."""
        from tamarind import policy

        scope = policy.success_plan_scope(user)
        return self if scope is None else self.filter(scope)

    def current(self) -> SuccessPlanQuerySet:
        return self.filter(status__in=CURRENT_STATUSES)

    def with_account(self) -> SuccessPlanQuerySet:
        return self.select_related("account", "account__region", "account__tam")


class SuccessPlan(models.Model):
    """The success plan of one account. At most one current plan (Draft or Active) per account, a partial unique
    constraint; earlier plans are Archived and read-only. ``color``/``color_reasons`` are the stored result of
    ``rules.plan_color`` (empty for an archived plan)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="success_plans")
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    why_bought = models.TextField("why they bought", blank=True)
    strategy = models.TextField(blank=True, help_text="Markdown.")
    highlights = models.TextField(blank=True, help_text="Markdown.")
    start_on = models.DateField()
    template = models.ForeignKey(PlanTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    color = models.CharField(max_length=10, choices=PlanColor.choices, blank=True)
    color_reasons = models.JSONField(default=list, blank=True)
    color_settings_version = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = SuccessPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=["draft", "active"]),
                name="success_plan_one_current_per_account",
                violation_error_message="This account already has a current success plan.",
            ),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="success_plan_status_valid"),
            models.CheckConstraint(
                condition=Q(color="") | Q(color__in=PlanColor.values), name="success_plan_color_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="archived", archived_at__isnull=False)
                | (~Q(status="archived") & Q(archived_at=None)),
                name="success_plan_archived_at_iff_archived",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "color"], name="success_plan_status_color_idx"),
            models.Index(fields=["account", "status"], name="success_plan_account_idx"),
        ]

    def __str__(self) -> str:
        return f"Success plan of {self.account}" if self.account_id else "Success plan"

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES


PLAN_FIELDS: tuple[str, ...] = ("status", "why_bought", "strategy", "highlights", "start_on")


class Objective(models.Model):
    """A plan's objective. Closing needs a summary of the outcome (a constraint as well as a service rule)."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="objectives")
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    category = models.CharField(max_length=20, choices=ObjectiveCategory.choices, default=ObjectiveCategory.ADOPTION)
    status = models.CharField(max_length=20, choices=ObjectiveStatus.choices, default=ObjectiveStatus.NEW)
    priority = models.CharField(max_length=10, choices=ObjectivePriority.choices, default=ObjectivePriority.MEDIUM)
    success_criteria = models.TextField(blank=True)
    outcome = models.TextField("summary of outcome", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | (~Q(outcome="") & Q(closed_at__isnull=False)),
                name="success_objective_closed_has_outcome",
            ),
            models.CheckConstraint(condition=Q(status__in=ObjectiveStatus.values), name="success_objective_status"),
            models.CheckConstraint(condition=Q(category__in=ObjectiveCategory.values), name="success_objective_cat"),
            models.CheckConstraint(condition=~Q(name=""), name="success_objective_name_not_blank"),
        ]
        indexes = [models.Index(fields=["plan", "status"], name="success_objective_plan_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status != ObjectiveStatus.CLOSED


OBJECTIVE_FIELDS: tuple[str, ...] = (
    "name",
    "owner",
    "due_on",
    "category",
    "status",
    "priority",
    "success_criteria",
    "outcome",
)


class PlanTask(models.Model):
    """A task (milestone) under an objective."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="tasks")
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_owner = models.CharField(max_length=120, blank=True)
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=PlanTaskStatus.choices, default=PlanTaskStatus.NOT_STARTED)
    risk = models.CharField(max_length=10, choices=Risk.choices, default=Risk.LOW)
    progress = models.PositiveSmallIntegerField("progress %", default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=100), name="success_task_progress_0_100"),
            models.CheckConstraint(condition=Q(status__in=PlanTaskStatus.values), name="success_task_status_valid"),
            models.CheckConstraint(condition=Q(risk__in=Risk.values), name="success_task_risk_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="success_task_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


PLAN_TASK_FIELDS: tuple[str, ...] = ("name", "owner", "customer_owner", "due_on", "status", "risk", "progress")


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class Verdict(models.TextChoices):
    STRONG = "strong", "Strong plan"
    NEEDS_WORK = "needs_work", "Needs work"
    WEAK = "weak", "Weak plan"


class ReviewKind(models.TextChoices):
    MANAGER = "manager", "Manager review"
    PEER = "peer", "Peer review"


class ReviewStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    COMPLETED = "completed", "Completed"


# The six questions of the manager's success plan review (domain reference, section 5).
QUESTIONS: tuple[str, ...] = (
    "Is the customer's documented strategy aligned with why they bought?",
    "Are all parties (SAL/AE, SA, TAM, customer) aligned on the stated goals?",
    "If the objectives are met, are they in the customer's best interest?",
    "Are the outcomes measurable (a deliverable, or a number)?",
    "Is the customer on track to meet or exceed their business outcomes?",
    "Are the next steps for demonstrating value defined and in place?",
)
ANSWER_FIELDS: tuple[str, ...] = tuple(f"q{i}" for i in range(1, 7))
NOTE_FIELDS: tuple[str, ...] = tuple(f"q{i}_notes" for i in range(1, 7))


class PlanReviewQuerySet(models.QuerySet["PlanReview"]):
    def visible_to(self, user: User) -> PlanReviewQuerySet:
        from tamarind import policy

        scope = policy.success_review_scope(user)
        return self if scope is None else self.filter(scope)

    def completed(self) -> PlanReviewQuerySet:
        return self.filter(status=ReviewStatus.COMPLETED)


class PlanReview(models.Model):
    """A review of a plan: the manager's, or a peer's (a TAM asked by another; ``requested`` until answered).
    Each of the six questions is answered Yes / Partly / No with notes; a completed review has every answer and
    a verdict (a constraint)."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=10, choices=ReviewKind.choices)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.COMPLETED)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    q1 = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    q2 = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    q3 = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    q4 = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    q5 = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    q6 = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    q1_notes = models.TextField(blank=True)
    q2_notes = models.TextField(blank=True)
    q3_notes = models.TextField(blank=True)
    q4_notes = models.TextField(blank=True)
    q5_notes = models.TextField(blank=True)
    q6_notes = models.TextField(blank=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    coaching = models.TextField("coaching notes", blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = PlanReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-completed_at", "-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="requested")
                | (
                    Q(completed_at__isnull=False)
                    & ~Q(verdict="")
                    & ~Q(q1="")
                    & ~Q(q2="")
                    & ~Q(q3="")
                    & ~Q(q4="")
                    & ~Q(q5="")
                    & ~Q(q6="")
                ),
                name="success_review_completed_is_whole",
            ),
            models.CheckConstraint(
                condition=Q(kind="peer") | Q(status="completed"), name="success_review_only_peers_are_requested"
            ),
            models.CheckConstraint(condition=Q(kind__in=ReviewKind.values), name="success_review_kind_valid"),
        ]
        indexes = [models.Index(fields=["plan", "kind", "status"], name="success_review_plan_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.plan_id}"

    def answers(self) -> list[dict[str, Any]]:
        """The six questions with this review's answer and notes, in order (for templates)."""
        return [
            {
                "number": i + 1,
                "question": q,
                "answer": getattr(self, ANSWER_FIELDS[i]),
                "label": dict(Answer.choices).get(getattr(self, ANSWER_FIELDS[i]), "—"),
                "notes": getattr(self, NOTE_FIELDS[i]),
            }
            for i, q in enumerate(QUESTIONS)
        ]


REVIEW_FIELDS: tuple[str, ...] = (*ANSWER_FIELDS, *NOTE_FIELDS, "verdict", "coaching", "status")


class EbrStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    DECLINED = "declined", "Declined"


class EbrQuerySet(models.QuerySet["Ebr"]):
    def visible_to(self, user: User) -> EbrQuerySet:
        from tamarind import policy

        scope = policy.success_plan_scope(user)
        return self if scope is None else self.filter(scope)


class Ebr(models.Model):
    """An Executive Business Review of an account. A completed EBR has its date (a constraint)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="ebrs")
    status = models.CharField(max_length=20, choices=EbrStatus.choices, default=EbrStatus.NOT_STARTED)
    held_on = models.DateField("date", null=True, blank=True)
    attendees = models.TextField("customer attendees", blank=True)
    outcome = models.TextField(blank=True)
    materials_url = models.URLField("materials link", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EbrQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = "EBR"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EbrStatus.values), name="success_ebr_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "scheduled"]) | Q(held_on__isnull=False),
                name="success_ebr_dated_when_scheduled_or_completed",
            ),
        ]
        indexes = [models.Index(fields=["account", "status", "held_on"], name="success_ebr_account_idx")]

    def __str__(self) -> str:
        return f"EBR of {self.account}" if self.account_id else "EBR"


EBR_FIELDS: tuple[str, ...] = ("status", "held_on", "attendees", "outcome", "materials_url")
