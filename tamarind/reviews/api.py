"""REST routes of the manager's cockpit under ``/api/v1/reviews/`` (auth and error bodies: ``tamarind.core.api``).

Reviews and 1:1s (with their items and decisions), opening, deciding, adding to the agenda, notes, completing;
the cadences; the TAM Regional Dashboard and the burn-down. The same access policy as the pages: a TAM reads their
own 1:1s only (another TAM's answers 404); every write is audited by the services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import Id, InputSchema, PersonRef, QuerySchema, actor, error_responses
from tamarind.reviews import cockpit, selectors, services
from tamarind.reviews.models import ReviewItem, ReviewOccurrence, ReviewSchedule

router = Router(tags=["Reviews"])


class ReviewsItemOut(Schema):
    """One checklist or agenda item as it stood when the review opened, and its decision."""

    id: int
    section: str
    section_title: str
    origin: str = Field(..., description="`checklist` (live data), `added` (by hand) or `carried` (last 1:1).")
    key: str
    label: str
    account_id: int | None
    account_name: str
    link: str
    facts: dict[str, Any]
    decision: str = Field(..., description="Empty, or `noted`, `task`, `case`, `escalated`, `carried_over`.")
    decision_note: str
    decided_at: dt.datetime | None
    task_id: int | None


class ReviewsSectionOut(Schema):
    key: str
    title: str
    total: int | None = None
    notice: str = ""


class ReviewsReviewOut(Schema):
    """A review occurrence (a 1:1 when `kind` is `one_on_one`, with its TAM as `subject`)."""

    id: int
    kind: str
    region_id: int
    owner: PersonRef | None
    subject: PersonRef | None
    due_on: dt.date
    due_at: dt.datetime
    status: str = Field(..., description="`scheduled`, `open` or `completed`.")
    overdue: bool
    opened_at: dt.datetime | None
    completed_at: dt.datetime | None

    @staticmethod
    def resolve_overdue(obj: ReviewOccurrence) -> bool:
        return obj.is_overdue()


class ReviewsReviewDetailOut(ReviewsReviewOut):
    notes: str
    subject_notes: str
    sections: list[ReviewsSectionOut]
    items: list[ReviewsItemOut]
    attendees: list[PersonRef]

    @staticmethod
    def resolve_items(obj: ReviewOccurrence) -> list[ReviewItem]:
        return list(obj.items.all())

    @staticmethod
    def resolve_attendees(obj: ReviewOccurrence) -> list[Any]:
        return list(obj.attendees.all())


class ReviewsListQuery(QuerySchema):
    status: Literal["due", "overdue", "completed", "all"] = "due"
    kind: str = ""


class ReviewsDecisionIn(InputSchema):
    decision: Literal["noted", "task", "case", "escalated", "carried_over"]
    note: str = Field("", max_length=5000)
    owner_id: Id | None = Field(None, description="Who the task is for (`decision` = `task`).")
    due_on: dt.date | None = None


class ReviewsItemIn(InputSchema):
    label: str = Field(..., min_length=1, max_length=300)


class ReviewsNotesIn(InputSchema):
    notes: str | None = Field(None, max_length=5000, description="The manager's side.")
    subject_notes: str | None = Field(None, max_length=5000, description="The TAM's side of a 1:1.")


class ReviewsScheduleOut(Schema):
    id: int
    region_id: int
    kind: str
    cadence: str = Field(..., description="`weekly`, `twice_monthly` (15th and last day) or `monthly`.")
    owner_id: int | None
    starts_on: dt.date
    meeting_time: dt.time
    time_zone: str
    enabled: bool


class ReviewsSchedulePatchIn(InputSchema):
    cadence: str | None = None
    time_zone: str | None = None
    enabled: bool | None = None
    starts_on: dt.date | None = None


class ReviewsFiltersQuery(QuerySchema):
    region: Id | None = None
    arr_min: Decimal | None = Field(None, ge=0)
    arr_max: Decimal | None = Field(None, ge=0)


class ReviewsTamFiguresOut(Schema):
    tam_id: int
    name: str
    region_id: int
    capacity: Decimal
    accounts: int
    arr: Decimal
    capacity_pct: int
    p1: int
    p1_share_pct: int
    green: int
    yellow: int
    red: int
    unscored: int
    stale: int
    onboarding_open: int
    renew90: int
    p1_no_green_plan: int | None = Field(
        None, description="Priority 1 accounts without a green success plan; null: success plans not installed."
    )
    p1_no_ebr: int | None = Field(None, description="Priority 1 accounts without an EBR in the last 12 months.")
    plan_coverage_pct: int | None = Field(None, description="Priority 1 accounts with a green plan, percent.")
    ebr_coverage_pct: int | None = Field(None, description="Priority 1 accounts with an EBR in 12 months, percent.")
    links: dict[str, str]


class ReviewsQuarterOut(Schema):
    label: str = Field(description="FY27-Q1 (fiscal, once renewals are installed) or Q1 2027 (calendar).")
    count: int = Field(description="Accounts whose next renewal date falls in the quarter.")
    arr: Decimal
    link: str
    at_risk: Decimal | None = Field(None, description="ARR of the quarter's renewals forecast at risk or will churn.")
    expected: Decimal | None = Field(None, description="ARR the quarter's renewals are expected to bring.")
    renewals: int | None = Field(None, description="Renewals dated in the quarter.")
    review_link: str = Field("", description="The quarter on the renewal review page.")


class ReviewsDashboardOut(Schema):
    tams: list[ReviewsTamFiguresOut]
    red_yellow_total: int
    unassigned_renewing_total: int
    quarters: list[ReviewsQuarterOut]
    success_plans_available: bool


class ReviewsBurndownLineOut(Schema):
    key: str
    label: str
    total: int | None = Field(None, description="Null: not available (the success plans app is not installed).")
    last_week: int | None
    delta: int | None
    link: str


def _params(query: ReviewsFiltersQuery) -> dict[str, Any]:
    return {k: v for k, v in query.dict().items() if v is not None}


def _check_scope(context: dict[str, Any]) -> None:
    errors = context["scope"].errors
    if errors:
        raise ValidationFailed({k: [v] for k, v in errors.items()})


def _require_cockpit(request: HttpRequest) -> Any:
    user = actor(request)
    if not policy.can_view_cockpit(user):
        raise PermissionDenied("The cockpit is the TAM teams' and their managers'.")
    return user


@router.get("/", response={200: list[ReviewsReviewOut], **error_responses(401, 403, 422)}, summary="List reviews")
def reviews_list(request: HttpRequest, params: Query[ReviewsListQuery]) -> list[ReviewOccurrence]:
    """Reviews and 1:1s you may read (a TAM: their own 1:1s), due ones by default, at most 200."""
    user = _require_cockpit(request)
    return list(selectors.review_list(user, status=params.status, kind=params.kind))


@router.get(
    "/schedules", response={200: list[ReviewsScheduleOut], **error_responses(401, 422)}, summary="List review cadences"
)
def reviews_schedules(request: HttpRequest) -> list[ReviewSchedule]:
    return selectors.schedule_list(actor(request))


@router.patch(
    "/schedules/{schedule_id}",
    response={200: ReviewsScheduleOut, **error_responses(401, 403, 404, 422)},
    summary="Change a review cadence",
    description="Admins, and the region's TAM Manager for their region. An unknown cadence or time zone is a 422.",
)
def reviews_schedule_update(request: HttpRequest, schedule_id: Id, payload: ReviewsSchedulePatchIn) -> ReviewSchedule:
    user = actor(request)
    schedule = next((s for s in selectors.schedule_list(user) if s.pk == schedule_id), None)
    if schedule is None:
        raise Http404("No such schedule.")
    changes = {k: v for k, v in payload.changes().items() if v is not None}
    return services.review_schedule_update(actor=user, schedule=schedule, changes=changes, source="api")


@router.get(
    "/dashboard",
    response={200: ReviewsDashboardOut, **error_responses(401, 403, 422)},
    summary="The TAM Regional Dashboard",
)
def reviews_dashboard(request: HttpRequest, params: Query[ReviewsFiltersQuery]) -> dict[str, Any]:
    user = _require_cockpit(request)
    context = cockpit.regional_dashboard(user, _params(params), today=timezone.localdate())
    _check_scope(context)
    return {
        "tams": context["tams"],
        "red_yellow_total": context["red_yellow_total"],
        "unassigned_renewing_total": context["unassigned_total"],
        "quarters": context["quarters"],
        "success_plans_available": context["success_installed"],
    }


@router.get(
    "/burndown",
    response={200: list[ReviewsBurndownLineOut], **error_responses(401, 403, 422)},
    summary="The burn-down of exceptions",
)
def reviews_burndown(request: HttpRequest, params: Query[ReviewsFiltersQuery]) -> list[dict[str, Any]]:
    user = _require_cockpit(request)
    context = cockpit.burndown_page(user, _params(params), today=timezone.localdate())
    _check_scope(context)
    return context["lines"]


@router.get(
    "/{review_id}",
    response={200: ReviewsReviewDetailOut, **error_responses(401, 404, 422)},
    summary="Get a review or 1:1",
    description="With its sections, items (as they stood when it opened) and decisions. 404 outside your scope.",
)
def reviews_detail(request: HttpRequest, review_id: Id) -> ReviewOccurrence:
    return selectors.review_with_items(selectors.review_for_user(actor(request), review_id))


@router.post(
    "/{review_id}/open",
    response={200: ReviewsReviewDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Open a review (build its checklist from live data)",
)
def reviews_open(request: HttpRequest, review_id: Id) -> ReviewOccurrence:
    user = actor(request)
    review = selectors.review_for_user(user, review_id, write=True)
    return selectors.review_with_items(services.review_open(actor=user, review=review, source="api"))


@router.post(
    "/{review_id}/items",
    response={201: ReviewsItemOut, **error_responses(401, 403, 404, 422)},
    summary="Add an item to a review or 1:1 agenda",
)
def reviews_item_add(request: HttpRequest, review_id: Id, payload: ReviewsItemIn) -> Status[ReviewItem]:
    user = actor(request)
    review = selectors.review_for_user(user, review_id, agenda=True)
    return Status(201, services.review_item_add(actor=user, review=review, label=payload.label, source="api"))


@router.post(
    "/{review_id}/items/{item_id}/decision",
    response={200: ReviewsItemOut, **error_responses(401, 403, 404, 422)},
    summary="Decide on an item",
    description="`task` needs `owner_id`; `case` and `escalated` need an item about an account.",
)
def reviews_item_decide(request: HttpRequest, review_id: Id, item_id: Id, payload: ReviewsDecisionIn) -> ReviewItem:
    user = actor(request)
    review = selectors.review_for_user(user, review_id, write=True)
    item = selectors.item_for_review(review, item_id)
    return services.review_item_decide(
        actor=user,
        review=review,
        item=item,
        decision=payload.decision,
        note=payload.note,
        owner=payload.owner_id,
        due_on=payload.due_on,
        source="api",
    )


@router.patch(
    "/{review_id}/notes",
    response={200: ReviewsReviewDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Write the notes of a review (each side its own)",
)
def reviews_notes(request: HttpRequest, review_id: Id, payload: ReviewsNotesIn) -> ReviewOccurrence:
    user = actor(request)
    review = selectors.review_for_user(user, review_id, agenda=True)
    services.review_notes_update(
        actor=user, review=review, notes=payload.notes, subject_notes=payload.subject_notes, source="api"
    )
    return selectors.review_with_items(review)


@router.post(
    "/{review_id}/complete",
    response={200: ReviewsReviewDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Complete a review",
    description="422 while an item has no decision (decide, or mark it `carried_over`).",
)
def reviews_complete(request: HttpRequest, review_id: Id) -> ReviewOccurrence:
    user = actor(request)
    review = selectors.review_for_user(user, review_id, write=True)
    return selectors.review_with_items(services.review_complete(actor=user, review=review, source="api"))
