"""An email round trip through a real aiosmtpd listener on loopback (a random free port): the customer writes,
a request opens; the TAM replies by email; the customer's reply joins the thread; an unknown sender is kept
aside; an oversized message is refused with 552."""

from __future__ import annotations

import smtplib
import socket
from decimal import Decimal
from email.message import EmailMessage

import pytest
from django.core import mail

from tamarind.servicedesk import services
from tamarind.servicedesk.models import Contact, InboundEmail, Pool, PoolMember, ServiceRequest
from tamarind.servicedesk.smtp import controller
from tamarind.testing.factories import AccountFactory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _send(port: int, sender: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "help@example.com", subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


@pytest.mark.django_db(transaction=True)
def test_email_round_trip_through_a_real_smtp_listener(book) -> None:  # type: ignore[no-untyped-def]
    pool = Pool.objects.create(name="Pool", manager=book.manager, email_address="help@example.com")
    PoolMember.objects.create(pool=pool, tam=book.tam)
    account = AccountFactory(region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    Contact.objects.create(account=account, email="ann@small.example")
    port = _free_port()
    ctl = controller("127.0.0.1", port)
    ctl.start()
    try:
        _send(port, "Ann <ann@small.example>", "Cannot push", "Push is rejected")
        req = ServiceRequest.objects.get()
        assert (req.account_id, req.channel, req.assignee_id) == (account.pk, "email", book.tam.pk)
        services.request_reply(actor=book.tam, request=req, body="Check the protected branch settings.")
        reply = next(m for m in mail.outbox if m.to == ["ann@small.example"])
        assert f"[SR-{req.pk}]" in reply.subject and "protected branch" in reply.body
        _send(port, "ann@small.example", f"Re: {reply.subject}", "That fixed it, thanks")
        assert [m.body for m in req.messages.order_by("id")][-1] == "That fixed it, thanks"
        req.refresh_from_db()
        assert req.status == "in_progress"
        _send(port, "mallory@elsewhere.example", "Free money", "Click")
        assert InboundEmail.objects.filter(status="unmatched", from_email="mallory@elsewhere.example").exists()
        assert ServiceRequest.objects.count() == 1  # kept aside: no request
        assert not [m for m in mail.outbox if "mallory@elsewhere.example" in m.to]  # and not answered
        with pytest.raises(smtplib.SMTPException) as refused:
            _send(port, "ann@small.example", "Huge", "x" * (services.RAW_LIMIT + 100))
        assert "552" in str(refused.value) or getattr(refused.value, "smtp_code", 0) == 552
    finally:
        ctl.stop()
