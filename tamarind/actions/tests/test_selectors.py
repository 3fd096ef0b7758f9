"""Task reads: effective status (woken snoozes are open), the filters, counts, the gated fetch, lookups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.utils import timezone

from tamarind.actions import selectors
from tamarind.actions.models import Task, TaskStatus, today
from tamarind.testing.factories import AccountFactory

DAY = dt.date(2030, 6, 15)


def make(book: Any, **fields: Any) -> Task:
    now = timezone.now()
    data = {"title": "t", "account": book.account, "owner": book.tam, "created_at": now, "updated_at": now}
    data.update(fields)
    if data.get("status") == TaskStatus.DONE:
        data.setdefault("completed_at", now)
    return Task.objects.create(**data)


@pytest.fixture
def statuses(book: Any) -> dict[str, Task]:
    return {
        "open": make(book, title="open", due_on=DAY - dt.timedelta(1)),
        "progress": make(book, title="progress", status=TaskStatus.IN_PROGRESS, due_on=DAY),
        "asleep": make(book, title="asleep", status=TaskStatus.SNOOZED, snoozed_until=DAY + dt.timedelta(1)),
        "woken": make(
            book,
            title="woken",
            status=TaskStatus.SNOOZED,
            snoozed_until=DAY,
            due_on=DAY - dt.timedelta(3),
        ),
        "done": make(book, title="done", status=TaskStatus.DONE, due_on=DAY - dt.timedelta(9)),
    }


def titles(qs: Any) -> set[str]:
    return {t.title for t in qs}


def test_effective_status_in_python_and_sql_agree(book: Any, statuses: dict[str, Task]) -> None:
    annotated = {t.title: t.effective for t in Task.objects.with_effective_status(DAY)}
    for task in statuses.values():
        assert task.effective_status(DAY) == annotated[task.title]
    assert annotated == {
        "open": "open",
        "progress": "in_progress",
        "asleep": "snoozed",
        "woken": "open",
        "done": "done",
    }


def test_in_effective_status(book: Any, statuses: dict[str, Task]) -> None:
    qs = Task.objects.all()
    assert titles(qs.in_effective_status(["open"], DAY)) == {"open", "woken"}
    assert titles(qs.in_effective_status(["snoozed"], DAY)) == {"asleep"}
    assert titles(qs.in_effective_status(["done", "in_progress"], DAY)) == {"done", "progress"}
    assert titles(qs.active(DAY)) == {"open", "progress", "woken"}
    assert titles(qs.overdue(DAY)) == {"open", "woken"}
    assert titles(qs.not_done()) == {"open", "progress", "asleep", "woken"}


def test_is_overdue(book: Any, statuses: dict[str, Task]) -> None:
    assert {k for k, t in statuses.items() if t.is_overdue(DAY)} == {"open", "woken"}


def test_counts_in_one_query(book: Any, statuses: dict[str, Task], django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        counts = selectors.task_counts_mine(user=book.tam, day=DAY)
    assert counts == selectors.TaskCounts(open=2, in_progress=1, snoozed=1, overdue=2, done=1)


def test_filters_parse_and_report() -> None:
    f = selectors.TaskFilters.from_params(
        QueryDict("owner=3,x&type=follow_up&type=nope&status=open,done&overdue=yes&q=%00acme&account=0")
    )
    assert f.owner == [3] and f.type == ["follow_up"] and f.status == ["open", "done"] and f.overdue
    assert f.q == "acme"
    assert set(f.errors) == {"owner", "type", "account"}
    assert selectors.TaskFilters.from_params(QueryDict("status=all")).statuses == list(TaskStatus.values)
    assert selectors.TaskFilters.from_params(QueryDict("")).statuses == ["open", "in_progress"]
    assert selectors.TaskFilters.from_params({"owner": [str(2**70)]}).errors == {
        "owner": f"owner must be a person's id, got '{2**70}'."
    }


def test_lists_are_ordered_by_due_date_undated_last(book: Any, statuses: dict[str, Task]) -> None:
    make(book, title="undated")
    filters = selectors.TaskFilters.from_params(QueryDict("status=all"))
    got = [t.title for t in selectors.task_list_mine(user=book.tam, filters=filters, day=DAY)]
    assert got == ["done", "woken", "open", "progress", "undated", "asleep"]  # undated: newest first


def test_mine_ignores_the_owner_filter(book: Any, statuses: dict[str, Task]) -> None:
    filters = selectors.TaskFilters.from_params(QueryDict(f"owner={book.tam2.pk}"))
    assert titles(selectors.task_list_mine(user=book.tam, filters=filters, day=DAY)) == {"open", "progress", "woken"}


def test_team_list_gate(book: Any) -> None:
    with pytest.raises(PermissionDenied):
        selectors.task_list_team(user=book.tam, filters=selectors.TaskFilters())


def test_task_for_user(book: Any, statuses: dict[str, Task]) -> None:
    task = statuses["open"]
    assert selectors.task_for_user(book.manager, task.pk, write=True) == task
    with pytest.raises(PermissionDenied):
        selectors.task_for_user(book.director, task.pk, write=True)
    for bad in (book.tam2, book.other_manager):
        with pytest.raises(Http404):
            selectors.task_for_user(bad, task.pk)
    for bad_id in ("x", 0, -1, 2**64, 999999):
        with pytest.raises(Http404):
            selectors.task_for_user(book.admin, bad_id)


def test_owner_choices(book: Any) -> None:
    assert set(selectors.task_owner_choices(user=book.manager)) == {book.manager, book.tam, book.tam2}
    assert set(selectors.task_owner_choices(user=book.director)) == {book.director}
    assert set(selectors.task_team_owner_choices(user=book.manager)) == {book.manager, book.tam, book.tam2}
    assert book.other_tam in set(selectors.task_team_owner_choices(user=book.director))
    assert book.other_tam in set(selectors.task_owner_choices(user=book.admin))


def test_account_lookup(book: Any) -> None:
    lookup = selectors.task_account_lookup
    assert lookup(user=book.tam, text=book.account.crm_id.lower()) == book.account
    assert lookup(user=book.tam, text="ACME corp") == book.account
    assert lookup(user=book.tam, text="acm") == book.account
    assert lookup(user=book.tam, text="globex") is None  # not in the TAM's scope
    assert lookup(user=book.tam, text="  ") is None
    AccountFactory(region=book.east, name="Acme Labs")
    with pytest.raises(LookupError):
        lookup(user=book.tam, text="acme")
    assert lookup(user=book.tam, text="Acme Corp") == book.account  # an exact name still wins
    assert selectors.task_account_lookup_by_id(user=book.tam, account_id=book.other_account.pk) is None
    assert selectors.task_account_lookup_by_id(user=book.tam, account_id=2**70) is None


def test_default_day_is_today(book: Any) -> None:
    task = make(book, status=TaskStatus.SNOOZED, snoozed_until=today())
    assert task.effective_status() == TaskStatus.OPEN
    assert Task.objects.active().filter(pk=task.pk).exists()


def test_history_names_owners_and_statuses(book: Any) -> None:
    from tamarind.actions.services import task_create, task_update

    task = task_create(actor=book.manager, data={"title": "x", "owner": book.tam})
    task_update(actor=book.manager, task=task, changes={"owner": book.tam2, "status": TaskStatus.IN_PROGRESS})
    latest = selectors.task_history(task=task)[0]
    assert ("owner", "Tara Tam", "Theo Tam") in latest.changes  # type: ignore[attr-defined]
    assert ("status", "Open", "In progress") in latest.changes  # type: ignore[attr-defined]
