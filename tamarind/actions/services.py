"""Writes to tasks. Rule-created tasks come through ``task_raise``/``task_raise_many`` (deduplicated by the
database), rule tasks are closed by ``task_resolve``; people create and change tasks with ``task_create`` and
``task_update``. Every write records audit events; a task handed to someone else notifies them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.actions.models import TASK_FIELDS, Task, TaskOrigin, TaskStatus, TaskType, today
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record, audit_record_many, build_event, snapshot
from tamarind.core.bulk import chunks, insert_instances
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text
from tamarind.people.models import User

TITLE_MAX = 200
REASON_MAX = 100
# Rows per INSERT and per IN (...) list: well under SQLite's bound-parameter limit.
BATCH = 500


@dataclass(frozen=True)
class TaskDraft:
    """One rule-created task to raise in bulk (``task_raise_many``). Ids, so callers need not load objects."""

    type: str
    account_id: int
    owner_id: int
    reason: str
    why: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    due_on: dt.date | None = None

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.account_id, self.type, self.reason)


def task_url(task: Task) -> str:
    return reverse("actions:detail", args=[task.pk])


def _check_draft(draft: TaskDraft) -> None:
    if draft.type not in TaskType.values:
        raise ValidationFailed({"type": [f"Unknown task type {draft.type!r}."]})
    if len(draft.reason) > REASON_MAX:
        raise ValidationFailed({"reason": [f"At most {REASON_MAX} characters."]})
    if not draft.account_id or not draft.owner_id:
        raise ValidationFailed({"__all__": ["A rule task needs an account and an owner."]})


def _default_title(type_: str, account_name: str) -> str:
    return f"{TaskType(type_).label}: {account_name}"[:TITLE_MAX]


@transaction.atomic
def task_raise_many(
    drafts: Iterable[TaskDraft], *, source: str = "rule", actor: User | int | None = None
) -> list[Task]:
    """Raise rule-created tasks in bulk; returns the tasks actually created (already-open ones are skipped).

    ``actor`` made the change the rule answers (a manager whose edit qualifies an account): the task is theirs
    all the same, but they are not notified of their own change.

    Deduplication is the database's: the partial unique constraint on (account, type, reason) among rule
    tasks not done, with ``INSERT ... ON CONFLICT DO NOTHING``. Two callers racing, or the same key twice in
    one batch, still give one task. The rows this call inserted are read back by key and by their shared
    ``created_at`` stamp, then audited and their owners notified, each in one query per batch.
    """
    drafts = list(drafts)
    if not drafts:
        return []
    for draft in drafts:
        _check_draft(draft)
    names: dict[int, str] = {}
    untitled = sorted({d.account_id for d in drafts if not d.title.strip()})
    for chunk in chunks(untitled, BATCH):
        names.update(Account.objects.filter(pk__in=chunk).values_list("pk", "name"))
    now = timezone.now()
    rows = [
        Task(
            type=d.type,
            title=(d.title.strip()[:TITLE_MAX] or _default_title(d.type, names.get(d.account_id, f"#{d.account_id}"))),
            account_id=d.account_id,
            owner_id=d.owner_id,
            created_by=None,
            reason=d.reason,
            due_on=d.due_on,
            status=TaskStatus.OPEN,
            origin=TaskOrigin.RULE,
            why=d.why,
            created_at=now,
            updated_at=now,
        )
        for d in drafts
    ]
    # COPY (core.bulk): Django's bulk_create compiled and adapted every row, a second per few thousand tasks.
    insert_instances(rows, ignore_conflicts=True)
    keys = {d.key for d in drafts}
    account_ids = sorted({d.account_id for d in drafts})
    created: list[Task] = []
    for chunk in chunks(account_ids, BATCH):
        candidates = (
            Task.objects.filter(origin=TaskOrigin.RULE, created_at=now, account_id__in=chunk)
            .exclude(status=TaskStatus.DONE)
            .select_related("account", "owner")
            .order_by("id")
        )
        created.extend(t for t in candidates if (t.account_id, t.type, t.reason) in keys)
    audit_record_many(
        [
            build_event(
                actor=None,
                obj=task,
                action=AuditAction.CREATE,
                before=None,
                after=snapshot(task, TASK_FIELDS),
                source=source,
                at=now,
            )
            for task in created
        ]
    )
    actor_id = actor.pk if isinstance(actor, User) else actor
    _notify_assigned([t for t in created if t.owner_id != actor_id], actor=None)
    return created


def task_raise(
    *,
    type: str,
    account: Account,
    owner: User,
    reason: str,
    why: dict[str, Any],
    title: str = "",
    due_on: dt.date | None = None,
    source: str = "rule",
) -> Task | None:
    """Raise one rule-created task; ``None`` when a task for (account, type, reason) is already not done."""
    draft = TaskDraft(
        type=type,
        account_id=account.pk,
        owner_id=owner.pk,
        reason=reason,
        why=why,
        title=title or _default_title(type, account.name),
        due_on=due_on,
    )
    created = task_raise_many([draft], source=source)
    return created[0] if created else None


@transaction.atomic
def task_resolve_many(
    *,
    account_ids: Iterable[int],
    type: str,
    reason: str | None = None,
    actor: User | None,
    source: str = "rule",
) -> int:
    """Close (mark done) the rule tasks of ``type`` not yet done on these accounts; returns how many.

    Resolving follows from a change the caller was already allowed to make (the TAM was set, the account
    stopped qualifying), so the actor is recorded, not checked. Manual tasks are never closed here.
    """
    ids = sorted(set(account_ids))
    now = timezone.now()
    tasks: list[Task] = []
    for chunk in chunks(ids, BATCH):
        qs = Task.objects.filter(origin=TaskOrigin.RULE, type=type, account_id__in=chunk).exclude(
            status=TaskStatus.DONE
        )
        if reason is not None:
            qs = qs.filter(reason=reason)
        tasks.extend(qs.select_for_update().order_by("id"))
    if not tasks:
        return 0
    fields = ("status", "snoozed_until", "completed_at")
    events: list[AuditEvent] = []
    for task in tasks:
        before = snapshot(task, fields)
        task.status = TaskStatus.DONE
        task.snoozed_until = None
        task.completed_at = now
        task.updated_at = now
        events.append(
            build_event(
                actor=actor,
                obj=task,
                action=AuditAction.UPDATE,
                before=before,
                after=snapshot(task, fields),
                source=source,
                at=now,
            )
        )
    for chunk in chunks([t.pk for t in tasks], BATCH):
        Task.objects.filter(pk__in=chunk).update(
            status=TaskStatus.DONE, snoozed_until=None, completed_at=now, updated_at=now
        )
    audit_record_many(events)
    return len(tasks)


def task_resolve(
    *,
    account: Account,
    type: str,
    reason: str | None = None,
    actor: User | None,
    source: str = "rule",
) -> int:
    """Close the account's open rule tasks of ``type`` (and ``reason``, when given); returns how many."""
    return task_resolve_many(account_ids=[account.pk], type=type, reason=reason, actor=actor, source=source)


# --- Manual tasks and changes ---------------------------------------------------------------------------------

CREATE_KEYS = frozenset({"type", "title", "account", "account_id", "owner", "owner_id", "due_on", "notes", "reason"})
UPDATE_KEYS = frozenset({"status", "snoozed_until", "due_on", "owner", "owner_id", "notes", "title"})


def _pk(value: Any, label: str) -> int | None:
    if value in (None, ""):
        return None
    if hasattr(value, "pk"):
        return int(value.pk)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({label: [f"{label} must be an id, got {value!r}."]}) from None


def _resolve_account(actor: User, value: Any) -> Account | None:
    """The account a task is about: it must be one the actor can read (otherwise it 'does not exist')."""
    if isinstance(value, Account):
        account: Account | None = value
    else:
        pk = _pk(value, "account")
        if pk is None:
            return None
        account = Account.objects.with_owners().filter(pk=pk).first() if abs(pk) < 2**63 else None
    if account is None or not policy.can_read_account(actor, account):
        raise ValidationFailed({"account": ["No such account."]})
    return account


def _resolve_owner(actor: User, value: Any) -> User:
    if isinstance(value, User):
        return value
    pk = _pk(value, "owner")
    owner = User.objects.with_region().filter(pk=pk).first() if pk is not None and abs(pk) < 2**63 else None
    if owner is None:
        raise ValidationFailed({"owner": ["No such person."]})
    return owner


def _check_owner(actor: User, owner: User, account: Account | None) -> None:
    if not owner.is_active:
        raise ValidationFailed({"owner": [f"{owner} is not active."]})
    if not policy.can_assign_task_to(actor, owner):
        raise PermissionDenied(f"You may not give tasks to {owner}.")
    if account is not None and not policy.can_read_account(owner, account):
        raise ValidationFailed({"owner": [f"{owner} cannot see {account}."]})


def _save_changes(task: Task, fields: list[str]) -> None:
    """Save in a savepoint: the one constraint a valid change can still meet is reopening a done rule task
    while another one for the same account, type and reason is open; say so instead of failing the request.
    """
    try:
        with transaction.atomic():
            task.save(update_fields=fields)
    except IntegrityError as exc:
        raise ValidationFailed(
            {"status": ["Another open task for this account, type and reason exists; this one stays done."]}
        ) from exc


@transaction.atomic
def task_create(*, actor: User, data: dict[str, Any], source: str = "web") -> Task:
    """Create a task by hand (origin manual). ``account``/``owner`` may be objects or ids; owner defaults to
    the actor. The actor must read the account and be allowed to give the owner tasks; the owner must read it.
    """
    unknown = set(data) - CREATE_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown task field(s): {', '.join(sorted(unknown))}."]})
    type_ = data.get("type") or TaskType.FOLLOW_UP
    if type_ not in TaskType.values:
        raise ValidationFailed({"type": [f"Unknown task type {type_!r}."]})
    title = clean_text(data.get("title"), "title", required=True, max_length=TITLE_MAX)
    account = _resolve_account(actor, data.get("account", data.get("account_id")))
    owner_value = data.get("owner", data.get("owner_id"))
    owner = actor if owner_value in (None, "") else _resolve_owner(actor, owner_value)
    _check_owner(actor, owner, account)
    now = timezone.now()
    task = Task(
        type=type_,
        title=title,
        account=account,
        owner=owner,
        created_by=actor,
        reason=clean_text(data.get("reason"), "reason", max_length=REASON_MAX),
        due_on=clean_date(data.get("due_on"), "due_on"),
        notes=clean_text(data.get("notes"), "notes"),
        status=TaskStatus.OPEN,
        origin=TaskOrigin.MANUAL,
        created_at=now,
        updated_at=now,
    )
    task.save()
    audit_record(
        actor=actor, obj=task, action=AuditAction.CREATE, before=None, after=snapshot(task, TASK_FIELDS), source=source
    )
    if owner.pk != actor.pk:
        _notify_assigned([task], actor=actor)
    return task


@transaction.atomic
def task_update(*, actor: User, task: Task, changes: dict[str, Any], source: str = "web") -> Task:
    """Change a task's status (snoozing needs a future ``snoozed_until``), due date, owner, title or notes.

    Giving ``snoozed_until`` alone snoozes the task; any other status clears it. Done stamps ``completed_at``;
    reopening clears it. A snoozed task whose day has come is saved as open with the next change.
    """
    if not policy.can_change_task(actor, task):
        raise PermissionDenied("You may read this task but not change it.")
    unknown = set(changes) - UPDATE_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown task field(s): {', '.join(sorted(unknown))}."]})
    day = today()
    before = snapshot(task, TASK_FIELDS)

    status = task.effective_status(day)
    if "status" in changes:
        status = changes["status"]
        if status not in TaskStatus.values:
            raise ValidationFailed({"status": [f"Unknown status {status!r}."]})
    snoozed_until = task.snoozed_until if status == TaskStatus.SNOOZED else None
    if "snoozed_until" in changes:
        snoozed_until = clean_date(changes["snoozed_until"], "snoozed_until")
        if snoozed_until is not None and "status" not in changes:
            status = TaskStatus.SNOOZED
        elif snoozed_until is not None and status != TaskStatus.SNOOZED:
            raise ValidationFailed({"snoozed_until": ["Only a snoozed task has a date to wake up on."]})
    if status == TaskStatus.SNOOZED:
        if snoozed_until is None:
            raise ValidationFailed({"snoozed_until": ["Say until when to snooze the task."]})
        if snoozed_until <= day:
            raise ValidationFailed({"snoozed_until": ["Snooze until a day after today."]})
    task.status = status
    task.snoozed_until = snoozed_until
    if status == TaskStatus.DONE:
        task.completed_at = task.completed_at or timezone.now()
    else:
        task.completed_at = None

    if "due_on" in changes:
        task.due_on = clean_date(changes["due_on"], "due_on")
    if "title" in changes:
        task.title = clean_text(changes["title"], "title", required=True, max_length=TITLE_MAX)
    if "notes" in changes:
        task.notes = clean_text(changes["notes"], "notes")
    new_owner: User | None = None
    if "owner" in changes or "owner_id" in changes:
        new_owner = _resolve_owner(actor, changes.get("owner", changes.get("owner_id")))
        if new_owner.pk != task.owner_id:
            _check_owner(actor, new_owner, task.account)
            task.owner = new_owner
        else:
            new_owner = None

    after = snapshot(task, TASK_FIELDS)
    changed = [f for f in TASK_FIELDS if before[f] != after[f]]
    if not changed:
        return task
    task.updated_at = timezone.now()
    _save_changes(task, [*(f"{f}_id" if f in ("account", "owner") else f for f in changed), "updated_at"])
    audit_record(
        actor=actor,
        obj=task,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    if new_owner is not None and new_owner.pk != actor.pk:
        _notify_assigned([task], actor=actor)
    return task


# --- Notifications --------------------------------------------------------------------------------------------


def _notify_assigned(tasks: Sequence[Task], *, actor: User | None) -> None:
    """Tell each task's owner it is theirs (one notification per task and owner, however often this runs)."""
    if not tasks:
        return
    from tamarind.notifications.services import Handover, notify_handed_over

    notify_handed_over(
        (
            Handover(
                recipient_id=task.owner_id,
                noun="task",
                title=f"New task: {task.title}",
                url=task_url(task),
                about=str(task.account) if task.account_id else "",
                account_id=task.account_id,
                dedupe_key=f"task:{task.pk}",
            )
            for task in tasks
        ),
        actor=actor,
        kind="task_assigned",
    )
