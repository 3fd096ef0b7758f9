"""Writes to the Service Desk: pools and their TAMs' availability, request links (created, revoked), requests
from every channel (assigned round robin, a first-response clock), replies (emailed to the requester), status
changes and reassignment, satisfaction after closing, inbound email (matched, or kept aside for a person), and
the overdue sweep that tells each pool's manager. Atomic, policy-checked, audited; actor ``None`` is a customer
or the system."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from email import policy as email_policy
from email.message import EmailMessage as ParsedMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.actions.models import TaskType
from tamarind.actions.services import task_raise, task_resolve
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_text
from tamarind.notifications.models import NotificationKind
from tamarind.notifications.services import notify
from tamarind.people.models import Role, User
from tamarind.servicedesk.models import (
    Channel,
    Contact,
    InboundEmail,
    InboundStatus,
    Pool,
    PoolMember,
    RequestLink,
    RequestMessage,
    RequestStatus,
    ServiceRequest,
)

BODY_LIMIT = 50_000  # characters of a message kept in the thread; the whole mail stays in InboundEmail.raw
RAW_LIMIT = 5_000_000  # bytes of one inbound email accepted at all (the SMTP listener refuses bigger with 552)
SUBJECT_MAX = 200
REFERENCE = re.compile(r"\[SR-(\d+)\]")
REQUEST_FIELDS = ("status", "assignee", "satisfaction", "first_responded_at", "closed_at")


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _audit(
    actor: User | None, obj: Any, action: str, before: dict[str, Any] | None, after: dict[str, Any], source: str
) -> None:
    audit_record(actor=actor, obj=obj, action=AuditAction(action), before=before, after=after, source=source)


# --- Pools ---------------------------------------------------------------------------------------------------
POOL_FIELDS = (
    "name",
    "manager",
    "engagement_model",
    "criteria",
    "precedence",
    "first_response_hours",
    "email_address",
    "is_active",
)
POOL_INPUT = frozenset(
    {
        "name",
        "manager_id",
        "engagement_model",
        "criteria",
        "precedence",
        "first_response_hours",
        "email_address",
        "is_active",
    }
)
EMPTY_CRITERIA: dict[str, Any] = {"match": "all", "conditions": []}
MEMBER_FIELDS = ("pool", "tam", "available", "away_until")


def _whole(value: Any, label: str, low: int, high: int, *, optional: bool = False) -> int | None:
    if optional and value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ValidationFailed({label: [f"A whole number from {low} to {high}."]})
    number = int(str(value).strip()) if len(str(value).strip()) < 19 else high + 1
    if not low <= number <= high:
        raise ValidationFailed({label: [f"A whole number from {low} to {high}."]})
    return number


def pool_region(manager: User | None) -> Any:
    """A pool's region is its manager's (the region a TAM Manager leads); ``None``: TAMs of any region."""
    return policy.managed_region(manager) if manager is not None else None


def _check_region(tams: list[User], manager: User | None) -> None:
    region = pool_region(manager)
    if region is None:
        return
    outside = [t for t in tams if t.region_id != region.pk]
    if outside:
        names = ", ".join(t.full_name or t.email for t in outside)
        raise ValidationFailed(
            {
                "tam": [
                    f"{names}: not in {region.name}, the region of this pool's manager; a pool takes its TAMs "
                    "from its manager's region."
                ]
            }
        )


def _clean_pool(data: dict[str, Any], row: Pool) -> None:
    """Apply ``data`` onto ``row`` with each value validated; the criteria through engagement's own validation."""
    from tamarind.engagement.models import EngagementModel
    from tamarind.engagement.services import clean_criteria

    for name, value in data.items():
        if name == "name":
            row.name = clean_text(value, "name", required=True, max_length=120)
        elif name == "manager_id":
            if value in (None, ""):
                row.manager = None
                continue
            pk = _whole(value, "manager_id", 1, 2**63 - 1) or 0
            manager = (
                User.objects.with_region().filter(pk=pk, is_active=True, role__in=(Role.MANAGER, Role.ADMIN)).first()
            )
            if manager is None:
                raise ValidationFailed({"manager_id": ["No such TAM Manager or admin."]})
            row.manager = manager
        elif name == "engagement_model":
            key = clean_text(value, "engagement_model", required=True, max_length=40)
            if not EngagementModel.objects.active().filter(key=key).exists():
                raise ValidationFailed({"engagement_model": [f"No active engagement model {key!r}."]})
            row.engagement_model = key
        elif name == "criteria":
            row.criteria = clean_criteria(EMPTY_CRITERIA if value in (None, "", {}) else value)
        elif name == "precedence":
            row.precedence = _whole(value, "precedence", 0, 32767, optional=True)
        elif name == "first_response_hours":
            row.first_response_hours = _whole(value, "first_response_hours", 1, 720)  # type: ignore[assignment]
        elif name == "email_address":
            row.email_address = _clean_email(value, "email_address", required=False)
        elif name == "is_active":
            if not isinstance(value, bool):
                raise ValidationFailed({"is_active": ["true or false."]})
            row.is_active = value


def _check_pool_conflicts(row: Pool) -> None:
    """Refuse criteria overlapping another active pool's of the same model without distinct precedences (the
    engagement models' rule, decided by the same ``placement.conflicts``)."""
    from tamarind.engagement.placement import ModelRule, conflicts, parse_criteria

    if not row.is_active:
        return
    # Locked so two pools saved at once cannot both pass the check against each other's old criteria.
    others = list(
        Pool.objects.select_for_update()
        .filter(is_active=True, engagement_model=row.engagement_model)
        .exclude(pk=row.pk)
        .order_by("name")
    )
    mine = ModelRule("self", row.precedence, parse_criteria(row.criteria or EMPTY_CRITERIA))
    theirs = [ModelRule(str(p.pk), p.precedence, parse_criteria(p.criteria or EMPTY_CRITERIA)) for p in others]
    clash = set(conflicts(mine, theirs))
    if clash:
        names = ", ".join(p.name for p in others if str(p.pk) in clash)
        raise ValidationFailed(
            {
                "criteria": [
                    f"These criteria overlap {names} (same engagement model) without a precedence that says which "
                    "pool serves an account: give both a different precedence (lower wins), or narrow the criteria "
                    "so they do not overlap."
                ]
            }
        )


def _pool_save(*, actor: User, row: Pool, data: dict[str, Any], created: bool, source: str) -> Pool:
    unknown = set(data) - POOL_INPUT
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    before = None if created else snapshot(row, POOL_FIELDS)
    old_manager, old_active = row.manager_id, row.is_active
    _clean_pool(data, row)
    if not policy.can_manage_pools(actor) and (row.manager_id != old_manager or row.is_active != old_active):
        raise PermissionDenied("Only admins name a pool's manager or deactivate a pool.")
    if Pool.objects.filter(name__iexact=row.name).exclude(pk=row.pk).exists():
        raise ValidationFailed({"name": [f"A pool named {row.name!r} exists."]})
    _check_pool_conflicts(row)
    if not created and row.manager_id != old_manager:
        _check_region([m.tam for m in PoolMember.objects.filter(pool=row).select_related("tam")], row.manager)
    after = snapshot(row, POOL_FIELDS)
    if created:
        row.save(force_insert=True)
    else:
        changed = [f for f in POOL_FIELDS if before is not None and before[f] != after[f]]
        if not changed:
            return row
        row.save(update_fields=changed)
    _audit(actor, row, "create" if created else "update", before, after, source)
    return row


@transaction.atomic
def pool_create(*, actor: User, data: dict[str, Any], source: str = "web") -> Pool:
    """A new pool (admins). ``data``: ``name`` and ``engagement_model`` required; ``manager_id``, ``criteria``
    (written like the engagement models' criteria; empty: the whole model), ``precedence``,
    ``first_response_hours`` (48 by default), ``email_address``, ``is_active``."""
    if not policy.can_manage_pools(actor):
        raise PermissionDenied("Only admins create pools.")
    missing = [f for f in ("name", "engagement_model") if f not in data]
    if missing:
        raise ValidationFailed({f: ["Required."] for f in missing})
    row = Pool(criteria=dict(EMPTY_CRITERIA))
    return _pool_save(actor=actor, row=row, data={"criteria": EMPTY_CRITERIA, **data}, created=True, source=source)


@transaction.atomic
def pool_update(*, actor: User, pool: Pool, changes: dict[str, Any], source: str = "web") -> Pool:
    """Change a pool (admins, or its manager for all but its manager and whether it is active). Only the fields
    in ``changes`` change; deactivating (``is_active`` false) keeps its requests and members but it serves no
    account from then on."""
    if not policy.can_edit_pool(actor, pool):
        raise PermissionDenied("Only admins and the pool's manager change it.")
    row = Pool.objects.select_for_update(of=("self",)).select_related("manager").get(pk=pool.pk)
    return _pool_save(actor=actor, row=row, data=changes, created=False, source=source)


@transaction.atomic
def pool_member_add(
    *,
    actor: User,
    pool: Pool,
    tam: User,
    available: bool = True,
    away_until: dt.date | None = None,
    source: str = "web",
) -> PoolMember:
    """Add a TAM to a pool (admins, the pool's manager): an active TAM of the manager's region, once."""
    if not policy.can_edit_pool(actor, pool):
        raise PermissionDenied("Only admins and the pool's manager change its members.")
    if tam.role != Role.TAM or not tam.is_active:
        raise ValidationFailed({"tam": ["Only active TAMs are pool members."]})
    locked = Pool.objects.select_for_update(of=("self",)).select_related("manager").get(pk=pool.pk)
    _check_region([tam], locked.manager)
    if PoolMember.objects.filter(pool=locked, tam=tam).exists():
        raise ValidationFailed({"tam": [f"{tam.full_name or tam.email} is already in this pool."]})
    member = PoolMember.objects.create(pool=locked, tam=tam, available=available, away_until=away_until)
    _audit(actor, member, "create", None, snapshot(member, MEMBER_FIELDS), source)
    return member


@transaction.atomic
def pool_member_remove(*, actor: User, pool: Pool, tam: User, source: str = "web") -> None:
    """Take a TAM out of a pool (admins, the pool's manager). Refused while they hold open requests of the pool:
    reassign those first, so no request is left with an assignee who can no longer read it."""
    if not policy.can_edit_pool(actor, pool):
        raise PermissionDenied("Only admins and the pool's manager change its members.")
    member = PoolMember.objects.select_for_update().filter(pool=pool, tam=tam).first()
    if member is None:
        raise ValidationFailed({"tam": ["Not a TAM of this pool."]})
    open_requests = ServiceRequest.objects.filter(pool=pool, assignee=tam).exclude(status=RequestStatus.CLOSED).count()
    if open_requests:
        raise ValidationFailed(
            {
                "tam": [
                    f"{tam.full_name or tam.email} holds {open_requests} open request(s) of this pool: reassign "
                    "them first."
                ]
            }
        )
    before = snapshot(member, MEMBER_FIELDS)
    member.delete()
    audit_record(actor=actor, obj=pool, action=AuditAction.DELETE, before={"member": before}, after={}, source=source)


@transaction.atomic
def pool_member_set(
    *,
    actor: User,
    pool: Pool,
    tam: User,
    available: bool = True,
    away_until: dt.date | None = None,
    source: str = "web",
) -> PoolMember:
    """Change a pool TAM's availability (admins, the pool's manager, or the TAM themselves), adding them to the
    pool first when they are not in it (``pool_member_add``: admins and the pool's manager only)."""
    if not policy.can_set_pool_member(actor, pool, tam):
        raise PermissionDenied("You may not change this pool's members.")
    if tam.role != Role.TAM:
        raise ValidationFailed({"tam": ["Only TAMs are pool members."]})
    member = PoolMember.objects.select_for_update().filter(pool=pool, tam=tam).first()
    if member is None:
        return pool_member_add(
            actor=actor, pool=pool, tam=tam, available=available, away_until=away_until, source=source
        )
    before = snapshot(member, ("available", "away_until"))
    member.available = available
    member.away_until = away_until
    member.save(update_fields=["available", "away_until"])
    _audit(actor, member, "update", before, snapshot(member, ("available", "away_until")), source)
    return member


def pick_assignee(pool: Pool, *, now: dt.datetime) -> User | None:
    """Round robin: the available member (not switched off, not away today) who has waited longest since their
    last assignment (never assigned first; then by membership order). Locks the members' rows so two requests
    arriving together go to different TAMs."""
    today = timezone.localdate(now)
    members = list(
        PoolMember.objects.select_for_update()
        .filter(pool=pool, tam__is_active=True)
        .select_related("tam")
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )
    for m in members:
        if m.is_available(today):
            m.last_assigned_at = now
            m.save(update_fields=["last_assigned_at"])
            return m.tam
    return None


def pool_for_account(account: Account) -> Pool | None:
    """The first active pool serving the account's engagement model whose criteria it meets: by precedence (lower
    first, a pool with one before a pool without), then by name."""
    from tamarind.engagement.placement import ModelRule, matches, parse_criteria
    from tamarind.engagement.selectors import fact_rows, facts_of_row

    pools = sorted(
        Pool.objects.filter(is_active=True, engagement_model=account.engagement_model),
        key=lambda p: (p.precedence is None, p.precedence or 0, p.name),
    )
    if not pools:
        return None
    row = fact_rows().filter(pk=account.pk).first()
    if row is None:
        return None
    facts = facts_of_row(row)
    for p in pools:
        if matches(ModelRule(str(p.pk), None, parse_criteria(p.criteria or {"match": "all", "conditions": []})), facts):
            return p
    return None


# --- Request links -------------------------------------------------------------------------------------------
@transaction.atomic
def request_link_create(*, actor: User, account: Account, source: str = "web") -> tuple[RequestLink, str]:
    """A new request link for a pooled account (the old one, if any, is revoked). Returns the link and the raw
    token, shown once."""
    if not policy.can_manage_request_link(actor, account):
        raise PermissionDenied("You may not manage this account's request link.")
    if pool_for_account(account) is None:
        raise ValidationFailed({"account": ["This account is in no Service Desk pool."]})
    now = timezone.now()
    for old in RequestLink.objects.select_for_update().filter(account=account, revoked_at__isnull=True):
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
    raw = secrets.token_urlsafe(32)
    link = RequestLink.objects.create(account=account, token_hash=token_hash(raw), created_by=actor)
    _audit(actor, link, "create", None, {"account": account.pk}, source)
    return link, raw


@transaction.atomic
def request_link_revoke(*, actor: User, account: Account, source: str = "web") -> int:
    if not policy.can_manage_request_link(actor, account):
        raise PermissionDenied("You may not manage this account's request link.")
    n = 0
    for link in RequestLink.objects.select_for_update().filter(account=account, revoked_at__isnull=True):
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        _audit(actor, link, "update", {"revoked_at": None}, {"revoked_at": link.revoked_at.isoformat()}, source)
        n += 1
    return n


# --- Requests ------------------------------------------------------------------------------------------------
def _clean_email(value: Any, label: str = "email", *, required: bool = True) -> str:
    text = clean_text(value, label, required=required, max_length=254).lower()
    if text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise ValidationFailed({label: ["Not an email address."]}) from None
    return text


def _body(value: Any) -> tuple[str, bool]:
    text = clean_text(value, "body", required=True)
    if len(text) > BODY_LIMIT:
        return text[:BODY_LIMIT], True
    return text, False


@transaction.atomic
def request_create(
    *,
    actor: User | None,
    account: Account,
    subject: Any,
    body: Any,
    channel: str,
    requester_email: Any = "",
    requester_name: Any = "",
    inbound: InboundEmail | None = None,
    now: dt.datetime | None = None,
    source: str = "web",
) -> ServiceRequest:
    """A request of a pooled account, through any channel. ``actor`` None: the customer (link, email). Assigned
    round robin; due a first response within the pool's hours; the assignee gets a task."""
    if actor is not None and not policy.can_enter_request(actor, account):
        raise PermissionDenied("You may not enter requests for this account.")
    pool = pool_for_account(account)
    if pool is None:
        raise ValidationFailed({"account": ["This account is in no Service Desk pool."]})
    subject = clean_text(subject, "subject", required=True, max_length=None)[:SUBJECT_MAX]
    text, truncated = _body(body)
    email = _clean_email(requester_email, "requester_email", required=channel in (Channel.LINK, Channel.EMAIL))
    now = now or timezone.now()
    assignee = pick_assignee(pool, now=now)
    req = ServiceRequest.objects.create(
        pool=pool,
        account=account,
        requester_email=email,
        requester_name=clean_text(requester_name, "requester_name", max_length=150),
        subject=subject,
        channel=channel,
        assignee=assignee,
        created_at=now,
        updated_at=now,
        first_response_due_at=now + dt.timedelta(hours=pool.first_response_hours),
    )
    RequestMessage.objects.create(
        request=req, author=actor, from_email=email, body=text, truncated=truncated, inbound=inbound, created_at=now
    )
    if email and not Contact.objects.filter(email=email).exists():
        Contact.objects.create(account=account, email=email, name=req.requester_name)
    if assignee is not None:
        task_raise(
            type=TaskType.SERVICE_REQUEST,
            account=account,
            owner=assignee,
            reason=f"request:{req.pk}",
            why={"request": req.pk, "subject": subject},
            title=f"Answer {req.reference}: {subject}"[:200],
            due_on=timezone.localdate(req.first_response_due_at),
            source="rule",
        )
    _audit(
        actor, req, "create", None, {"pool": pool.pk, "channel": channel, "assignee": assignee and assignee.pk}, source
    )
    return req


def _send_to_requester(req: ServiceRequest, body: str, author: User) -> None:
    if not req.requester_email:
        return
    message = EmailMessage(
        subject=f"Re: {req.subject} [{req.reference}]",
        body=f"{body}\n\n-- \n{author.full_name}, {req.pool.name}\nReply to this email to add to your request.",
        from_email=req.pool.email_address or settings.DEFAULT_FROM_EMAIL,
        to=[req.requester_email],
        reply_to=[req.pool.email_address] if req.pool.email_address else None,
    )
    # After the commit: a rolled-back reply must not have been emailed.
    transaction.on_commit(lambda: message.send(fail_silently=True))


@transaction.atomic
def request_reply(*, actor: User, request: ServiceRequest, body: Any, source: str = "web") -> RequestMessage:
    """A TAM answers: the message joins the thread and is emailed to the requester; the first answer stops the
    first-response clock."""
    if not policy.can_work_request(actor, request):
        raise PermissionDenied("You may not answer this request.")
    req = ServiceRequest.objects.select_for_update().select_related("pool").get(pk=request.pk)
    if req.status == RequestStatus.CLOSED:
        raise ValidationFailed({"status": ["This request is closed."]})
    text, truncated = _body(body)
    now = timezone.now()
    before = snapshot(req, REQUEST_FIELDS)
    msg = RequestMessage.objects.create(
        request=req, author=actor, from_email=actor.email, body=text, truncated=truncated, created_at=now
    )
    fields = ["updated_at"]
    if req.first_responded_at is None:
        req.first_responded_at = now
        fields.append("first_responded_at")
        if req.assignee_id is not None:
            task_resolve(type=TaskType.SERVICE_REQUEST, account=req.account, reason=f"request:{req.pk}", actor=actor)
    if req.status in (RequestStatus.NEW, RequestStatus.IN_PROGRESS):
        req.status = RequestStatus.WAITING
        fields.append("status")
    req.updated_at = now
    req.save(update_fields=fields)
    _audit(actor, req, "update", before, snapshot(req, REQUEST_FIELDS), source)
    _send_to_requester(req, text, actor)
    return msg


@transaction.atomic
def customer_message_add(
    *, request: ServiceRequest, body: Any, from_email: str = "", inbound: InboundEmail | None = None
) -> RequestMessage:
    """The customer adds to their request (request link or email): it reopens a closed one."""
    req = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    text, truncated = _body(body)
    now = timezone.now()
    before = snapshot(req, REQUEST_FIELDS)
    msg = RequestMessage.objects.create(
        request=req, from_email=from_email, body=text, truncated=truncated, inbound=inbound, created_at=now
    )
    if req.status in (RequestStatus.WAITING, RequestStatus.CLOSED):
        req.status = RequestStatus.IN_PROGRESS
        req.closed_at = None
        req.satisfaction = None
        req.updated_at = now
        req.save(update_fields=["status", "closed_at", "satisfaction", "updated_at"])
        _audit(None, req, "update", before, snapshot(req, REQUEST_FIELDS), "customer")
    return msg


@transaction.atomic
def request_update(
    *, actor: User, request: ServiceRequest, changes: dict[str, Any], source: str = "web"
) -> ServiceRequest:
    """Change the status (closing stamps it) or reassign to another TAM of the pool."""
    if not policy.can_work_request(actor, request):
        raise PermissionDenied("You may not change this request.")
    unknown = set(changes) - {"status", "assignee_id"}
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    req = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    before = snapshot(req, REQUEST_FIELDS)
    fields: list[str] = []
    now = timezone.now()
    if "status" in changes:
        status = changes["status"]
        if status not in RequestStatus.values:
            raise ValidationFailed({"status": [f"One of {', '.join(RequestStatus.values)}."]})
        if status != req.status:
            req.status = status
            req.closed_at = now if status == RequestStatus.CLOSED else None
            if status != RequestStatus.CLOSED:
                req.satisfaction = None
            fields += ["status", "closed_at", "satisfaction"]
    if "assignee_id" in changes:
        tam_id = changes["assignee_id"]
        member = PoolMember.objects.filter(pool_id=req.pool_id, tam_id=tam_id).select_related("tam").first()
        if member is None:
            raise ValidationFailed({"assignee_id": ["Not a TAM of this request's pool."]})
        if req.assignee_id != member.tam_id:
            old = req.assignee_id
            req.assignee = member.tam
            fields.append("assignee")
            if req.first_responded_at is None:
                if old is not None:
                    task_resolve(
                        type=TaskType.SERVICE_REQUEST, account=req.account, reason=f"request:{req.pk}", actor=actor
                    )
                task_raise(
                    type=TaskType.SERVICE_REQUEST,
                    account=req.account,
                    owner=member.tam,
                    reason=f"request:{req.pk}",
                    why={"request": req.pk, "reassigned": True},
                    title=f"Answer {req.reference}: {req.subject}"[:200],
                    due_on=timezone.localdate(req.first_response_due_at),
                    source="rule",
                )
    if fields:
        req.updated_at = now
        req.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
        _audit(actor, req, "update", before, snapshot(req, REQUEST_FIELDS), source)
    return req


@transaction.atomic
def request_rate(*, request: ServiceRequest, rating: Any, comment: Any = "") -> ServiceRequest:
    """The customer rates a closed request, 1 (poor) to 5 (excellent); rating again replaces it."""
    req = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if req.status != RequestStatus.CLOSED:
        raise ValidationFailed({"rating": ["A request is rated once it is closed."]})
    try:
        value = int(str(rating))
    except ValueError:
        raise ValidationFailed({"rating": ["A whole number from 1 to 5."]}) from None
    if not 1 <= value <= 5:
        raise ValidationFailed({"rating": ["A whole number from 1 to 5."]})
    before = snapshot(req, REQUEST_FIELDS)
    req.satisfaction = value
    req.satisfaction_comment = clean_text(comment, "comment", max_length=1000)
    req.save(update_fields=["satisfaction", "satisfaction_comment"])
    _audit(None, req, "update", before, snapshot(req, REQUEST_FIELDS), "customer")
    return req


def requests_overdue_notify(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduler's sweep: each request past its first-response time without an answer notifies its pool's
    manager once (``overdue_notified_at``)."""
    now = now or timezone.now()
    due = list(
        ServiceRequest.objects.filter(
            first_responded_at__isnull=True, first_response_due_at__lt=now, overdue_notified_at__isnull=True
        )
        .exclude(status=RequestStatus.CLOSED)
        .select_related("pool__manager", "account")
    )
    notified = 0
    for req in due:
        with transaction.atomic():
            if req.pool.manager is not None:
                notify(
                    recipients=[req.pool.manager],
                    kind=NotificationKind.GENERAL,
                    title=f"{req.reference} has no first response after {req.pool.first_response_hours} hours",
                    body=f"{req.account.name}: {req.subject}",
                    url=reverse("servicedesk:detail", args=[req.pk]),
                    account=req.account,
                    dedupe_key=f"servicedesk.overdue.{req.pk}",
                )
                notified += 1
            ServiceRequest.objects.filter(pk=req.pk).update(overdue_notified_at=now)
    return {"overdue": len(due), "notified": notified}


# --- Inbound email -------------------------------------------------------------------------------------------
class _Text(HTMLParser):
    """HTML to plain text: the text of the body, no markup, scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def message_text(msg: ParsedMessage) -> str:
    """The plain text of an email: its text/plain part, else its HTML reduced to text; never the HTML itself."""
    plain = msg.get_body(preferencelist=("plain",))
    if plain is not None:
        try:
            return str(plain.get_content()).strip()
        except (LookupError, UnicodeDecodeError):
            payload = plain.get_payload(decode=True)
            return payload.decode("utf-8", "replace").strip() if isinstance(payload, bytes) else ""
    html = msg.get_body(preferencelist=("html",))
    if html is not None:
        try:
            return html_to_text(str(html.get_content()))
        except (LookupError, UnicodeDecodeError):
            payload = html.get_payload(decode=True)
            return html_to_text(payload.decode("utf-8", "replace")) if isinstance(payload, bytes) else ""
    return ""


@transaction.atomic
def inbound_email_receive(raw: bytes) -> InboundEmail:
    """Take one email in. A reply naming ``[SR-n]`` from that request's requester (or a contact of its account)
    joins its thread; a new email from a known contact of a pooled account opens a request; anything else is kept
    aside (status *unmatched*) for a person to match, and is not answered. Nothing is dropped: the whole message
    is kept in ``raw``."""
    if len(raw) > RAW_LIMIT:
        raise ValidationFailed({"message": [f"The email is over {RAW_LIMIT} bytes."]})
    msg = BytesParser(policy=email_policy.default).parsebytes(raw)
    assert isinstance(msg, ParsedMessage)
    _, sender = parseaddr(str(msg.get("From", "")))
    sender = sender.strip().lower()
    subject = " ".join(str(msg.get("Subject", "")).split())[:SUBJECT_MAX] or "(no subject)"
    text = message_text(msg) or "(no text)"
    inbound = InboundEmail.objects.create(
        message_id=str(msg.get("Message-ID", ""))[:998],
        from_email=sender[:320],
        subject=subject,
        body=text[:BODY_LIMIT],
        raw=raw.decode("utf-8", "replace"),
        status=InboundStatus.UNMATCHED,
    )
    contact = Contact.objects.filter(email=sender).select_related("account").first() if sender else None
    ref = REFERENCE.search(subject)
    if ref and sender:
        req = ServiceRequest.objects.filter(pk=int(ref.group(1))).first()
        if req is not None and (req.requester_email == sender or (contact and contact.account_id == req.account_id)):
            customer_message_add(request=req, body=text, from_email=sender, inbound=inbound)
            inbound.status, inbound.request = InboundStatus.MATCHED, req
            inbound.save(update_fields=["status", "request"])
            return inbound
    if contact is not None and pool_for_account(contact.account) is not None:
        req = request_create(
            actor=None,
            account=contact.account,
            subject=subject,
            body=text,
            channel=Channel.EMAIL,
            requester_email=sender,
            requester_name=contact.name,
            inbound=inbound,
            source="email",
        )
        inbound.status, inbound.request = InboundStatus.MATCHED, req
        inbound.save(update_fields=["status", "request"])
    return inbound


@transaction.atomic
def inbound_email_match(*, actor: User, inbound: InboundEmail, account: Account, source: str = "web") -> ServiceRequest:
    """A person matches a kept-aside email to a pooled account: its sender becomes the account's contact and the
    email opens a request."""
    if inbound.status != InboundStatus.UNMATCHED:
        raise ValidationFailed({"inbound": ["This email is already handled."]})
    if not policy.can_enter_request(actor, account):
        raise PermissionDenied("You may not enter requests for this account.")
    sender = _clean_email(inbound.from_email, "from_email")
    existing = Contact.objects.filter(email=sender).first()
    if existing is not None and existing.account_id != account.pk:
        raise ValidationFailed({"account": [f"{sender} is already a contact of another account."]})
    if existing is None:
        Contact.objects.create(account=account, email=sender)
    req = request_create(
        actor=None,
        account=account,
        subject=inbound.subject,
        body=inbound.body,
        channel=Channel.EMAIL,
        requester_email=sender,
        inbound=inbound,
        source=source,
    )
    inbound.status, inbound.request, inbound.handled_by = InboundStatus.MATCHED, req, actor
    inbound.save(update_fields=["status", "request", "handled_by"])
    _audit(actor, inbound, "update", {"status": "unmatched"}, {"status": "matched", "request": req.pk}, source)
    return req
