"""Tasks: calls to action for one person, raised by the rules (assign a TAM, onboarding overdue, ...) or by hand.

A snoozed task carries the date it wakes up on (``snoozed_until``). It is not rewritten when that day comes:
its *effective* status is computed on read (``TaskQuerySet.with_effective_status`` and ``Task.effective_status``),
so a woken task shows and counts as open at once, on every page and in the API, with no job to wait for and
no batch of writes at midnight. The stored status becomes ``open`` the next time someone changes the task.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

if TYPE_CHECKING:
    from tamarind.people.models import User


class TaskType(models.TextChoices):
    ASSIGN_TAM = "assign_tam", "Assign a TAM"
    ONBOARDING_OVERDUE = "onboarding_overdue", "Onboarding milestone overdue"
    DISENGAGEMENT_REVIEW = "disengagement_review", "Disengagement review"
    FOLLOW_UP = "follow_up", "Follow-up"
    TRIAGE_REVIEW = "triage_review", "Triage review"
    HEALTH_REVIEW = "health_review", "Health review"
    # Types the success, renewal, review, engagement and journey apps raise; declared together so that one
    # migration carries them and the apps add none of their own to this table.
    SUCCESS_PLAN = "success_plan", "Success plan"
    PLAN_PEER_REVIEW = "plan_peer_review", "Success plan peer review"
    EBR = "ebr", "Executive business review"
    RENEWAL = "renewal", "Renewal"
    RENEWAL_REVIEW = "renewal_review", "Internal renewal review"
    REVIEW_ACTION = "review_action", "Review action item"
    SERVICE_REQUEST = "service_request", "Service desk request"
    STUCK_CUSTOMER = "stuck_customer", "Stuck customer"
    SURVEY_FOLLOW_UP = "survey_follow_up", "Survey follow-up"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    SNOOZED = "snoozed", "Snoozed"


class TaskOrigin(models.TextChoices):
    RULE = "rule", "Rule"
    MANUAL = "manual", "Manual"


def today() -> dt.date:
    """Today in the project's time zone (what "snoozed until Friday" and "overdue" are measured against)."""
    return timezone.localdate()


def _woken(day: dt.date) -> Q:
    """Snoozed tasks whose day to wake up has come: they are open again."""
    return Q(status=TaskStatus.SNOOZED, snoozed_until__lte=day)


class TaskQuerySet(models.QuerySet["Task"]):
    def visible_to(self, user: User) -> TaskQuerySet:
        """The one list scope: tasks this user may read (see ``tamarind.policy.task_scope``)."""
        from tamarind import policy

        scope = policy.task_scope(user)
        if scope is None:
            return self
        return self.filter(scope)

    def with_related(self) -> TaskQuerySet:
        return self.select_related("owner", "owner__region", "account", "account__region", "created_by")

    def with_effective_status(self, day: dt.date | None = None) -> TaskQuerySet:
        """Annotate ``effective`` (the status a person sees): a snoozed task past its day is ``open``."""
        return self.annotate(
            effective=Case(
                When(_woken(day or today()), then=Value(TaskStatus.OPEN.value)),
                default=F("status"),
                output_field=models.CharField(),
            )
        )

    def in_effective_status(self, statuses: list[str], day: dt.date | None = None) -> TaskQuerySet:
        """Tasks whose effective status is one of ``statuses`` (a plain filter, no annotation needed)."""
        day = day or today()
        cond = Q(pk__in=[])
        if TaskStatus.OPEN in statuses:
            cond |= Q(status=TaskStatus.OPEN) | _woken(day)
        if TaskStatus.SNOOZED in statuses:
            cond |= Q(status=TaskStatus.SNOOZED) & ~_woken(day)
        rest = [s for s in statuses if s not in (TaskStatus.OPEN, TaskStatus.SNOOZED)]
        if rest:
            cond |= Q(status__in=rest)
        return self.filter(cond)

    def active(self, day: dt.date | None = None) -> TaskQuerySet:
        """Tasks to act on now: open (including woken snoozes) or in progress."""
        return self.in_effective_status([TaskStatus.OPEN, TaskStatus.IN_PROGRESS], day)

    def not_done(self) -> TaskQuerySet:
        return self.exclude(status=TaskStatus.DONE)

    def overdue(self, day: dt.date | None = None) -> TaskQuerySet:
        """Active tasks whose due date is before today."""
        day = day or today()
        return self.active(day).filter(due_on__lt=day)


class Task(models.Model):
    """A call to action for one owner, optionally about an account.

    Rule-created tasks (``origin=rule``) are unique on (account, type, reason) while not done — a partial
    unique constraint, so re-evaluating the rules (re-imports, repeated edits, two workers) never raises the
    same task twice, and a done task lets a new one be raised when the condition comes back. ``why`` records
    what created it: ``{"rule_set": id, "rule_version": n, "rule": name, "data": {field: value}}``.
    """

    type = models.CharField(max_length=30, choices=TaskType.choices, default=TaskType.FOLLOW_UP)
    title = models.CharField(max_length=200)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the system (a rule, a periodic job) raised it.",
    )
    reason = models.CharField(
        max_length=100, blank=True, help_text="What in particular this is about; part of a rule task's identity."
    )
    due_on = models.DateField("due", null=True, blank=True)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    snoozed_until = models.DateField(null=True, blank=True, help_text="The day a snoozed task is open again.")
    origin = models.CharField(max_length=10, choices=TaskOrigin.choices, default=TaskOrigin.MANUAL)
    why = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "type", "reason"],
                condition=Q(origin="rule") & ~Q(status="done"),
                name="actions_task_one_open_rule_task",
                violation_error_message="An open task for this account, type and reason already exists.",
            ),
            models.CheckConstraint(
                condition=(Q(status="snoozed") & Q(snoozed_until__isnull=False))
                | (~Q(status="snoozed") & Q(snoozed_until__isnull=True)),
                name="actions_task_snoozed_until_iff_snoozed",
            ),
            models.CheckConstraint(
                condition=(Q(status="done") & Q(completed_at__isnull=False))
                | (~Q(status="done") & Q(completed_at__isnull=True)),
                name="actions_task_completed_at_iff_done",
            ),
            models.CheckConstraint(
                condition=Q(origin="manual") | Q(account__isnull=False),
                name="actions_task_rule_task_has_account",
            ),
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="actions_task_status_valid"),
            models.CheckConstraint(condition=Q(type__in=TaskType.values), name="actions_task_type_valid"),
            models.CheckConstraint(condition=Q(origin__in=TaskOrigin.values), name="actions_task_origin_valid"),
            models.CheckConstraint(condition=~Q(title=""), name="actions_task_title_not_blank"),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="actions_task_owner_idx"),
            models.Index(fields=["status", "due_on"], name="actions_task_status_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def effective_status(self, day: dt.date | None = None) -> str:
        """The status a person sees: a snoozed task whose day has come is open again (the Python twin of
        ``TaskQuerySet.with_effective_status``, computed here so it is never stale after a change)."""
        day = day or today()
        if self.status == TaskStatus.SNOOZED and self.snoozed_until is not None and self.snoozed_until <= day:
            return TaskStatus.OPEN
        return self.status

    def effective_status_label(self) -> str:
        return str(TaskStatus(self.effective_status()).label)

    def is_overdue(self, day: dt.date | None = None) -> bool:
        day = day or today()
        return (
            self.due_on is not None
            and self.due_on < day
            and self.effective_status(day) in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
        )


# Fields recorded in audit events and compared on update.
TASK_FIELDS: tuple[str, ...] = (
    "type",
    "title",
    "account",
    "owner",
    "reason",
    "due_on",
    "status",
    "snoozed_until",
    "origin",
    "why",
    "notes",
    "completed_at",
)
