"""Task services: rule tasks deduplicated while open (in Python and by the database), bulk raising, resolving,
manual creation and changes with their audit events and notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tamarind.actions.models import Task, TaskOrigin, TaskStatus, TaskType, today
from tamarind.actions.services import (
    TaskDraft,
    task_create,
    task_raise,
    task_raise_many,
    task_resolve,
    task_resolve_many,
    task_update,
)
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.notifications.models import Notification
from tamarind.testing.factories import AccountFactory

WHY = {"rule_set": 1, "rule_version": 3, "rule": "Qualifies for a TAM", "data": {"arr": "120000.00"}}


def raise_assign(book: Any, account: Any = None, reason: str = "qualified") -> Task | None:
    return task_raise(
        type=TaskType.ASSIGN_TAM, account=account or book.account, owner=book.manager, reason=reason, why=WHY
    )


def events(task: Task) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_object("actions.task", task.pk).order_by("id"))


# --- task_raise ---------------------------------------------------------------------------------------------


def test_raise_creates_an_open_rule_task_with_why_audit_and_notification(book: Any) -> None:
    task = raise_assign(book)
    assert task is not None
    task.refresh_from_db()
    assert task.origin == TaskOrigin.RULE
    assert task.status == TaskStatus.OPEN
    assert task.owner == book.manager
    assert task.created_by is None
    assert task.title == "Assign a TAM: Acme Corp"
    assert task.why == WHY
    [event] = events(task)
    assert event.action == "create" and event.actor is None and event.actor_name == "system"
    assert event.after["why"] == WHY
    [note] = Notification.objects.filter(recipient=book.manager)
    assert note.kind == "task_assigned"
    assert note.url == f"/tasks/{task.pk}/"
    assert note.account_id == book.account.pk
    assert note.dedupe_key == f"task:{task.pk}"


def test_raise_again_while_open_returns_none_and_writes_nothing(book: Any) -> None:
    first = raise_assign(book)
    assert first is not None
    before = (Task.objects.count(), AuditEvent.objects.count(), Notification.objects.count())
    assert raise_assign(book) is None
    # in progress and snoozed are still "not done": still deduplicated
    task_update(actor=book.manager, task=first, changes={"status": TaskStatus.IN_PROGRESS})
    assert raise_assign(book) is None
    task_update(actor=book.manager, task=first, changes={"snoozed_until": today() + dt.timedelta(days=3)})
    assert raise_assign(book) is None
    assert Task.objects.count() == before[0]
    assert Notification.objects.count() == before[2]


def test_a_different_reason_or_account_is_a_different_task(book: Any) -> None:
    assert raise_assign(book) is not None
    assert raise_assign(book, reason="requalified") is not None
    other = AccountFactory(region=book.east)
    assert raise_assign(book, account=other) is not None
    assert Task.objects.count() == 3


def test_a_done_task_allows_a_new_one(book: Any) -> None:
    first = raise_assign(book)
    assert first is not None
    task_update(actor=book.manager, task=first, changes={"status": TaskStatus.DONE})
    second = raise_assign(book)
    assert second is not None and second.pk != first.pk
    assert Task.objects.filter(status=TaskStatus.DONE).count() == 1


def test_reopening_a_done_task_while_a_new_one_is_open_is_refused(book: Any) -> None:
    first = raise_assign(book)
    assert first is not None
    task_update(actor=book.manager, task=first, changes={"status": TaskStatus.DONE})
    assert raise_assign(book) is not None
    first.refresh_from_db()
    with pytest.raises(ValidationFailed) as exc:
        task_update(actor=book.manager, task=first, changes={"status": TaskStatus.OPEN})
    assert "status" in exc.value.errors
    first.refresh_from_db()
    assert first.status == TaskStatus.DONE


def test_the_constraint_holds_in_the_database(book: Any) -> None:
    """Even bypassing the services, two not-done rule tasks for one (account, type, reason) cannot exist."""
    now = timezone.now()
    common = dict(
        type=TaskType.ASSIGN_TAM,
        title="x",
        account=book.account,
        owner=book.manager,
        reason="qualified",
        origin=TaskOrigin.RULE,
        created_at=now,
        updated_at=now,
    )
    Task.objects.create(**common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(**{**common, "status": TaskStatus.IN_PROGRESS})
    # done ones and manual ones are free
    Task.objects.create(**{**common, "status": TaskStatus.DONE, "completed_at": now})
    Task.objects.create(**{**common, "origin": TaskOrigin.MANUAL})


@pytest.mark.parametrize(
    "fields",
    [
        {"status": TaskStatus.SNOOZED},  # snoozed without a date
        {"snoozed_until": dt.date(2030, 1, 1)},  # a date without snoozing
        {"status": TaskStatus.DONE},  # done without completed_at
        {"completed_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},  # completed but open
        {"origin": TaskOrigin.RULE, "account": None},  # rule task without account
        {"title": ""},
        {"status": "lost"},
        {"type": "nonsense"},
    ],
)
def test_check_constraints(book: Any, fields: dict[str, Any]) -> None:
    now = timezone.now()
    data = dict(title="x", account=book.account, owner=book.tam, created_at=now, updated_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(**{**data, **fields})


# --- task_raise_many ----------------------------------------------------------------------------------------


def test_raise_many_dedupes_within_the_batch_and_against_open_tasks(book: Any) -> None:
    accounts = [AccountFactory(region=book.east) for _ in range(5)]
    existing = raise_assign(book, account=accounts[0])
    assert existing is not None
    drafts = [
        TaskDraft(type=TaskType.ASSIGN_TAM, account_id=a.pk, owner_id=book.manager.pk, reason="qualified", why=WHY)
        for a in accounts
    ]
    drafts.append(drafts[1])  # the same key twice in one batch
    created = task_raise_many(drafts)
    assert sorted(t.account_id for t in created) == sorted(a.pk for a in accounts[1:])
    assert all(t.pk and t.title.startswith("Assign a TAM: ") for t in created)
    assert Task.objects.count() == 5
    assert AuditEvent.objects.filter(object_type="actions.task").count() == 5
    assert Notification.objects.filter(kind="task_assigned").count() == 5
    # a second run changes nothing
    assert task_raise_many(drafts) == []
    assert Task.objects.count() == 5


def test_raise_many_takes_a_constant_number_of_queries(book: Any, django_assert_max_num_queries: Any) -> None:
    accounts = [AccountFactory(region=book.east) for _ in range(40)]
    drafts = [
        TaskDraft(type=TaskType.ASSIGN_TAM, account_id=a.pk, owner_id=book.manager.pk, reason="qualified", why=WHY)
        for a in accounts
    ]
    with django_assert_max_num_queries(14):  # the insert is a COPY through a temporary table on PostgreSQL
        created = task_raise_many(drafts)
    assert len(created) == 40


def test_raise_many_with_nothing_does_nothing(book: Any, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(2):  # the savepoint and its release
        assert task_raise_many([]) == []


def test_raise_many_refuses_an_unknown_type(book: Any) -> None:
    with pytest.raises(ValidationFailed):
        task_raise_many([TaskDraft(type="x", account_id=book.account.pk, owner_id=book.tam.pk, reason="r")])
    assert Task.objects.count() == 0


# --- task_resolve -------------------------------------------------------------------------------------------


def test_resolve_closes_open_rule_tasks_of_the_type(book: Any) -> None:
    a = raise_assign(book)
    b = raise_assign(book, reason="other")
    manual = task_create(
        actor=book.manager,
        data={"title": "Call them", "type": TaskType.ASSIGN_TAM, "account": book.account},
    )
    assert a is not None and b is not None
    assert task_resolve(account=book.account, type=TaskType.ASSIGN_TAM, reason="qualified", actor=book.manager) == 1
    a.refresh_from_db()
    b.refresh_from_db()
    manual.refresh_from_db()
    assert a.status == TaskStatus.DONE and a.completed_at is not None
    assert b.status == TaskStatus.OPEN
    assert manual.status == TaskStatus.OPEN
    assert events(a)[-1].after == {"status": "done", "snoozed_until": None, "completed_at": a.completed_at.isoformat()}
    assert events(a)[-1].actor == book.manager
    assert task_resolve(account=book.account, type=TaskType.ASSIGN_TAM, actor=None) == 1
    assert task_resolve(account=book.account, type=TaskType.ASSIGN_TAM, actor=None) == 0


def test_resolve_a_snoozed_task_clears_the_snooze(book: Any) -> None:
    task = raise_assign(book)
    assert task is not None
    task_update(actor=book.manager, task=task, changes={"snoozed_until": today() + dt.timedelta(days=2)})
    assert task_resolve(account=book.account, type=TaskType.ASSIGN_TAM, actor=None) == 1
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.snoozed_until is None


def test_resolve_many(book: Any, django_assert_max_num_queries: Any) -> None:
    accounts = [AccountFactory(region=book.east) for _ in range(30)]
    task_raise_many(
        TaskDraft(type=TaskType.ASSIGN_TAM, account_id=a.pk, owner_id=book.manager.pk, reason="q") for a in accounts
    )
    with django_assert_max_num_queries(8):
        n = task_resolve_many(account_ids=[a.pk for a in accounts], type=TaskType.ASSIGN_TAM, actor=None)
    assert n == 30
    assert Task.objects.not_done().count() == 0


# --- task_create --------------------------------------------------------------------------------------------


def test_create_for_myself(book: Any) -> None:
    task = task_create(actor=book.tam, data={"title": " Send the deck ", "account_id": book.account.pk})
    assert task.owner == book.tam and task.created_by == book.tam
    assert task.title == "Send the deck"
    assert task.origin == TaskOrigin.MANUAL and task.type == TaskType.FOLLOW_UP
    assert events(task)[0].action == "create"
    assert not Notification.objects.exists()  # nobody to tell: I gave it to myself


def test_manager_gives_a_task_to_a_tam_of_the_region_who_is_notified(book: Any) -> None:
    task = task_create(
        actor=book.manager,
        data={"title": "Kickoff", "account": book.account, "owner_id": book.tam2.pk, "due_on": "2030-01-31"},
    )
    assert task.owner == book.tam2 and task.due_on == dt.date(2030, 1, 31)
    assert Notification.objects.filter(recipient=book.tam2, dedupe_key=f"task:{task.pk}").exists()


@pytest.mark.parametrize(
    ("actor", "owner"),
    [("tam", "tam2"), ("manager", "other_tam"), ("director", "tam"), ("sal", "tam"), ("other_manager", "tam")],
)
def test_create_for_someone_one_may_not_direct_is_forbidden(book: Any, actor: str, owner: str) -> None:
    with pytest.raises(PermissionDenied):
        task_create(actor=getattr(book, actor), data={"title": "x", "owner": getattr(book, owner)})
    assert not Task.objects.exists()


def test_create_needs_an_account_the_actor_can_read(book: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        task_create(actor=book.tam, data={"title": "x", "account_id": book.other_account.pk})
    assert exc.value.errors == {"account": ["No such account."]}
    with pytest.raises(ValidationFailed):
        task_create(actor=book.tam, data={"title": "x", "account_id": 10**30})
    with pytest.raises(ValidationFailed):
        task_create(actor=book.tam, data={"title": "x", "account_id": "abc"})


def test_create_needs_an_owner_who_can_read_the_account(book: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        task_create(actor=book.admin, data={"title": "x", "account": book.account, "owner": book.other_tam})
    assert "owner" in exc.value.errors


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "type": "bogus"}, "type"),
        ({"title": "x", "due_on": "31/01/2030"}, "due_on"),
        ({"title": "x", "owner_id": 999999}, "owner"),
        ({"title": "x", "colour": "red"}, "__all__"),
    ],
)
def test_create_rejects_bad_input(book: Any, data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        task_create(actor=book.tam, data=data)
    assert field in exc.value.errors


# --- task_update --------------------------------------------------------------------------------------------


@pytest.fixture
def task(book: Any) -> Task:
    return task_create(actor=book.manager, data={"title": "Kickoff", "account": book.account, "owner": book.tam})


def test_status_changes_are_audited_and_stamp_completion(book: Any, task: Task) -> None:
    task_update(actor=book.tam, task=task, changes={"status": TaskStatus.IN_PROGRESS})
    task_update(actor=book.tam, task=task, changes={"status": TaskStatus.DONE})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_at is not None
    last = events(task)[-1]
    assert last.before["status"] == "in_progress" and last.after["status"] == "done"
    task_update(actor=book.tam, task=task, changes={"status": TaskStatus.OPEN})
    task.refresh_from_db()
    assert task.completed_at is None


def test_no_change_writes_nothing(book: Any, task: Task) -> None:
    n = AuditEvent.objects.count()
    task_update(actor=book.tam, task=task, changes={"status": TaskStatus.OPEN, "title": "Kickoff"})
    assert AuditEvent.objects.count() == n


def test_snooze_until_a_future_date(book: Any, task: Task) -> None:
    until = today() + dt.timedelta(days=7)
    task_update(actor=book.tam, task=task, changes={"status": TaskStatus.SNOOZED, "snoozed_until": until})
    task.refresh_from_db()
    assert task.status == TaskStatus.SNOOZED and task.snoozed_until == until
    # a note keeps the snooze
    task_update(actor=book.tam, task=task, changes={"notes": "waiting for them"})
    task.refresh_from_db()
    assert task.status == TaskStatus.SNOOZED and task.notes == "waiting for them"
    # any other status clears the date
    task_update(actor=book.tam, task=task, changes={"status": TaskStatus.IN_PROGRESS})
    task.refresh_from_db()
    assert task.snoozed_until is None


@pytest.mark.parametrize(
    "changes",
    [
        {"status": TaskStatus.SNOOZED},
        {"snoozed_until": "today"},
        {"status": TaskStatus.SNOOZED, "snoozed_until": "2000-01-01"},
        {"status": TaskStatus.OPEN, "snoozed_until": "2100-01-01"},
        {"status": "finished"},
        {"title": "  "},
        {"due_on": 12},
        {"due_on": "2030-02-30"},
        {"type": TaskType.ASSIGN_TAM},
    ],
)
def test_update_rejects_bad_input(book: Any, task: Task, changes: dict[str, Any]) -> None:
    n = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed):
        task_update(actor=book.tam, task=task, changes=changes)
    assert AuditEvent.objects.count() == n


def test_snoozing_until_today_is_refused(book: Any, task: Task) -> None:
    with pytest.raises(ValidationFailed):
        task_update(actor=book.tam, task=task, changes={"snoozed_until": today()})


def test_a_woken_task_is_open_and_saved_open_with_the_next_change(book: Any, task: Task) -> None:
    task_update(actor=book.tam, task=task, changes={"snoozed_until": today() + dt.timedelta(days=1)})
    tomorrow = today() + dt.timedelta(days=1)
    task.refresh_from_db()
    assert task.effective_status() == TaskStatus.SNOOZED
    assert task.effective_status(tomorrow) == TaskStatus.OPEN
    # pretend the day has come
    Task.objects.filter(pk=task.pk).update(snoozed_until=today())
    task.refresh_from_db()
    assert task.effective_status() == TaskStatus.OPEN
    task_update(actor=book.tam, task=task, changes={"due_on": tomorrow})
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and task.snoozed_until is None and task.due_on == tomorrow


def test_manager_reassigns_within_the_region_and_the_new_owner_is_told(book: Any, task: Task) -> None:
    task_update(actor=book.manager, task=task, changes={"owner_id": book.tam2.pk})
    task.refresh_from_db()
    assert task.owner == book.tam2
    assert Notification.objects.filter(recipient=book.tam2, kind="task_assigned").exists()
    assert events(task)[-1].before == {"owner": book.tam.pk}


@pytest.mark.parametrize("actor", ["tam2", "other_manager", "other_tam", "sal", "sa", "director"])
def test_others_may_not_change_the_task(book: Any, task: Task, actor: str) -> None:
    with pytest.raises(PermissionDenied):
        task_update(actor=getattr(book, actor), task=task, changes={"status": TaskStatus.DONE})


def test_owner_may_not_give_the_task_away(book: Any, task: Task) -> None:
    with pytest.raises(PermissionDenied):
        task_update(actor=book.tam, task=task, changes={"owner": book.tam2})


def test_admin_changes_anything(book: Any, task: Task) -> None:
    task_update(actor=book.admin, task=task, changes={"owner": book.tam2, "due_on": None, "title": "New"})
    task.refresh_from_db()
    assert task.owner == book.tam2 and task.title == "New"
