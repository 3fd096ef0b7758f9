"""REST routes of tasks under ``/api/v1/tasks/`` (auth and error bodies: ``tamarind.core.api``).

Routes parse, gate (``selectors.task_for_user`` / the list selectors), call a service and shape the answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind.actions import selectors, services
from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, actor, error_responses, paginate

router = Router(tags=["Tasks"])


# --- Output ---------------------------------------------------------------------------------------------------


class TaskPersonRef(Schema):
    id: int
    full_name: str


class TaskOut(Schema):
    """A call to action. ``status`` is what is stored; ``effective_status`` is what a person sees (a snoozed
    task whose ``snoozed_until`` day has come is ``open``)."""

    id: int
    type: str = Field(..., description="`assign_tam`, `onboarding_overdue`, `disengagement_review` or `follow_up`.")
    title: str
    account: AccountRef | None
    owner: TaskPersonRef
    created_by: TaskPersonRef | None = Field(None, description="Empty when a rule or a periodic job raised the task.")
    origin: str = Field(..., description="`rule` or `manual`.")
    reason: str = Field(..., description="What in particular the task is about; with account and type, its identity.")
    due_on: dt.date | None
    status: str = Field(..., description="`open`, `in_progress`, `done` or `snoozed`.")
    effective_status: str = Field(..., description="The status as seen today: a woken snoozed task is `open`.")
    snoozed_until: dt.date | None = Field(None, description="The day a snoozed task is open again.")
    overdue: bool = Field(..., description="Open or in progress and due before today.")
    why: dict[str, Any] = Field(
        ..., description='What raised it: `{"rule_set": id, "rule_version": n, "rule": name, "data": {...}}`.'
    )
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None

    @staticmethod
    def resolve_effective_status(obj: Task) -> str:
        return obj.effective_status()

    @staticmethod
    def resolve_overdue(obj: Task) -> bool:
        return obj.is_overdue()


class TaskPage(Schema):
    count: int = Field(..., description="Tasks matching the filters, over all pages.")
    page: int
    page_size: int
    results: list[TaskOut]


# --- Input ----------------------------------------------------------------------------------------------------

Title = Annotated[str, Field(min_length=1, max_length=200)]
Ref = Id


class TaskCreateIn(InputSchema):
    """A task by hand. The account must be one you can read; the owner defaults to you."""

    title: Title
    type: TaskType = TaskType.FOLLOW_UP
    account_id: Ref | None = None
    owner_id: Ref | None = Field(None, description="Yourself by default; managers their region's TAMs, admins anyone.")
    due_on: dt.date | None = None
    notes: str = ""
    reason: Annotated[str, Field(max_length=100)] = ""


class TaskPatchIn(InputSchema):
    """Only the fields sent change. `snoozed_until` alone snoozes the task; any other status clears it."""

    status: TaskStatus = None  # type: ignore[assignment]
    snoozed_until: dt.date | None = None
    due_on: dt.date | None = None
    owner_id: Ref = None  # type: ignore[assignment]
    title: Title = None  # type: ignore[assignment]
    notes: str = None  # type: ignore[assignment]


class TaskListQuery(PageQuery):
    """Documents the filters; they are parsed by ``selectors.TaskFilters``, the same parser as the web lists."""

    status: list[str] = Field(
        [], description="`open`, `in_progress`, `snoozed`, `done` or `all`; default open and in progress."
    )
    type: list[str] = Field([], description="Task types (repeat the parameter or separate with commas).")
    overdue: str = Field("", description="`true` for tasks due before today only.")
    q: str = Field("", description="Account name contains this, or its CRM id equals it.")
    account: str = Field("", description="An account id.")


class TeamTaskListQuery(TaskListQuery):
    owner: list[str] = Field([], description="Owner ids.")


def _filters(request: HttpRequest) -> selectors.TaskFilters:
    filters = selectors.TaskFilters.from_params(request.GET)
    if filters.errors:
        raise ValidationFailed({key: [msg] for key, msg in filters.errors.items()})
    return filters


# --- Routes ---------------------------------------------------------------------------------------------------


@router.get(
    "/",
    response={200: TaskPage, **error_responses(401, 422)},
    summary="List my tasks",
    description="The tasks you own, soonest due first. An invalid filter value answers 422 naming the parameter.",
)
def task_list_mine(request: HttpRequest, params: Query[TaskListQuery]) -> dict[str, Any]:
    qs = selectors.task_list_mine(user=actor(request), filters=_filters(request))
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.get(
    "/team",
    response={200: TaskPage, **error_responses(401, 403, 422)},
    summary="List team tasks",
    description=(
        "TAM Managers: their own tasks and their region's TAMs'; directors and admins: every task. Others get 403."
    ),
)
def task_list_team(request: HttpRequest, params: Query[TeamTaskListQuery]) -> dict[str, Any]:
    qs = selectors.task_list_team(user=actor(request), filters=_filters(request))
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/",
    response={201: TaskOut, **error_responses(401, 403, 422)},
    summary="Create a task",
    description=(
        "A task by hand for yourself, or (TAM Managers) a TAM of your region, or (admins) anyone. "
        "An account you cannot read, or that the owner cannot read, answers 422."
    ),
)
def task_create(request: HttpRequest, payload: TaskCreateIn) -> Status[Task]:
    user = actor(request)
    return Status(201, services.task_create(actor=user, data=payload.changes(), source="api"))


@router.get(
    "/{task_id}",
    response={200: TaskOut, **error_responses(401, 404, 422)},
    summary="Get a task",
    description="404 when the task does not exist or is not yours, your team's (managers) or anyone's (directors, "
    "admins).",
)
def task_detail(request: HttpRequest, task_id: Id) -> Task:
    return selectors.task_for_user(actor(request), task_id)


@router.patch(
    "/{task_id}",
    response={200: TaskOut, **error_responses(401, 403, 404, 422)},
    summary="Change a task",
    description=(
        "Status (`snoozed` needs a future `snoozed_until`), due date, owner, title, notes. The owner, the owner's "
        "TAM Manager and admins may change a task; directors read it (403)."
    ),
)
def task_update(request: HttpRequest, task_id: Id, payload: TaskPatchIn) -> Task:
    user = actor(request)
    task = selectors.task_for_user(user, task_id, write=True)
    return services.task_update(actor=user, task=task, changes=payload.changes(), source="api")
