"""REST routes of success plans under ``/api/v1/success/`` (auth and error bodies: ``tamarind.core.api``).

Routes parse, gate (``selectors.*_for_user`` / ``visible_to``), call a service and shape the answer; the access
policy and the rules (one current plan per account, an outcome to close an objective, no task under a closed
objective, due dates on or after the plan's start, reviewers who may read the plan) stay in ``tamarind.policy``
and the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, PersonRef, actor, error_responses, paginate
from tamarind.success import selectors, services
from tamarind.success.models import (
    Answer,
    Ebr,
    EbrStatus,
    Objective,
    ObjectiveCategory,
    ObjectivePriority,
    ObjectiveStatus,
    PlanReview,
    PlanStatus,
    PlanTask,
    PlanTaskStatus,
    Risk,
    SuccessPlan,
    Verdict,
)

router = Router(tags=["Success plans"])

Text = Annotated[str, Field(max_length=20_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

# --- Output -------------------------------------------------------------------------------------------------------


class SuccessTaskOut(Schema):
    id: int
    name: str
    owner: PersonRef | None
    customer_owner: str
    due_on: dt.date | None
    status: str = Field(..., description="`not_started`, `in_progress`, `blocked` or `done`.")
    risk: str
    progress: int


class SuccessObjectiveOut(Schema):
    id: int
    name: str
    owner: PersonRef | None
    due_on: dt.date | None
    category: str = Field(..., description="`adoption`, `roi` or `expansion`.")
    status: str = Field(..., description="`new`, `in_progress` or `closed`.")
    priority: str
    success_criteria: str
    outcome: str
    closed_at: dt.datetime | None
    tasks: list[SuccessTaskOut]

    @staticmethod
    def resolve_tasks(obj: Objective) -> list[PlanTask]:
        return list(obj.tasks.all())


class SuccessPlanOut(Schema):
    """A success plan. `color` and `color_reasons`: the stored result of the green rule (empty when archived)."""

    id: int
    account: AccountRef
    status: str = Field(..., description="`draft`, `active` or `archived` (read-only).")
    why_bought: str
    strategy: str = Field(..., description="Markdown.")
    highlights: str = Field(..., description="Markdown.")
    start_on: dt.date
    color: str = Field(..., description="`green`, `yellow`, `red`, or empty for an archived plan.")
    color_reasons: list[str]
    last_activity_at: dt.datetime
    created_at: dt.datetime


class SuccessPlanDetailOut(SuccessPlanOut):
    objectives: list[SuccessObjectiveOut]

    @staticmethod
    def resolve_objectives(obj: SuccessPlan) -> list[Objective]:
        return list(obj.objectives.all())


class SuccessPlanPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[SuccessPlanOut]


class SuccessReviewOut(Schema):
    id: int
    plan_id: int
    kind: str = Field(..., description="`manager` or `peer`.")
    status: str = Field(..., description="`requested` (a peer review waiting for answers) or `completed`.")
    reviewer: PersonRef
    q1: str
    q2: str
    q3: str
    q4: str
    q5: str
    q6: str
    q1_notes: str
    q2_notes: str
    q3_notes: str
    q4_notes: str
    q5_notes: str
    q6_notes: str
    verdict: str
    coaching: str
    requested_at: dt.datetime
    completed_at: dt.datetime | None


class SuccessEbrOut(Schema):
    id: int
    account: AccountRef
    status: str = Field(..., description="`not_started`, `scheduled`, `completed`, `cancelled` or `declined`.")
    held_on: dt.date | None
    attendees: str
    outcome: str
    materials_url: str


class SuccessEbrPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[SuccessEbrOut]


class SuccessFigureOut(Schema):
    label: str
    p1: int
    p1_green: int
    new: int
    new_planned: int
    p1_ebr: int


class SuccessCoverageOut(Schema):
    """Coverage of the caller's scope: priority 1 with a green plan, new customers with a plan in time, priority 1
    with an EBR in 12 months; in total and per region, TAM, segment and engagement model."""

    total: SuccessFigureOut
    groups: dict[str, list[SuccessFigureOut]]
    ebr_target_pct: int


# --- Input --------------------------------------------------------------------------------------------------------


class SuccessPlanCreateIn(InputSchema):
    """Start an account's plan (422 while it has a current one). Starts from the matching template."""

    account_id: Id
    status: PlanStatus = None  # type: ignore[assignment]
    why_bought: Text = None  # type: ignore[assignment]
    strategy: Text = None  # type: ignore[assignment]
    highlights: Text = None  # type: ignore[assignment]
    start_on: dt.date = None  # type: ignore[assignment]


class SuccessPlanPatchIn(InputSchema):
    """Only the fields sent change. `status`: `draft` or `active` (archiving: `archive: true`)."""

    status: PlanStatus = None  # type: ignore[assignment]
    why_bought: Text = None  # type: ignore[assignment]
    strategy: Text = None  # type: ignore[assignment]
    highlights: Text = None  # type: ignore[assignment]
    start_on: dt.date = None  # type: ignore[assignment]
    archive: bool = False


class SuccessObjectiveIn(InputSchema):
    """An objective; closing it (`status: closed`) needs `outcome`."""

    name: Name = None  # type: ignore[assignment]
    owner: Id | None = None
    due_on: dt.date | None = None
    category: ObjectiveCategory = None  # type: ignore[assignment]
    status: ObjectiveStatus = None  # type: ignore[assignment]
    priority: ObjectivePriority = None  # type: ignore[assignment]
    success_criteria: Text = None  # type: ignore[assignment]
    outcome: Text = None  # type: ignore[assignment]


class SuccessTaskIn(InputSchema):
    name: Name = None  # type: ignore[assignment]
    owner: Id | None = None
    customer_owner: Annotated[str, Field(max_length=120)] = None  # type: ignore[assignment]
    due_on: dt.date | None = None
    status: PlanTaskStatus = None  # type: ignore[assignment]
    risk: Risk = None  # type: ignore[assignment]
    progress: Annotated[int, Field(ge=0, le=100)] = None  # type: ignore[assignment]


class SuccessReviewIn(InputSchema):
    """The six answers (`yes`, `partly`, `no`) with notes, a verdict and coaching notes."""

    q1: Answer
    q2: Answer
    q3: Answer
    q4: Answer
    q5: Answer
    q6: Answer
    q1_notes: Text = ""
    q2_notes: Text = ""
    q3_notes: Text = ""
    q4_notes: Text = ""
    q5_notes: Text = ""
    q6_notes: Text = ""
    verdict: Verdict
    coaching: Text = ""


class SuccessPeerRequestIn(InputSchema):
    reviewer_id: Id


class SuccessEbrIn(InputSchema):
    status: EbrStatus = None  # type: ignore[assignment]
    held_on: dt.date | None = None
    attendees: Text = None  # type: ignore[assignment]
    outcome: Text = None  # type: ignore[assignment]
    materials_url: Annotated[str, Field(max_length=500)] = None  # type: ignore[assignment]


class SuccessEbrCreateIn(SuccessEbrIn):
    account_id: Id


class SuccessPlanQuery(PageQuery):
    color: str = Field("", description="`green`, `yellow` or `red`.")
    account: int = Field(0, ge=0, le=2**63 - 1, description="An account id.")


class SuccessEbrQuery(PageQuery):
    account: int = Field(0, ge=0, le=2**63 - 1, description="An account id.")


def _plan_out(user: Any, plan_id: int) -> SuccessPlan:
    plan = selectors.plan_for_user(user, plan_id)
    return (
        SuccessPlan.objects.filter(pk=plan.pk)
        .select_related("account")
        .prefetch_related("objectives__owner", "objectives__tasks__owner")
        .get()
    )


# --- Routes -------------------------------------------------------------------------------------------------------


@router.get(
    "/plans",
    response={200: SuccessPlanPage, **error_responses(401, 422)},
    summary="List success plans",
    description="The current (draft and active) plans of the accounts you may read.",
)
def success_plan_list(request: HttpRequest, params: Query[SuccessPlanQuery]) -> dict[str, Any]:
    user = actor(request)
    qs = SuccessPlan.objects.visible_to(user).current().select_related("account").order_by("account__name", "pk")
    if params.color:
        qs = qs.filter(color=params.color)
    if params.account:
        qs = qs.filter(account_id=params.account)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/plans",
    response={201: SuccessPlanDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Start a success plan",
)
def success_plan_create(request: HttpRequest, payload: SuccessPlanCreateIn) -> Status[SuccessPlan]:
    user = actor(request)
    data = payload.changes()
    account = account_for_user(user, data.pop("account_id"))
    plan = services.success_plan_create(actor=user, account=account, data=data, source="api")
    return Status(201, _plan_out(user, plan.pk))


@router.get(
    "/plans/{plan_id}",
    response={200: SuccessPlanDetailOut, **error_responses(401, 404)},
    summary="A success plan with its objectives and tasks",
)
def success_plan_detail(request: HttpRequest, plan_id: Id) -> SuccessPlan:
    return _plan_out(actor(request), plan_id)


@router.patch(
    "/plans/{plan_id}",
    response={200: SuccessPlanDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Change a success plan",
)
def success_plan_update(request: HttpRequest, plan_id: Id, payload: SuccessPlanPatchIn) -> SuccessPlan:
    user = actor(request)
    plan = selectors.plan_for_user(user, plan_id, write=True)
    changes = payload.changes()
    archive = changes.pop("archive", False)
    if changes:
        services.success_plan_update(actor=user, plan=plan, changes=changes, source="api")
    if archive:
        services.success_plan_archive(actor=user, plan=plan, source="api")
    return _plan_out(user, plan.pk)


@router.post(
    "/plans/{plan_id}/objectives",
    response={201: SuccessObjectiveOut, **error_responses(401, 403, 404, 422)},
    summary="Add an objective",
)
def success_objective_create(request: HttpRequest, plan_id: Id, payload: SuccessObjectiveIn) -> Status[Objective]:
    user = actor(request)
    plan = selectors.plan_for_user(user, plan_id, write=True)
    objective = services.objective_create(actor=user, plan=plan, data=payload.changes(), source="api")
    return Status(201, selectors.objective_for_user(user, objective.pk))


@router.patch(
    "/objectives/{objective_id}",
    response={200: SuccessObjectiveOut, **error_responses(401, 403, 404, 422)},
    summary="Change an objective",
    description="Closing it (`status: closed`) needs a summary of the outcome.",
)
def success_objective_update(request: HttpRequest, objective_id: Id, payload: SuccessObjectiveIn) -> Objective:
    user = actor(request)
    objective = selectors.objective_for_user(user, objective_id, write=True)
    services.objective_update(actor=user, objective=objective, changes=payload.changes(), source="api")
    return selectors.objective_for_user(user, objective.pk)


@router.post(
    "/objectives/{objective_id}/tasks",
    response={201: SuccessTaskOut, **error_responses(401, 403, 404, 422)},
    summary="Add a task under an objective",
    description="422 under a closed objective.",
)
def success_task_create(request: HttpRequest, objective_id: Id, payload: SuccessTaskIn) -> Status[PlanTask]:
    user = actor(request)
    objective = selectors.objective_for_user(user, objective_id, write=True)
    task = services.plan_task_create(actor=user, objective=objective, data=payload.changes(), source="api")
    return Status(201, selectors.plan_task_for_user(user, task.pk))


@router.patch(
    "/tasks/{task_id}",
    response={200: SuccessTaskOut, **error_responses(401, 403, 404, 422)},
    summary="Change a task",
)
def success_task_update(request: HttpRequest, task_id: Id, payload: SuccessTaskIn) -> PlanTask:
    user = actor(request)
    task = selectors.plan_task_for_user(user, task_id, write=True)
    services.plan_task_update(actor=user, task=task, changes=payload.changes(), source="api")
    return selectors.plan_task_for_user(user, task.pk)


@router.get(
    "/plans/{plan_id}/reviews",
    response={200: list[SuccessReviewOut], **error_responses(401, 404)},
    summary="A plan's reviews (manager and peer), newest first",
)
def success_review_list(request: HttpRequest, plan_id: Id) -> list[PlanReview]:
    plan = selectors.plan_for_user(actor(request), plan_id)
    return list(plan.reviews.select_related("reviewer").order_by("-requested_at", "-id"))


@router.post(
    "/plans/{plan_id}/reviews",
    response={201: SuccessReviewOut, **error_responses(401, 403, 404, 422)},
    summary="Record a manager review",
    description="The region's TAM Manager and admins.",
)
def success_review_create(request: HttpRequest, plan_id: Id, payload: SuccessReviewIn) -> Status[PlanReview]:
    user = actor(request)
    plan = selectors.plan_for_user(user, plan_id)
    if not policy.can_manager_review_plan(user, plan):
        raise PermissionDenied("Only the region's TAM Manager and admins record a manager review.")
    review = services.plan_review_record(actor=user, plan=plan, data=payload.changes(), source="api")
    return Status(201, selectors.review_for_user(user, review.pk))


@router.post(
    "/plans/{plan_id}/peer-reviews",
    response={201: SuccessReviewOut, **error_responses(401, 403, 404, 422)},
    summary="Ask another TAM for a peer review",
    description="The reviewer gets a task; 422 when they may not read the plan.",
)
def success_peer_review_request(request: HttpRequest, plan_id: Id, payload: SuccessPeerRequestIn) -> Status[PlanReview]:
    user = actor(request)
    plan = selectors.plan_for_user(user, plan_id, write=True)
    review = services.peer_review_request(actor=user, plan=plan, reviewer=payload.reviewer_id, source="api")
    return Status(201, selectors.review_for_user(user, review.pk))


@router.post(
    "/reviews/{review_id}/answer",
    response={200: SuccessReviewOut, **error_responses(401, 403, 404, 422)},
    summary="Answer a requested peer review",
    description="Only the TAM asked.",
)
def success_peer_review_answer(request: HttpRequest, review_id: Id, payload: SuccessReviewIn) -> PlanReview:
    user = actor(request)
    review = selectors.review_for_user(user, review_id)
    services.peer_review_answer(actor=user, review=review, data=payload.changes(), source="api")
    return selectors.review_for_user(user, review.pk)


@router.get(
    "/ebrs",
    response={200: SuccessEbrPage, **error_responses(401, 422)},
    summary="List EBRs",
    description="The EBRs of the accounts you may read, newest first.",
)
def success_ebr_list(request: HttpRequest, params: Query[SuccessEbrQuery]) -> dict[str, Any]:
    qs = Ebr.objects.visible_to(actor(request)).select_related("account").order_by("-held_on", "-id")
    if params.account:
        qs = qs.filter(account_id=params.account)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/ebrs",
    response={201: SuccessEbrOut, **error_responses(401, 403, 404, 422)},
    summary="Record an EBR",
    description="A scheduled or completed EBR has a date; completing one closes the account's EBR task.",
)
def success_ebr_create(request: HttpRequest, payload: SuccessEbrCreateIn) -> Status[Ebr]:
    user = actor(request)
    data = payload.changes()
    account = account_for_user(user, data.pop("account_id"))
    ebr = services.ebr_create(actor=user, account=account, data=data, source="api")
    return Status(201, selectors.ebr_for_user(user, ebr.pk))


@router.patch(
    "/ebrs/{ebr_id}",
    response={200: SuccessEbrOut, **error_responses(401, 403, 404, 422)},
    summary="Change an EBR",
)
def success_ebr_update(request: HttpRequest, ebr_id: Id, payload: SuccessEbrIn) -> Ebr:
    user = actor(request)
    ebr = selectors.ebr_for_user(user, ebr_id, write=True)
    services.ebr_update(actor=user, ebr=ebr, changes=payload.changes(), source="api")
    return selectors.ebr_for_user(user, ebr.pk)


@router.get(
    "/coverage",
    response={200: SuccessCoverageOut, **error_responses(401)},
    summary="Success plan and EBR coverage",
)
def success_coverage(request: HttpRequest) -> dict[str, Any]:
    cov = selectors.coverage(user=actor(request), filters=selectors.PlanFilters())
    return {"total": cov.total, "groups": cov.groups, "ebr_target_pct": cov.ebr_target}
