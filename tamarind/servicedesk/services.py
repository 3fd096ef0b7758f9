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
    """Add a TAM to a pool or change their availability (admins, the pool's manager, or the TAM themselves for
    their own availability)."""
    if not policy.can_set_pool_member(actor, pool, tam):
        raise PermissionDenied("You may not change this pool's members.")
    if tam.role != Role.TAM:
        raise ValidationFailed({"tam": ["Only TAMs are pool members."]})
    member, created = PoolMember.objects.get_or_create(pool=pool, tam=tam)
    before = None if created else snapshot(member, ("available", "away_until"))
    member.available = available
    member.away_until = away_until
    member.save(update_fields=["available", "away_until"])
    _audit(
        actor, member, "create" if created else "update", before, snapshot(member, ("available", "away_until")), source
    )
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
    """The first active pool (by name) serving the account's engagement model whose criteria it meets."""
    from tamarind.engagement.placement import ModelRule, matches, parse_criteria
    from tamarind.engagement.selectors import fact_rows, facts_of_row

    pools = [p for p in Pool.objects.filter(is_active=True, engagement_model=account.engagement_model)]
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
