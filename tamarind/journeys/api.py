"""REST routes of the digital journey under ``/api/v1/journeys/`` (auth and error bodies: ``tamarind.core.api``).

The same access as the pages: programs and steps are read by TAMs, managers, directors and admins (SAL/AE and SA:
403) and written by admins and managers (others 403); an account's sends and events follow the account's read
scope (out of scope: 404). Every write goes through an audited service; a template with an unknown merge field is
a 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind.accounts.selectors import account_for_user
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, actor, error_responses, money, paginate
from tamarind.journeys import selectors, services
from tamarind.journeys.models import Event, Program, Send, Step

router = Router(tags=["Digital journey"])

Money = Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), max_digits=14, decimal_places=2)]
Key = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_-]+$")]


class JourneyStepOut(Schema):
    id: int
    program_id: int
    name: str
    kind: str = Field(
        ...,
        description=(
            "`email`, `nps`, `csat` (a survey step invites to that survey) or `webinar` (invites to each upcoming "
            "webinar session the account is net-new for, from `day` on)."
        ),
    )
    day: int = Field(..., description="Days since the customer started (`customer_since`).")
    repeat_days: int | None = Field(None, description="Repeats every so many days after `day` (empty: once).")
    repeat_months: int | None = Field(
        None,
        description="Repeats every so many calendar months after `day`'s date, clamped at month ends (empty: once; "
        "never with `repeat_days`).",
    )
    subject: str
    body: str
    position: int


class JourneyProgramOut(Schema):
    """A program: who it is for (engagement models and/or an ARR band), whom it writes to (personas), its steps."""

    id: int
    key: str
    name: str
    description: str
    status: str = Field(..., description="`active` or `paused` (a paused program sends nothing).")
    engagement_models: list[str]
    min_arr: str | None
    max_arr: str | None
    personas: list[str]
    track: bool = Field(..., description="Whether opens (tracking image) and clicks (redirect links) are recorded.")
    steps: list[JourneyStepOut]

    @staticmethod
    def resolve_min_arr(obj: Program) -> str | None:
        return money(obj.min_arr)

    @staticmethod
    def resolve_max_arr(obj: Program) -> str | None:
        return money(obj.max_arr)

    @staticmethod
    def resolve_personas(obj: Program) -> list[str]:
        return [p.key for p in obj.personas.all()]

    @staticmethod
    def resolve_steps(obj: Program) -> list[Step]:
        return list(obj.steps.all())


class JourneyProgramIn(InputSchema):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=5000)] = ""
    status: Literal["active", "paused"] = "active"
    engagement_models: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []
    min_arr: Money | None = None
    max_arr: Money | None = None
    personas: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []
    track: bool = True


class JourneyProgramPatch(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    status: Literal["active", "paused"] | None = None
    engagement_models: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] | None = None
    min_arr: Money | None = None
    max_arr: Money | None = None
    personas: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] | None = None
    track: bool | None = None


class JourneyStepIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    kind: Literal["email", "nps", "csat", "webinar"] = "email"
    day: Annotated[int, Field(ge=0, le=3650)]
    repeat_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    repeat_months: Annotated[int, Field(ge=1, le=120)] | None = None
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=20_000)]
    position: Annotated[int, Field(ge=0, le=1000)] = 0


class JourneyStepPatch(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    kind: Literal["email", "nps", "csat", "webinar"] | None = None
    day: Annotated[int, Field(ge=0, le=3650)] | None = None
    repeat_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    repeat_months: Annotated[int, Field(ge=1, le=120)] | None = None
    subject: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=20_000)] | None = None
    position: Annotated[int, Field(ge=0, le=1000)] | None = None


class JourneySendOut(Schema):
    """One step's email to one contact (`occurrence` counts a recurring step's repeats)."""

    id: int
    program_id: int
    step_id: int
    step_name: str
    contact_id: int
    contact_name: str
    occurrence: int
    due_on: dt.date
    status: str = Field(..., description="`queued`, `sent`, `bounced` or `failed`.")
    attempts: int
    last_error: str
    sent_at: dt.datetime | None
    opened_at: dt.datetime | None
    first_clicked_at: dt.datetime | None

    @staticmethod
    def resolve_program_id(obj: Send) -> int:
        return obj.step.program_id

    @staticmethod
    def resolve_step_name(obj: Send) -> str:
        return obj.step.name

    @staticmethod
    def resolve_contact_name(obj: Send) -> str:
        return obj.contact.name


class JourneySendPage(Schema):
    account: AccountRef
    count: int
    page: int
    page_size: int
    results: list[JourneySendOut]


class JourneyEventOut(Schema):
    id: int
    send_id: int
    step_name: str
    contact_id: int
    kind: str = Field(..., description="`open`, `click`, `unsubscribe`, `bounce` or `register` (for a webinar).")
    at: dt.datetime
    url: str = Field(..., description="For clicks: the link followed.")

    @staticmethod
    def resolve_step_name(obj: Event) -> str:
        return obj.send.step.name

    @staticmethod
    def resolve_contact_id(obj: Event) -> int:
        return obj.send.contact_id


class JourneyEventPage(Schema):
    account: AccountRef
    count: int
    page: int
    page_size: int
    results: list[JourneyEventOut]


class JourneyListQuery(PageQuery):
    pass


def _program(request: HttpRequest, program_id: int, *, write: bool = False) -> Program:
    return selectors.program_for_user(actor(request), program_id, write=write)


@router.get(
    "/programs",
    response={200: list[JourneyProgramOut], **error_responses(401, 403)},
    summary="List digital journey programs",
)
def journey_program_list(request: HttpRequest) -> list[Program]:
    return selectors.programs(actor(request))


@router.post(
    "/programs",
    response={201: JourneyProgramOut, **error_responses(401, 403, 422)},
    summary="Create a program",
    description="Admins and managers. Add its steps with `POST /programs/{id}/steps`.",
)
def journey_program_create(request: HttpRequest, payload: JourneyProgramIn) -> Status[Any]:
    user = actor(request)
    selectors.require_edit(user)
    program = services.program_create(actor=user, data=payload.changes() | {"key": payload.key}, source="api")
    return Status(201, _program(request, program.pk))


@router.get(
    "/programs/{program_id}",
    response={200: JourneyProgramOut, **error_responses(401, 403, 404, 422)},
    summary="Get a program with its steps",
)
def journey_program_detail(request: HttpRequest, program_id: Id) -> Program:
    return _program(request, program_id)


@router.patch(
    "/programs/{program_id}",
    response={200: JourneyProgramOut, **error_responses(401, 403, 404, 422)},
    summary="Update a program",
    description="Only the fields sent change; `personas` replaces the set.",
)
def journey_program_update(request: HttpRequest, program_id: Id, payload: JourneyProgramPatch) -> Program:
    program = _program(request, program_id, write=True)
    services.program_update(actor=actor(request), program=program, data=payload.changes(), source="api")
    return _program(request, program_id)


@router.post(
    "/programs/{program_id}/pause",
    response={200: JourneyProgramOut, **error_responses(401, 403, 404, 422)},
    summary="Pause a program (nothing is queued or delivered while paused)",
)
def journey_program_pause(request: HttpRequest, program_id: Id) -> Program:
    program = _program(request, program_id, write=True)
    services.program_set_status(actor=actor(request), program=program, status="paused", source="api")
    return _program(request, program_id)


@router.post(
    "/programs/{program_id}/resume",
    response={200: JourneyProgramOut, **error_responses(401, 403, 404, 422)},
    summary="Resume a paused program",
)
def journey_program_resume(request: HttpRequest, program_id: Id) -> Program:
    program = _program(request, program_id, write=True)
    services.program_set_status(actor=actor(request), program=program, status="active", source="api")
    return _program(request, program_id)


@router.get(
    "/programs/{program_id}/steps",
    response={200: list[JourneyStepOut], **error_responses(401, 403, 404, 422)},
    summary="List a program's steps",
)
def journey_step_list(request: HttpRequest, program_id: Id) -> list[Step]:
    return list(_program(request, program_id).steps.order_by("day", "position", "pk"))


@router.post(
    "/programs/{program_id}/steps",
    response={201: JourneyStepOut, **error_responses(401, 403, 404, 422)},
    summary="Add a step",
    description="A template naming an unknown merge field is refused (422 naming the field) and nothing is saved.",
)
def journey_step_create(request: HttpRequest, program_id: Id, payload: JourneyStepIn) -> Status[Any]:
    program = _program(request, program_id, write=True)
    step = services.step_create(actor=actor(request), program=program, data=payload.changes(), source="api")
    return Status(201, step)


@router.get(
    "/steps/{step_id}",
    response={200: JourneyStepOut, **error_responses(401, 403, 404, 422)},
    summary="Get a step",
)
def journey_step_detail(request: HttpRequest, step_id: Id) -> Step:
    return selectors.step_for_user(actor(request), step_id)


@router.patch(
    "/steps/{step_id}",
    response={200: JourneyStepOut, **error_responses(401, 403, 404, 422)},
    summary="Update a step",
    description="A template naming an unknown merge field is refused (422 naming the field) and nothing is saved.",
)
def journey_step_update(request: HttpRequest, step_id: Id, payload: JourneyStepPatch) -> Step:
    step = selectors.step_for_user(actor(request), step_id, write=True)
    return services.step_update(actor=actor(request), step=step, data=payload.changes(), source="api")


@router.delete(
    "/steps/{step_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    summary="Remove a step",
    description="With its sends (queued ones are never delivered). Admins and managers; audited.",
)
def journey_step_delete(request: HttpRequest, step_id: Id) -> Status[None]:
    user = actor(request)
    step = selectors.step_for_user(user, step_id, write=True)
    services.step_delete(actor=user, step=step, source="api")
    return Status(204, None)


@router.get(
    "/accounts/{account_id}/sends",
    response={200: JourneySendPage, **error_responses(401, 404, 422)},
    summary="An account's journey emails",
    description="Newest first; whoever reads the account.",
)
def journey_account_sends(request: HttpRequest, account_id: Id, params: Query[JourneyListQuery]) -> dict[str, Any]:
    account = account_for_user(actor(request), account_id)
    page = paginate(selectors.account_sends(account), page=params.page, page_size=params.page_size)
    return {"account": account, **page}


@router.get(
    "/accounts/{account_id}/events",
    response={200: JourneyEventPage, **error_responses(401, 404, 422)},
    summary="An account's journey events (opens, clicks, unsubscribes, bounces)",
    description="Newest first; whoever reads the account.",
)
def journey_account_events(request: HttpRequest, account_id: Id, params: Query[JourneyListQuery]) -> dict[str, Any]:
    account = account_for_user(actor(request), account_id)
    page = paginate(selectors.account_events(account), page=params.page, page_size=params.page_size)
    return {"account": account, **page}
