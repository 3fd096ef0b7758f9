"""REST routes of the Service Desk under ``/api/v1/servicedesk/``: pools and their TAMs' availability, the queue
of requests (filtered, paginated) with each request's thread, entering a request, replying (emailed to the
requester), changing the status or reassigning, kept-aside email matched to an account, an account's request link
(created, revoked) and the queue's metrics. Auth and error bodies: ``tamarind.core.api``; access: ``tamarind.policy``
through the selectors' gated fetches, exactly as the web pages (outsiders 404, read-only 403). Every write goes
through ``servicedesk.services`` and is audited with source ``api``. The customer's request link stays web-only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.accounts.selectors import account_for_user
from tamarind.core.schemas import (
    AccountRef,
    Id,
    InputSchema,
    PageQuery,
    PersonRef,
    actor,
    error_responses,
    paginate,
)
from tamarind.people.models import User
from tamarind.people.selectors import person_for_user
from tamarind.servicedesk import selectors, services
from tamarind.servicedesk.models import (
    Channel,
    InboundEmail,
    Pool,
    PoolMember,
    RequestLink,
    RequestMessage,
    RequestStatus,
    ServiceRequest,
)

router = Router(tags=["Service Desk"])


# --- Output ------------------------------------------------------------------------------------------------------


class ServiceDeskMemberOut(Schema):
    tam: PersonRef
    available: bool = Field(..., description="Off: kept out of the round robin until switched on again.")
    away_until: dt.date | None = Field(..., description="Out of office up to and including this day.")
    available_today: bool = Field(..., description="In the round robin today (available and not away).")
    last_assigned_at: dt.datetime | None

    @staticmethod
    def resolve_available_today(obj: PoolMember) -> bool:
        return obj.is_available(timezone.localdate())


class ServiceDeskPoolRef(Schema):
    id: int
    name: str


class ServiceDeskPoolOut(Schema):
    """A pool: the accounts of its engagement model meeting its criteria, answered by its TAMs."""

    id: int
    name: str
    manager: PersonRef | None = Field(..., description="Told of overdue requests.")
    engagement_model: str
    criteria: dict[str, Any] = Field(..., description="Written like the engagement models' criteria (all hold).")
    precedence: int | None = Field(..., description="Settles which of two overlapping pools serves (lower wins).")
    first_response_hours: int
    email_address: str
    is_active: bool
    members: list[ServiceDeskMemberOut]

    @staticmethod
    def resolve_members(obj: Pool) -> list[PoolMember]:
        return list(obj.members.all())


class ServiceDeskMessageOut(Schema):
    """One message of a thread: from the customer (`author` null) or a TAM (emailed to the requester)."""

    id: int
    author: PersonRef | None
    from_email: str
    body: str = Field(..., description="Plain text.")
    truncated: bool = Field(..., description="Cut to the display limit; the whole email is kept.")
    created_at: dt.datetime


class ServiceDeskRequestOut(Schema):
    id: int
    reference: str = Field(..., description="`SR-<id>`, as in the emails' subjects.")
    pool: ServiceDeskPoolRef
    account: AccountRef
    requester_email: str
    requester_name: str
    subject: str
    channel: str = Field(..., description="`link`, `email`, `api` or `tam`.")
    status: str = Field(..., description="`new`, `in_progress`, `waiting` or `closed`.")
    assignee: PersonRef | None
    created_at: dt.datetime
    first_response_due_at: dt.datetime
    first_responded_at: dt.datetime | None
    overdue: bool = Field(..., description="No first response yet and past its due time (never when closed).")
    closed_at: dt.datetime | None
    satisfaction: int | None = Field(..., description="The customer's rating (1-5) once closed.")
    satisfaction_comment: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_overdue(obj: ServiceRequest) -> bool:
        return obj.is_overdue(timezone.now())


class ServiceDeskRequestDetailOut(ServiceDeskRequestOut):
    can_work: bool = Field(..., description="You may reply, change the status or reassign.")
    thread: list[ServiceDeskMessageOut]


class ServiceDeskRequestPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ServiceDeskRequestOut]


class ServiceDeskInboundOut(Schema):
    """An email from an unknown sender, kept aside (never answered) for an admin to match to an account."""

    id: int
    from_email: str
    subject: str
    body: str = Field(..., description="Its plain text.")
    status: str = Field(..., description="`matched`, `unmatched` or `dismissed`.")
    received_at: dt.datetime


class ServiceDeskInboundPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ServiceDeskInboundOut]


class ServiceDeskLinkOut(Schema):
    """An account's live request link; its token is shown only once, when created."""

    created_at: dt.datetime
    created_by: PersonRef | None


class ServiceDeskAccountOut(Schema):
    account: AccountRef
    pool: ServiceDeskPoolRef | None = Field(..., description="The pool serving it; null: none (no requests then).")
    live_link: ServiceDeskLinkOut | None


class ServiceDeskNewLinkOut(Schema):
    url: str = Field(..., description="The customer's page: no sign-in, only this account's name and requests.")
    token: str = Field(..., description="Shown this once; stored only as its hash.")
    created_at: dt.datetime


class ServiceDeskRevokedOut(Schema):
    revoked: int = Field(..., description="Live links revoked (0 or 1); a revoked link answers 404.")


class ServiceDeskMetricsOut(Schema):
    """Over the requests you may read."""

    requests: int
    answered: int = Field(..., description="With a first response.")
    within: int = Field(..., description="First response within the pool's hours (48 by default).")
    share_within: float | None = Field(..., description="`within` / `answered`; null when none answered.")
    mean_first_response_hours: float | None
    customers: int = Field(..., description="Accounts with requests.")
    per_customer: float | None = Field(..., description="Requests per customer.")
    rated: int
    mean_satisfaction: float | None = Field(..., description="The mean rating (1-5) of rated requests.")


# --- Input -------------------------------------------------------------------------------------------------------

Text = Annotated[str, Field(max_length=services.BODY_LIMIT * 2)]


class ServiceDeskRequestListQuery(PageQuery):
    pool: Id | None = Field(None, description="A pool id.")
    status: RequestStatus | None = None
    assignee: Id | None = Field(None, description="The assigned TAM's id.")
    account: Id | None = Field(None, description="An account id.")
    overdue: bool = Field(False, description="Only requests past their first-response time without an answer.")


class ServiceDeskRequestCreateIn(InputSchema):
    """A pool TAM (or its manager, or an admin) enters a request for a pooled account (channel `api`); it is
    assigned round robin and due a first response within the pool's hours."""

    account_id: Id
    subject: Annotated[str, Field(max_length=1000)]
    body: Text
    requester_email: Annotated[str, Field(max_length=254)] = ""
    requester_name: Annotated[str, Field(max_length=150)] = ""


class ServiceDeskReplyIn(InputSchema):
    body: Text


class ServiceDeskRequestPatchIn(InputSchema):
    """Only the fields sent change. Closing stamps `closed_at` (the customer may then rate it on their link);
    reopening clears the rating. The assignee must be a TAM of the request's pool."""

    status: RequestStatus = None  # type: ignore[assignment]
    assignee_id: Id = None  # type: ignore[assignment]


class ServiceDeskMemberIn(InputSchema):
    available: bool = True
    away_until: dt.date | None = Field(None, description="Out of office up to and including this day.")


Hours = Annotated[int, Field(ge=1, le=720)]
Precedence = Annotated[int, Field(ge=0, le=32767)]


class ServiceDeskPoolCreateIn(InputSchema):
    """A new pool (admins). `criteria` are written like the engagement models' (`{"match": "all", "conditions":
    [...]}` over `arr`, `segment`, `tier`, `priority`, `region`; empty: every account of the model); criteria that
    overlap another active pool's of the same model need distinct precedences (422 otherwise). A manager who leads a
    region limits the pool's TAMs to that region."""

    name: Annotated[str, Field(max_length=120)]
    engagement_model: Annotated[str, Field(max_length=40)] = "pooled"
    manager_id: Id | None = None
    criteria: dict[str, Any] | None = None
    precedence: Precedence | None = None
    first_response_hours: Hours = 48
    email_address: Annotated[str, Field(max_length=254)] = ""
    is_active: bool = True


class ServiceDeskPoolPatchIn(InputSchema):
    """Only the fields sent change. Admins and the pool's manager; `manager_id` and `is_active` (deactivating:
    it serves no account from then on, its requests and TAMs are kept) are for admins only (403)."""

    name: Annotated[str, Field(max_length=120)] = None  # type: ignore[assignment]
    engagement_model: Annotated[str, Field(max_length=40)] = None  # type: ignore[assignment]
    manager_id: Id | None = None
    criteria: dict[str, Any] | None = None
    precedence: Precedence | None = None
    first_response_hours: Hours = None  # type: ignore[assignment]
    email_address: Annotated[str, Field(max_length=254)] = None  # type: ignore[assignment]
    is_active: bool = None  # type: ignore[assignment]


class ServiceDeskPoolMemberIn(InputSchema):
    """A TAM to add to the pool: active, of the pool's manager's region, not in it yet."""

    tam_id: Id
    available: bool = True
    away_until: dt.date | None = Field(None, description="Out of office up to and including this day.")


class ServiceDeskMatchIn(InputSchema):
    account_id: Id


# --- Routes ------------------------------------------------------------------------------------------------------


def _desk_user(request: HttpRequest) -> User:
    user = actor(request)
    if not policy.can_view_servicedesk(user):
        raise PermissionDenied("The Service Desk is for TAMs, managers, directors and admins.")
    return user


def _detail(user: User, request_id: int) -> ServiceRequest:
    req = selectors.request_for_user(user, request_id)
    req.thread = selectors.thread(req)  # type: ignore[attr-defined]
    req.can_work = policy.can_work_request(user, req)  # type: ignore[attr-defined]
    return req


def _desk_account(user: User, account_id: int) -> Account:
    """The account's desk, as the web's: 404 when unreadable, 403 unless one of its pool's people or an admin."""
    account = account_for_user(user, account_id)
    if not policy.can_enter_request(user, account):
        raise PermissionDenied("Only the TAMs and manager of this account's pool work its requests.")
    return account


@router.get(
    "/pools",
    response={200: list[ServiceDeskPoolOut], **error_responses(401, 403)},
    summary="List Service Desk pools",
    description="Each with its TAMs and their availability. For TAMs, managers, directors and admins.",
)
def servicedesk_pool_list(request: HttpRequest) -> list[Pool]:
    _desk_user(request)
    return list(selectors.pools())


@router.get(
    "/pools/{pool_id}",
    response={200: ServiceDeskPoolOut, **error_responses(401, 403, 404, 422)},
    summary="Get a Service Desk pool",
)
def servicedesk_pool_detail(request: HttpRequest, pool_id: Id) -> Pool:
    return selectors.pool_for_user(actor(request), pool_id)


@router.post(
    "/pools",
    response={201: ServiceDeskPoolOut, **error_responses(401, 403, 422)},
    summary="Create a Service Desk pool",
    description="Admins only. 422 for criteria that do not parse or overlap another active pool's of the same model "
    "without distinct precedences, an unknown engagement model or manager, or a name in use.",
)
def servicedesk_pool_create(request: HttpRequest, payload: ServiceDeskPoolCreateIn) -> Status[Pool]:
    user = _desk_user(request)
    pool = services.pool_create(actor=user, data=payload.model_dump(), source="api")
    return Status(201, selectors.pool_for_user(user, pool.pk))


@router.patch(
    "/pools/{pool_id}",
    response={200: ServiceDeskPoolOut, **error_responses(401, 403, 404, 422)},
    summary="Change a Service Desk pool",
    description="Admins and the pool's manager (other desk users 403); naming its manager or deactivating it "
    "(`is_active` false): admins only. A new manager must lead the region of the pool's TAMs (422 otherwise).",
)
def servicedesk_pool_update(request: HttpRequest, pool_id: Id, payload: ServiceDeskPoolPatchIn) -> Pool:
    user = _desk_user(request)
    pool = selectors.pool_for_user(user, pool_id)
    services.pool_update(actor=user, pool=pool, changes=payload.changes(), source="api")
    return selectors.pool_for_user(user, pool_id)


@router.post(
    "/pools/{pool_id}/members",
    response={201: ServiceDeskMemberOut, **error_responses(401, 403, 404, 422)},
    summary="Add a TAM to a pool",
    description="Admins and the pool's manager. 422 when the person is not an active TAM, is of another region than "
    "the pool's manager's, is already in the pool, or does not exist.",
)
def servicedesk_pool_member_add(
    request: HttpRequest, pool_id: Id, payload: ServiceDeskPoolMemberIn
) -> Status[PoolMember]:
    user = _desk_user(request)
    pool = selectors.pool_for_user(user, pool_id, write=True)
    tam = selectors.pool_member_candidate(payload.tam_id)
    member = services.pool_member_add(
        actor=user, pool=pool, tam=tam, available=payload.available, away_until=payload.away_until, source="api"
    )
    return Status(201, member)


@router.delete(
    "/pools/{pool_id}/members/{person_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    summary="Take a TAM out of a pool",
    description="Admins and the pool's manager. 422 while the TAM holds open requests of the pool (reassign them "
    "first) or is not in it.",
)
def servicedesk_pool_member_remove(request: HttpRequest, pool_id: Id, person_id: Id) -> Status[None]:
    user = _desk_user(request)
    pool = selectors.pool_for_user(user, pool_id, write=True)
    tam = selectors.pool_member_candidate(person_id)
    services.pool_member_remove(actor=user, pool=pool, tam=tam, source="api")
    return Status(204, None)


@router.put(
    "/pools/{pool_id}/members/{person_id}",
    response={200: ServiceDeskMemberOut, **error_responses(401, 403, 404, 422)},
    summary="Set a pool TAM's availability",
    description="A TAM sets their own; the pool's manager or an admin anyone's (adding the TAM to the pool if "
    "needed). `available` false, or `away_until` on or after today, keeps them out of the round robin.",
)
def servicedesk_member_set(
    request: HttpRequest, pool_id: Id, person_id: Id, payload: ServiceDeskMemberIn
) -> PoolMember:
    user = actor(request)
    pool = selectors.pool_for_user(user, pool_id)
    tam = person_for_user(user, person_id)
    return services.pool_member_set(
        actor=user, pool=pool, tam=tam, available=payload.available, away_until=payload.away_until, source="api"
    )


@router.get(
    "/requests",
    response={200: ServiceDeskRequestPage, **error_responses(401, 403, 422)},
    summary="List Service Desk requests",
    description="The requests you may read (your pools'; directors and admins: all): open ones first by due time, "
    "then closed, newest first.",
)
def servicedesk_request_list(request: HttpRequest, params: Query[ServiceDeskRequestListQuery]) -> dict[str, Any]:
    user = _desk_user(request)
    qs = selectors.queue_queryset(
        user=user,
        status=params.status.value if params.status else "",
        overdue_only=params.overdue,
        now=timezone.now(),
        pool_id=params.pool,
        assignee_id=params.assignee,
        account_id=params.account,
    )
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/requests",
    response={201: ServiceDeskRequestDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Enter a request for a pooled account",
    description="404 when the account is outside what you may read; 403 unless you are one of its pool's TAMs, "
    "its manager or an admin; 422 when it is in no pool.",
)
def servicedesk_request_create(request: HttpRequest, payload: ServiceDeskRequestCreateIn) -> Status[ServiceRequest]:
    user = _desk_user(request)
    account = account_for_user(user, payload.account_id)
    req = services.request_create(
        actor=user,
        account=account,
        subject=payload.subject,
        body=payload.body,
        channel=Channel.API,
        requester_email=payload.requester_email,
        requester_name=payload.requester_name,
        source="api",
    )
    return Status(201, _detail(user, req.pk))


@router.get(
    "/requests/{request_id}",
    response={200: ServiceDeskRequestDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Get a Service Desk request with its thread",
    description="404 when it is not one of your pools' requests.",
)
def servicedesk_request_detail(request: HttpRequest, request_id: Id) -> ServiceRequest:
    return _detail(_desk_user(request), request_id)


@router.patch(
    "/requests/{request_id}",
    response={200: ServiceDeskRequestDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Change a request's status or reassign it",
    description="Its pool's TAMs and manager, and admins; directors read only (403). Close it with `status` `closed`.",
)
def servicedesk_request_update(
    request: HttpRequest, request_id: Id, payload: ServiceDeskRequestPatchIn
) -> ServiceRequest:
    user = _desk_user(request)
    req = selectors.request_for_user(user, request_id, write=True)
    services.request_update(actor=user, request=req, changes=payload.changes(), source="api")
    return _detail(user, request_id)


@router.post(
    "/requests/{request_id}/reply",
    response={201: ServiceDeskMessageOut, **error_responses(401, 403, 404, 422)},
    summary="Reply to a request",
    description="The reply joins the thread and is emailed to the requester; the first reply stops the "
    "first-response clock. 422 when the request is closed.",
)
def servicedesk_request_reply(
    request: HttpRequest, request_id: Id, payload: ServiceDeskReplyIn
) -> Status[RequestMessage]:
    user = _desk_user(request)
    req = selectors.request_for_user(user, request_id, write=True)
    return Status(201, services.request_reply(actor=user, request=req, body=payload.body, source="api"))


@router.get(
    "/metrics",
    response={200: ServiceDeskMetricsOut, **error_responses(401, 403)},
    summary="The queue's metrics",
    description="First-response time, the share answered within the pool's hours, requests per customer and "
    "satisfaction, over the requests you may read.",
)
def servicedesk_metrics(request: HttpRequest) -> dict[str, Any]:
    m = selectors.metrics(user=_desk_user(request))
    return {**vars(m), "share_within": m.share_within, "per_customer": m.per_customer}


@router.get(
    "/inbound",
    response={200: ServiceDeskInboundPage, **error_responses(401, 403, 422)},
    summary="List kept-aside email",
    description="Email from unknown senders, newest first. Admins only.",
)
def servicedesk_inbound_list(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    if not policy.can_manage_pools(actor(request)):
        raise PermissionDenied("Admins match kept-aside email.")
    return paginate(selectors.unmatched_queryset(), page=params.page, page_size=params.page_size)


@router.post(
    "/inbound/{inbound_id}/match",
    response={201: ServiceDeskRequestDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Match a kept-aside email to a pooled account",
    description="Admins only. The sender becomes the account's contact and the email opens a request; 422 when "
    "the email is already handled, the account is in no pool or the sender is another account's contact.",
)
def servicedesk_inbound_match(request: HttpRequest, inbound_id: Id, payload: ServiceDeskMatchIn) -> Status[Any]:
    user = actor(request)
    inbound: InboundEmail = selectors.inbound_for_user(user, inbound_id)
    account = account_for_user(user, payload.account_id)
    req = services.inbound_email_match(actor=user, inbound=inbound, account=account, source="api")
    return Status(201, _detail(user, req.pk))


@router.get(
    "/accounts/{account_id}",
    response={200: ServiceDeskAccountOut, **error_responses(401, 403, 404, 422)},
    summary="A pooled account's desk: its pool and live request link",
    description="404 when the account is outside what you may read; 403 unless one of its pool's TAMs, its "
    "manager or an admin.",
)
def servicedesk_account_detail(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    account = _desk_account(_desk_user(request), account_id)
    return {
        "account": account,
        "pool": services.pool_for_account(account),
        "live_link": selectors.live_link(account.pk),
    }


@router.post(
    "/accounts/{account_id}/link",
    response={201: ServiceDeskNewLinkOut, **error_responses(401, 403, 404, 422)},
    summary="Create an account's request link",
    description="Revokes the live one, if any. The token is in this answer only. 422 when the account is in no pool.",
)
def servicedesk_link_create(request: HttpRequest, account_id: Id) -> Status[dict[str, Any]]:
    user = _desk_user(request)
    account = _desk_account(user, account_id)
    link: RequestLink
    link, raw = services.request_link_create(actor=user, account=account, source="api")
    url = request.build_absolute_uri(reverse("desk:link", args=[raw]))
    return Status(201, {"url": url, "token": raw, "created_at": link.created_at})


@router.delete(
    "/accounts/{account_id}/link",
    response={200: ServiceDeskRevokedOut, **error_responses(401, 403, 404, 422)},
    summary="Revoke an account's request link",
    description="The link answers 404 from then on.",
)
def servicedesk_link_revoke(request: HttpRequest, account_id: Id) -> dict[str, int]:
    user = _desk_user(request)
    account = _desk_account(user, account_id)
    return {"revoked": services.request_link_revoke(actor=user, account=account, source="api")}
