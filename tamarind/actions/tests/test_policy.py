"""The task section of the access policy: owner, the owner's region manager and admins change; directors read."""

from __future__ import annotations

from typing import Any

import pytest

from tamarind import policy
from tamarind.actions.models import Task
from tamarind.actions.services import task_create

ROLES = ["admin", "director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa"]


@pytest.fixture
def tam_task(book: Any) -> Task:
    return task_create(actor=book.tam, data={"title": "Mine", "account": book.account})


@pytest.mark.parametrize(
    ("role", "reads", "changes"),
    [
        ("admin", True, True),
        ("director", True, False),
        ("manager", True, True),
        ("other_manager", False, False),
        ("tam", True, True),
        ("tam2", False, False),
        ("other_tam", False, False),
        ("sal", False, False),
        ("sa", False, False),
    ],
)
def test_who_reads_and_changes_a_tams_task(book: Any, tam_task: Task, role: str, reads: bool, changes: bool) -> None:
    user = getattr(book, role)
    assert policy.can_read_task(user, tam_task) is reads
    assert policy.can_change_task(user, tam_task) is changes
    # the list scope agrees with the single check
    assert Task.objects.visible_to(user).filter(pk=tam_task.pk).exists() is reads


def test_a_manager_does_not_oversee_non_tams_of_the_region(book: Any) -> None:
    sal_task = task_create(actor=book.sal, data={"title": "SAL's own"})
    assert not policy.can_read_task(book.manager, sal_task)
    assert not Task.objects.visible_to(book.manager).filter(pk=sal_task.pk).exists()
    assert policy.can_read_task(book.sal, sal_task) and policy.can_change_task(book.sal, sal_task)


def test_a_director_changes_their_own_task(book: Any) -> None:
    own = task_create(actor=book.director, data={"title": "Review"})
    assert policy.can_change_task(book.director, own)


def test_inactive_users_get_nothing(book: Any, tam_task: Task) -> None:
    book.tam.is_active = False
    assert not policy.can_read_task(book.tam, tam_task)
    assert not policy.can_change_task(book.tam, tam_task)
    assert not Task.objects.visible_to(book.tam).exists()
    assert not policy.can_assign_task_to(book.manager, book.tam)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("admin", {"admin", "director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa"}),
        ("manager", {"manager", "tam", "tam2"}),
        ("other_manager", {"other_manager", "other_tam"}),
        ("director", {"director"}),
        ("tam", {"tam"}),
        ("sal", {"sal"}),
    ],
)
def test_whom_one_may_give_a_task(book: Any, actor: str, allowed: set[str]) -> None:
    got = {role for role in ROLES if policy.can_assign_task_to(getattr(book, actor), getattr(book, role))}
    assert got == allowed


def test_team_tasks_page_is_for_managers_directors_admins(book: Any) -> None:
    got = {role for role in ROLES if policy.can_read_team_tasks(getattr(book, role))}
    assert got == {"admin", "director", "manager", "other_manager"}
