"""Reads of tasks: my tasks, the team's tasks (filtered), one task, and what the forms offer. All through the
access policy: ``Task.objects.visible_to`` for lists, ``task_for_user`` for one task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import Http404

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.actions.models import Task, TaskQuerySet, TaskStatus, TaskType, today
from tamarind.audit.models import AuditEvent
from tamarind.core.params import getlist
from tamarind.people.models import User, UserQuerySet

MAX_ID = 2**63 - 1
# Without a status filter the lists show what there is to act on now.
DEFAULT_STATUSES: tuple[str, ...] = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
STATUS_ALL = "all"


@dataclass
class TaskFilters:
    """The filters of the task lists, shared by the web pages and the API.

    ``status`` filters the *effective* status (a snoozed task whose day has come counts as open); empty means
    open and in progress, ``all`` every status. ``q`` searches the account by name or CRM id.
    """

    owner: list[int] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    all_statuses: bool = False
    overdue: bool = False
    q: str = ""
    account: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Any) -> TaskFilters:
        """Parse a QueryDict (or a dict of lists); bad values are dropped and reported in ``errors``."""
        f = cls()
        f.q = (params.get("q") or "").replace("\x00", "").strip()[:200]
        for raw in getlist(params, "owner"):
            value = _int(raw)
            if value is None:
                f.errors["owner"] = f"owner must be a person's id, got {raw!r}."
            else:
                f.owner.append(value)
        for raw in getlist(params, "type"):
            if raw in TaskType.values:
                f.type.append(raw)
            else:
                f.errors["type"] = f"Unknown task type {raw!r}."
        for raw in getlist(params, "status"):
            if raw == STATUS_ALL:
                f.all_statuses = True
            elif raw in TaskStatus.values:
                f.status.append(raw)
            else:
                f.errors["status"] = f"Unknown status {raw!r}."
        overdue = (params.get("overdue") or "").strip().lower()
        if overdue in ("1", "true", "yes", "on"):
            f.overdue = True
        elif overdue not in ("", "0", "false", "no", "off"):
            f.errors["overdue"] = f"overdue must be true or false, got {overdue!r}."
        raw_account = (params.get("account") or "").strip()
        if raw_account:
            f.account = _int(raw_account)
            if f.account is None:
                f.errors["account"] = f"account must be an account's id, got {raw_account!r}."
        return f

    @property
    def statuses(self) -> list[str]:
        if self.all_statuses:
            return list(TaskStatus.values)
        return self.status or list(DEFAULT_STATUSES)

    @property
    def status_key(self) -> str:
        """The status tab a page shows as current."""
        if self.all_statuses:
            return STATUS_ALL
        return ",".join(self.status) if self.status else ""

    @property
    def active(self) -> bool:
        return bool(
            self.owner or self.type or self.status or self.all_statuses or self.overdue or self.q or self.account
        )

    def apply(self, qs: TaskQuerySet, day: dt.date) -> TaskQuerySet:
        qs = qs.in_effective_status(self.statuses, day)
        if self.owner:
            qs = qs.filter(owner_id__in=self.owner)
        if self.type:
            qs = qs.filter(type__in=self.type)
        if self.overdue:
            qs = qs.overdue(day)
        if self.q:
            qs = qs.filter(Q(account__name__icontains=self.q) | Q(account__crm_id__iexact=self.q))
        if self.account is not None:
            qs = qs.filter(account_id=self.account)
        return qs


def _int(raw: str) -> int | None:
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


def _ordered(qs: TaskQuerySet, day: dt.date) -> TaskQuerySet:
    """Soonest due first (undated last), then newest."""
    return qs.with_related().order_by(F("due_on").asc(nulls_last=True), "-created_at", "-id")


def task_list_mine(*, user: User, filters: TaskFilters, day: dt.date | None = None) -> TaskQuerySet:
    """The tasks ``user`` owns, filtered (the owner filter does not apply here)."""
    day = day or today()
    filters.owner = []
    return _ordered(filters.apply(Task.objects.filter(owner_id=user.pk), day), day)


def task_list_team(*, user: User, filters: TaskFilters, day: dt.date | None = None) -> TaskQuerySet:
    """The tasks a manager (their own and their region's TAMs'), a director or an admin (all) oversees."""
    if not policy.can_read_team_tasks(user):
        raise PermissionDenied("Team tasks are for TAM Managers, directors and admins.")
    day = day or today()
    return _ordered(filters.apply(Task.objects.visible_to(user), day), day)


@dataclass(frozen=True)
class TaskCounts:
    open: int
    in_progress: int
    snoozed: int
    overdue: int
    done: int


def task_counts(qs: TaskQuerySet, day: dt.date | None = None) -> TaskCounts:
    """Counts by effective status over ``qs`` (unfiltered by status), in one query."""
    day = day or today()
    woken = Q(status=TaskStatus.SNOOZED, snoozed_until__lte=day)
    active = Q(status__in=DEFAULT_STATUSES) | woken
    totals = qs.order_by().aggregate(
        open=Count("id", filter=Q(status=TaskStatus.OPEN) | woken),
        in_progress=Count("id", filter=Q(status=TaskStatus.IN_PROGRESS)),
        snoozed=Count("id", filter=Q(status=TaskStatus.SNOOZED) & ~woken),
        overdue=Count("id", filter=active & Q(due_on__lt=day)),
        done=Count("id", filter=Q(status=TaskStatus.DONE)),
    )
    return TaskCounts(**totals)


def task_counts_mine(*, user: User, day: dt.date | None = None) -> TaskCounts:
    return task_counts(Task.objects.filter(owner_id=user.pk), day)


def task_counts_team(*, user: User, day: dt.date | None = None) -> TaskCounts:
    return task_counts(Task.objects.visible_to(user), day)


def task_for_user(user: User, task_id: int | str, *, write: bool = False) -> Task:
    """The one permission-gated fetch: 404 when out of scope, 403 when ``write`` and the user may only read."""
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        raise Http404("No such task.") from None
    if not 0 < pk <= MAX_ID:
        raise Http404("No such task.")
    task = Task.objects.with_related().filter(pk=pk).first()
    if task is None or not policy.can_read_task(user, task):
        raise Http404("No such task.")
    if write and not policy.can_change_task(user, task):
        raise PermissionDenied("You may read this task but not change it.")
    return task


_LABELS = {
    "type": "type",
    "title": "title",
    "account": "account",
    "owner": "owner",
    "reason": "reason",
    "due_on": "due",
    "status": "status",
    "snoozed_until": "snoozed until",
    "origin": "origin",
    "why": "why",
    "notes": "notes",
    "completed_at": "completed",
}


def task_history(*, task: Task, limit: int = 100) -> list[AuditEvent]:
    """The task's audit events, newest first, each with ``changes``: (label, before, after) for people to read
    (owners by name, looked up in one query; statuses by their label)."""
    events = list(AuditEvent.objects.for_object("actions.task", task.pk)[:limit])
    owner_ids = {
        value
        for event in events
        for name, before, after in event.changed_fields()
        if name == "owner"
        for value in (before, after)
        if value is not None
    }
    names = dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "full_name")) if owner_ids else {}
    statuses = dict(TaskStatus.choices)
    for event in events:
        changes = []
        for name, before, after in event.changed_fields():
            if name == "owner":
                before, after = (names.get(v, f"#{v}") if v is not None else None for v in (before, after))
            elif name == "status":
                before, after = (statuses.get(v, v) if v is not None else None for v in (before, after))
            changes.append((_LABELS.get(name, name), before, after))
        event.changes = changes  # type: ignore[attr-defined]
    return events


def _people(scope: Q | None) -> UserQuerySet:
    qs = User.objects.active().with_region().order_by("full_name", "id")
    return qs if scope is None else qs.filter(scope)


def task_owner_choices(*, user: User) -> UserQuerySet:
    """Whom ``user`` may give a task (``policy.task_assignee_scope``)."""
    return _people(policy.task_assignee_scope(user))


def task_team_owner_choices(*, user: User) -> UserQuerySet:
    """The people whose tasks the team list can be filtered by (``policy.task_owner_scope``)."""
    return _people(policy.task_owner_scope(user))


def task_account_lookup(*, user: User, text: str) -> Account | None:
    """An account ``user`` may read, by exact CRM id, else by name (exact, then unique partial match).

    Raises ``LookupError`` with a message when several accounts match.
    """
    text = text.replace("\x00", "").strip()
    if not text:
        return None
    visible = Account.objects.visible_to(user).with_owners()
    found = visible.filter(crm_id__iexact=text).first()
    if found is not None:
        return found
    exact = list(visible.filter(name__iexact=text)[:2])
    if len(exact) == 1:
        return exact[0]
    partial = exact or list(visible.filter(name__icontains=text)[:2])
    if len(partial) > 1:
        raise LookupError(f"Several accounts match {text!r}; give the CRM id.")
    return partial[0] if partial else None


def task_account_lookup_by_id(*, user: User, account_id: int) -> Account | None:
    """An account ``user`` may read, by id (to pre-fill the new task form); ``None`` otherwise."""
    if not 0 < account_id <= MAX_ID:
        return None
    return Account.objects.visible_to(user).filter(pk=account_id).first()
