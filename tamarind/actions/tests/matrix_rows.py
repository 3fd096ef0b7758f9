"""Permission-matrix rows for the task routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is a task owned by ``book.tam`` (region east) on ``book.account``: its owner, east's manager and admins
change it, the director reads it, everyone else is told it does not exist.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tamarind.actions.models import Task
from tamarind.testing.matrix import Row, everyone, only


def task(book: Any, t: dict[str, Any]) -> int:
    """The target task, created once per test without an audit event (so denied-write checks count only theirs)."""
    if "task" not in t:
        now = timezone.now()
        t["task"] = Task.objects.create(
            title="Matrix task",
            account=book.account,
            owner=book.tam,
            created_by=book.manager,
            created_at=now,
            updated_at=now,
        )
    return int(t["task"].pk)


TASK_READERS = {"admin": 200, "director": 200, "manager": 200, "tam": 200}
TEAM = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200}


def task_write(ok: int) -> dict[str, int]:
    """Changing the target: owner, their manager, admins ``ok``; the director 403; everyone else 404."""
    return only({"admin": ok, "manager": ok, "tam": ok, "director": 403}, denied=404)


ROWS: list[Row] = [
    # --- web ------------------------------------------------------------------------------------------------------
    Row("actions:mine", "get", lambda b, t: "/tasks/", everyone(200)),
    Row("actions:team", "get", lambda b, t: "/tasks/team/", only(TEAM, 403)),
    Row("actions:create", "get", lambda b, t: "/tasks/new/", everyone(200)),
    Row("actions:detail", "get", lambda b, t: f"/tasks/{task(b, t)}/", only(TASK_READERS, 404)),
    Row(
        "actions:status",
        "post",
        lambda b, t: f"/tasks/{task(b, t)}/status/",
        task_write(302),
        data=lambda b, t: {"status": "in_progress"},
        json=False,
    ),
    Row("actions:edit", "get", lambda b, t: f"/tasks/{task(b, t)}/edit/", task_write(200)),
    # --- API ------------------------------------------------------------------------------------------------------
    Row("api:task_list_mine", "get", lambda b, t: "/api/v1/tasks/", everyone(200, anonymous=401), api=True),
    Row("api:task_list_team", "get", lambda b, t: "/api/v1/tasks/team", only(TEAM, 403, anonymous=401), api=True),
    Row(
        "api:task_create",
        "post",
        lambda b, t: "/api/v1/tasks/",
        only({"admin": 201, "manager": 201, "tam": 201}, 403, anonymous=401),
        data=lambda b, t: {"title": "Matrix follow-up", "owner_id": b.tam.pk},
        api=True,
    ),
    Row(
        "api:task_detail",
        "get",
        lambda b, t: f"/api/v1/tasks/{task(b, t)}",
        only(TASK_READERS, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api:task_update",
        "patch",
        lambda b, t: f"/api/v1/tasks/{task(b, t)}",
        {**task_write(200), "anonymous": 401},
        data=lambda b, t: {"status": "in_progress"},
        api=True,
    ),
]
