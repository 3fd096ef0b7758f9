"""Reading the Service Desk: the queue (scoped by the policy), one request (the gated fetch), the request link's
account (by token), kept-aside email and the metrics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.http import Http404

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.people.models import Role, User
from tamarind.servicedesk.models import (
    InboundEmail,
    InboundStatus,
    Pool,
    PoolMember,
    RequestLink,
    RequestMessage,
    RequestStatus,
    ServiceRequest,
)
from tamarind.servicedesk.services import token_hash


def _member_ids(requests: list[ServiceRequest]) -> None:
    """Give each request its pool's member ids (for ``policy.can_work_request``) from one query."""
    pools = {r.pool_id for r in requests}
    ids: dict[int, set[int]] = {p: set() for p in pools}
    for pool_id, tam_id in PoolMember.objects.filter(pool_id__in=pools).values_list("pool_id", "tam_id"):
        ids[pool_id].add(tam_id)
    for r in requests:
        r.pool_member_ids = ids[r.pool_id]  # type: ignore[attr-defined]


def queue_queryset(
    *,
    user: User,
    status: str = "",
    overdue_only: bool = False,
    now: dt.datetime,
    pool_id: int | None = None,
    assignee_id: int | None = None,
    account_id: int | None = None,
) -> QuerySet[ServiceRequest]:
    """The requests ``user`` may read, filtered: open ones first by due time, then closed, newest first."""
    qs = ServiceRequest.objects.select_related("pool", "account", "assignee")
    scope = policy.servicedesk_request_scope(user)
    if scope is not None:
        qs = qs.filter(pk__in=ServiceRequest.objects.filter(scope).values("pk"))
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(first_responded_at__isnull=True, first_response_due_at__lt=now).exclude(
            status=RequestStatus.CLOSED
        )
    if pool_id is not None:
        qs = qs.filter(pool_id=pool_id)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return qs.order_by(F("closed_at").desc(nulls_first=True), "first_response_due_at", "-id")


def mark_overdue(requests: list[ServiceRequest], now: dt.datetime) -> list[ServiceRequest]:
    for r in requests:
        r.overdue = r.is_overdue(now)  # type: ignore[attr-defined]
    return requests


def queue(
    *, user: User, status: str = "", overdue_only: bool = False, now: dt.datetime, limit: int = 500
) -> list[ServiceRequest]:
    """The requests ``user`` may read: open ones first by due time, then closed, newest first."""
    qs = queue_queryset(user=user, status=status, overdue_only=overdue_only, now=now)
    return mark_overdue(list(qs[:limit]), now)


def request_for_user(user: User, request_id: int | str, *, write: bool = False) -> ServiceRequest:
    """The one permission-gated fetch: 404 out of scope, 403 when ``write`` and read-only (a director)."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise Http404("No such request.") from None
    qs = ServiceRequest.objects.select_related("pool", "pool__manager", "account", "assignee").filter(pk=pk)
    scope = policy.servicedesk_request_scope(user)
    if scope is not None:
        qs = qs.filter(pk__in=ServiceRequest.objects.filter(scope).values("pk"))
    req = qs.first()
    if req is None:
        raise Http404("No such request.")
    _member_ids([req])
    if write and not policy.can_work_request(user, req):
        raise PermissionDenied("You may read this request but not change it.")
    return req


def thread(req: ServiceRequest) -> list[RequestMessage]:
    return list(req.messages.select_related("author").order_by("created_at", "id"))


def pool_members(pool_id: int) -> list[PoolMember]:
    return list(PoolMember.objects.filter(pool_id=pool_id).select_related("tam").order_by("tam__full_name"))


def link_account(raw_token: str) -> RequestLink:
    """The live link of a token, with its account; 404 for an unknown or revoked token (nothing else said)."""
    if not raw_token or len(raw_token) > 200:
        raise Http404("No such link.")
    link = RequestLink.objects.select_related("account").filter(token_hash=token_hash(raw_token)).first()
    if link is None or link.revoked_at is not None:
        raise Http404("No such link.")
    return link


def link_requests(link: RequestLink) -> list[ServiceRequest]:
    """The account's requests with their threads, newest first (the link shows only these)."""
    return list(
        ServiceRequest.objects.filter(account_id=link.account_id)
        .prefetch_related(Prefetch("messages", queryset=RequestMessage.objects.select_related("author")))
        .order_by("-created_at", "-id")[:50]
    )


def live_link(account_id: int) -> RequestLink | None:
    """The account's live request link (its token is never shown again), or None."""
    return (
        RequestLink.objects.select_related("created_by").filter(account_id=account_id, revoked_at__isnull=True).first()
    )


def pools() -> QuerySet[Pool]:
    return Pool.objects.select_related("manager", "manager__managed_region").prefetch_related(
        Prefetch("members", queryset=PoolMember.objects.select_related("tam").order_by("tam__full_name"))
    )


def pool_for_user(user: User, pool_id: int | str, *, write: bool = False) -> Pool:
    """The one permission-gated fetch of a pool, with its manager and members: every desk user reads every pool
    (as the pools page shows them); others 403; an unknown id 404. ``write``: only admins and the pool's manager
    (``policy.can_edit_pool``), others 403."""
    if not policy.can_view_servicedesk(user):
        raise PermissionDenied("The Service Desk is for TAMs, managers, directors and admins.")
    try:
        pk = int(pool_id)
    except (TypeError, ValueError):
        raise Http404("No such pool.") from None
    pool = pools().filter(pk=pk).first()
    if pool is None:
        raise Http404("No such pool.")
    if write and not policy.can_edit_pool(user, pool):
        raise PermissionDenied("Only admins and the pool's manager change it.")
    return pool


def pool_model_choices() -> list[tuple[str, str]]:
    """The active engagement models a pool may serve, as (key, name)."""
    from tamarind.engagement.models import EngagementModel

    return list(EngagementModel.objects.active().order_by("name").values_list("key", "name"))


def pool_manager_choices() -> list[tuple[int, str]]:
    """Who may manage a pool: active TAM Managers (a pool takes its TAMs from their region) and admins."""
    rows = (
        User.objects.filter(is_active=True, role__in=(Role.MANAGER, Role.ADMIN))
        .select_related("managed_region")
        .order_by("full_name", "pk")
    )
    return [(u.pk, f"{u.full_name} ({u.managed_region.name})" if _region(u) else u.full_name) for u in rows]


def _region(user: User) -> Any:
    return getattr(user, "managed_region", None)


def pool_candidates(pool: Pool) -> list[User]:
    """The active TAMs who could join ``pool``: of its manager's region (any region when it has none), not in it."""
    qs = User.objects.filter(is_active=True, role=Role.TAM).exclude(pool_memberships__pool=pool)
    region = policy.managed_region(pool.manager) if pool.manager is not None else None
    if region is not None:
        qs = qs.filter(region=region)
    return list(qs.select_related("region").order_by("full_name", "pk"))


def pool_member_candidate(tam_id: int | str) -> User:
    """The person a member form names (any role: the service says why a non-TAM cannot join); a missing or
    unknown id is the form's error, not a 404 of the page."""
    raw = str(tam_id).strip()
    pk = int(raw) if raw.isdigit() and len(raw) < 19 else 0
    tam = User.objects.filter(pk=pk).select_related("region").first() if pk else None
    if tam is None:
        raise ValidationFailed({"tam": ["Choose a TAM."]})
    return tam


def unmatched_queryset() -> QuerySet[InboundEmail]:
    """Kept-aside email (unknown senders), newest first."""
    return InboundEmail.objects.filter(status=InboundStatus.UNMATCHED).order_by("-received_at", "-id")


def unmatched_email(*, limit: int = 200) -> list[InboundEmail]:
    return list(unmatched_queryset()[:limit])


def inbound_for_user(user: User, inbound_id: int | str) -> InboundEmail:
    """The one permission-gated fetch of an inbound email: admins only (403 for others), 404 for an unknown id."""
    if not policy.can_manage_pools(user):
        raise PermissionDenied("Admins match kept-aside email.")
    try:
        pk = int(inbound_id)
    except (TypeError, ValueError):
        raise Http404("No such email.") from None
    inbound = InboundEmail.objects.filter(pk=pk).first()
    if inbound is None:
        raise Http404("No such email.")
    return inbound


@dataclass
class DeskMetrics:
    requests: int
    answered: int
    within: int
    mean_first_response_hours: float | None
    customers: int
    rated: int
    mean_satisfaction: float | None

    @property
    def share_within(self) -> float | None:
        return self.within / self.answered if self.answered else None

    @property
    def per_customer(self) -> float | None:
        return self.requests / self.customers if self.customers else None


def metrics(*, user: User) -> DeskMetrics:
    """First-response time, share answered within the pool's hours, requests per customer, satisfaction."""
    qs = ServiceRequest.objects.all()
    scope = policy.servicedesk_request_scope(user)
    if scope is not None:
        qs = qs.filter(pk__in=ServiceRequest.objects.filter(scope).values("pk"))
    wait = ExpressionWrapper(F("first_responded_at") - F("created_at"), output_field=DurationField())
    agg: dict[str, Any] = qs.aggregate(
        n=Count("pk"),
        answered=Count("pk", filter=Q(first_responded_at__isnull=False)),
        within=Count(
            "pk", filter=Q(first_responded_at__isnull=False, first_responded_at__lte=F("first_response_due_at"))
        ),
        wait=Avg(wait, filter=Q(first_responded_at__isnull=False)),
        customers=Count("account", distinct=True),
        rated=Count("pk", filter=Q(satisfaction__isnull=False)),
        satisfaction=Avg("satisfaction"),
    )
    wait_value = agg["wait"]
    if wait_value is None:
        hours = None
    elif isinstance(wait_value, dt.timedelta):
        hours = wait_value.total_seconds() / 3600
    else:  # SQLite averages the microseconds as a plain number
        hours = float(wait_value) / 3_600_000_000
    return DeskMetrics(
        agg["n"],
        agg["answered"],
        agg["within"],
        hours,
        agg["customers"],
        agg["rated"],
        float(agg["satisfaction"]) if agg["satisfaction"] is not None else None,
    )
