"""Service Desk services: round robin fairness and availability, the first-response clock, replies emailed,
request links revoked, inbound email (unknown senders kept aside, HTML and oversized bodies), the overdue sweep."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from tamarind.actions.models import Task, TaskType
from tamarind.core.errors import ValidationFailed
from tamarind.notifications.models import Notification
from tamarind.servicedesk import selectors, services
from tamarind.servicedesk.models import Contact, InboundEmail, Pool, PoolMember, RequestStatus, ServiceRequest
from tamarind.testing.factories import AccountFactory


@pytest.fixture
def desk(book):  # type: ignore[no-untyped-def]
    pool = Pool.objects.create(name="Commercial pool", manager=book.manager, email_address="help@example.com")
    PoolMember.objects.create(pool=pool, tam=book.tam)
    PoolMember.objects.create(pool=pool, tam=book.tam2)
    account = AccountFactory(name="Small Co", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    return pool, account


def _req(account, n: int = 0, **kw):  # type: ignore[no-untyped-def]
    return services.request_create(
        actor=None,
        account=account,
        subject=f"Help {n}",
        body="Pipelines fail",
        channel="link",
        requester_email="ann@small.example",
        **kw,
    )


def test_round_robin_is_fair_and_skips_unavailable_tams(book, desk) -> None:  # type: ignore[no-untyped-def]
    _pool, account = desk
    owners = Counter(_req(account, i).assignee_id for i in range(6))
    assert owners == {book.tam.pk: 3, book.tam2.pk: 3}
    PoolMember.objects.filter(tam=book.tam2).update(available=False)
    assert {_req(account, i).assignee_id for i in range(3)} == {book.tam.pk}
    today = timezone.localdate()
    PoolMember.objects.filter(tam=book.tam2).update(available=True)
    PoolMember.objects.filter(tam=book.tam).update(away_until=today)  # out of office today
    assert _req(account, 9).assignee_id == book.tam2.pk
    PoolMember.objects.filter(tam=book.tam).update(away_until=today - dt.timedelta(days=1))  # back
    assert _req(account, 10).assignee_id == book.tam.pk  # waited longest
    PoolMember.objects.update(available=False)
    assert _req(account, 11).assignee is None  # kept, unassigned, visible in the queue


def test_first_response_clock_and_reply_by_email(book, desk) -> None:  # type: ignore[no-untyped-def]
    pool, account = desk
    now = timezone.now()
    req = _req(account, now=now)
    assert req.first_response_due_at == now + dt.timedelta(hours=48)
    task = Task.objects.get(type=TaskType.SERVICE_REQUEST, account=account)
    assert task.owner_id == req.assignee_id
    pool.first_response_hours = 4
    pool.save(update_fields=["first_response_hours"])
    assert _req(account, 2, now=now).first_response_due_at == now + dt.timedelta(hours=4)
    assignee = book.tam if req.assignee_id == book.tam.pk else book.tam2
    with pytest.raises(PermissionDenied):
        services.request_reply(actor=book.other_tam, request=req, body="hi")
    with pytest.raises(ValidationFailed):
        services.request_reply(actor=assignee, request=req, body="   ")
    services.request_reply(actor=assignee, request=req, body="Try a new runner token.")
    req.refresh_from_db()
    assert req.first_responded_at is not None and req.status == RequestStatus.WAITING
    assert not req.is_overdue(now + dt.timedelta(days=5))
    assert len(mail.outbox) == 0  # sent after the commit
    task.refresh_from_db()
    assert task.status == "done"


def test_reply_email_is_sent_after_commit(book, desk, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _pool, account = desk
    req = _req(account)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_reply(actor=req.assignee, request=req, body="Here is how.")
    assert mail.outbox[-1].to == ["ann@small.example"]
    assert f"[SR-{req.pk}]" in mail.outbox[-1].subject and "Here is how." in mail.outbox[-1].body


def test_status_reassignment_and_rating(book, desk) -> None:  # type: ignore[no-untyped-def]
    _pool, account = desk
    req = _req(account)
    other = book.tam2 if req.assignee_id == book.tam.pk else book.tam
    with pytest.raises(ValidationFailed):
        services.request_update(actor=book.manager, request=req, changes={"assignee_id": book.other_tam.pk})
    services.request_update(actor=book.manager, request=req, changes={"assignee_id": other.pk})
    assert Task.objects.get(type=TaskType.SERVICE_REQUEST, account=account, status="open").owner_id == other.pk
    with pytest.raises(ValidationFailed):
        services.request_rate(request=req, rating=5)  # not closed yet
    with pytest.raises(ValidationFailed):
        services.request_update(actor=other, request=req, changes={"status": "done"})
    services.request_update(actor=other, request=req, changes={"status": "closed"})
    for bad in (0, 6, "great"):
        with pytest.raises(ValidationFailed):
            services.request_rate(request=req, rating=bad)
    req = services.request_rate(request=req, rating="4", comment="Quick")
    assert (req.satisfaction, req.status) == (4, "closed")
    services.customer_message_add(request=req, body="It broke again")
    req.refresh_from_db()
    assert req.status == "in_progress" and req.satisfaction is None and req.closed_at is None


def test_overdue_requests_notify_the_pool_manager_once(book, desk) -> None:  # type: ignore[no-untyped-def]
    _pool, account = desk
    then = timezone.now() - dt.timedelta(hours=49)
    late = _req(account, now=then)
    _req(account, 2)  # not due yet
    assert services.requests_overdue_notify() == {"overdue": 1, "notified": 1}
    assert services.requests_overdue_notify() == {"overdue": 0, "notified": 0}
    note = Notification.objects.get(recipient=book.manager)
    assert f"SR-{late.pk}" in note.title
    assert [r.pk for r in selectors.queue(user=book.manager, overdue_only=True, now=timezone.now())] == [late.pk]


def test_request_link_reveals_its_account_and_dies_when_revoked(book, desk) -> None:  # type: ignore[no-untyped-def]
    _pool, account = desk
    _link, raw = services.request_link_create(actor=book.tam, account=account)
    assert selectors.link_account(raw).account_id == account.pk
    _new, raw2 = services.request_link_create(actor=book.tam, account=account)  # replaces the first
    with pytest.raises(Http404):
        selectors.link_account(raw)
    services.request_link_revoke(actor=book.manager, account=account)
    with pytest.raises(Http404):
        selectors.link_account(raw2)
    with pytest.raises(PermissionDenied):
        services.request_link_create(actor=book.other_tam, account=account)
    with pytest.raises(ValidationFailed):
        services.request_link_create(actor=book.admin, account=book.account)  # not pooled


def _eml(sender: str, subject: str, body: str, *, html: str = "") -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "help@example.com", subject
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return bytes(msg)


def test_inbound_email_known_unknown_html_and_oversized(book, desk) -> None:  # type: ignore[no-untyped-def]
    _pool, account = desk
    Contact.objects.create(account=account, email="bob@small.example", name="Bob")
    known = services.inbound_email_receive(_eml("Bob <bob@small.example>", "Runner down", "Help please"))
    assert known.status == "matched" and known.request.account_id == account.pk
    stranger = services.inbound_email_receive(_eml("eve@nowhere.example", "Hi", "Who are you"))
    assert stranger.status == "unmatched" and stranger.request is None
    assert InboundEmail.objects.filter(status="unmatched").count() == 1
    assert ServiceRequest.objects.count() == 1  # not answered, not lost
    # HTML only: reduced to its text; scripts dropped; never stored as markup.
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["Subject"] = "bob@small.example", "Formatted"
    msg.set_content("<p>Hello <b>team</b></p><script>alert(1)</script>", subtype="html")
    html = services.inbound_email_receive(bytes(msg))
    body = html.request.messages.get().body
    assert body == "Hello team" and "<" not in body
    # A long body is cut in the thread and kept whole in the inbound email.
    long = services.inbound_email_receive(_eml("bob@small.example", "Logs", "x" * (services.BODY_LIMIT + 10)))
    message = long.request.messages.get()
    assert message.truncated and len(message.body) == services.BODY_LIMIT
    assert len(InboundEmail.objects.get(pk=long.pk).raw) > services.BODY_LIMIT
    with pytest.raises(ValidationFailed):
        services.inbound_email_receive(b"x" * (services.RAW_LIMIT + 1))
    # A reply naming the request joins its thread.
    req = known.request
    services.inbound_email_receive(_eml("bob@small.example", f"Re: Runner down [SR-{req.pk}]", "Still down"))
    assert req.messages.count() == 2
    # A person matches the kept-aside email.
    matched = services.inbound_email_match(actor=book.admin, inbound=stranger, account=account)
    assert matched.account_id == account.pk and Contact.objects.filter(email="eve@nowhere.example").exists()
    with pytest.raises(ValidationFailed):
        services.inbound_email_match(actor=book.admin, inbound=stranger, account=account)
