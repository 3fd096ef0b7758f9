"""REST routes of the account timeline under ``/api/v1/timeline/`` (auth and errors: ``tamarind.core.api``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.schemas import Id, InputSchema, PageQuery, PersonRef, actor, error_responses, paginate
from tamarind.timeline import selectors, services
from tamarind.timeline.models import LOGGED_KINDS, TimelineEntry

router = Router(tags=["Timeline"])


class TimelineEntryOut(Schema):
    id: int
    account_id: int
    kind: str = Field(..., description="`call`, `meeting`, `email`, `note`, or `system` for entries Tamarind wrote.")
    occurred_at: dt.datetime
    title: str
    external_attendees: str = Field(..., description="The customer's people who attended, as written.")
    internal_attendees: list[PersonRef]
    notes: str
    author: PersonRef | None = Field(None, description="Who logged it; null for system entries.")
    created_at: dt.datetime

    @staticmethod
    def resolve_internal_attendees(obj: TimelineEntry) -> list[Any]:
        return list(obj.internal_attendees.all())


class TimelineEntryPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[TimelineEntryOut]


Kind = Literal[LOGGED_KINDS]  # type: ignore[valid-type]
Ref = Id


class TimelineEntryIn(InputSchema):
    """A call, meeting, email or note. A call or meeting with `external_attendees` on or after the start of the
    account's open onboarding sets its first engagement when it is the earliest one."""

    kind: Kind
    occurred_at: dt.datetime | dt.date | None = Field(
        None, description="When it happened (default now; a bare date means noon that day). Not in the future."
    )
    title: Annotated[str, Field(max_length=200)] = Field("", description="Defaults to the kind's name.")
    external_attendees: Annotated[str, Field(max_length=2000)] = ""
    internal_attendees: Annotated[list[Ref], Field(max_length=50)] = Field(
        [], description="Ids of the people of ours who attended."
    )
    notes: Annotated[str, Field(max_length=50_000)] = ""


@router.get(
    "/accounts/{account_id}",
    response={200: TimelineEntryPage, **error_responses(401, 404, 422)},
    summary="An account's timeline",
    description="The entries of an account you may read, newest first. 404 outside what you may read.",
)
def timeline_entry_list(request: HttpRequest, account_id: Id, params: Query[PageQuery]) -> dict[str, Any]:
    account = account_for_user(actor(request), account_id)
    return paginate(selectors.timeline_entries(account=account), page=params.page, page_size=params.page_size)


@router.post(
    "/accounts/{account_id}",
    response={201: TimelineEntryOut, **error_responses(401, 403, 404, 422)},
    summary="Log a timeline entry",
    description=(
        "The account's TAM, SAL/AE and SA, its region's manager and admins log entries; others who read the "
        "account get 403."
    ),
)
def timeline_entry_create(request: HttpRequest, account_id: Id, payload: TimelineEntryIn) -> Status[TimelineEntry]:
    user = actor(request)
    account = account_for_user(user, account_id)
    if not policy.can_log_timeline(user, account):
        raise PermissionDenied("Only the account's team, its region's manager and admins log timeline entries.")
    entry = services.timeline_entry_create(actor=user, account=account, data=payload.changes(), source="api")
    return Status(201, entry)
