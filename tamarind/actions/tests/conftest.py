"""Task fixtures: a few tasks around ``book`` and a way to grow the task list in bulk."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tamarind.actions.models import Task, TaskOrigin, TaskStatus, TaskType, today
from tamarind.actions.services import task_create, task_raise

WHY = {
    "rule_set": 1,
    "rule_version": 2,
    "rule": "Qualifies for a TAM",
    "data": {"arr": "120000.00", "segment": "enterprise"},
}


@pytest.fixture
def tam_task(book: Any) -> Task:
    """A task the manager gave ``book.tam`` on ``book.account``, due in a week."""
    return task_create(
        actor=book.manager,
        data={"title": "Kickoff call", "account": book.account, "owner": book.tam, "due_on": today() + dt.timedelta(7)},
    )


@pytest.fixture
def rule_task(book: Any) -> Task:
    """A rule-raised "assign a TAM" task for the manager on ``book.account``."""
    task = task_raise(type=TaskType.ASSIGN_TAM, account=book.account, owner=book.manager, reason="qualified", why=WHY)
    assert task is not None
    return task


def grow_tasks(owner: Any, account: Any, n: int, **extra: Any) -> None:
    """``n`` more tasks for ``owner``, in every status, in bulk (no audit: fixture data)."""
    now = timezone.now()
    statuses = [TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.SNOOZED, TaskStatus.DONE]
    rows = []
    for i in range(n):
        status = statuses[i % 4]
        rows.append(
            Task(
                title=f"Bulk task {i}",
                account=account,
                owner=owner,
                created_by=owner,
                origin=TaskOrigin.MANUAL,
                status=status,
                snoozed_until=today() + dt.timedelta(3) if status == TaskStatus.SNOOZED else None,
                completed_at=now if status == TaskStatus.DONE else None,
                due_on=today() + dt.timedelta(days=(i % 20) - 10),
                created_at=now,
                updated_at=now,
                **extra,
            )
        )
    Task.objects.bulk_create(rows)
