"""Email through a real SMTP listener (aiosmtpd on loopback, a random free port): the journey's email arrives with
its tracking image, tracked link and unsubscribe link, which the test client then follows; a listener that refuses
the recipient makes the send retry with backoff and end bounced."""

from __future__ import annotations

import datetime as dt
import email
import re
import socket
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from tamarind.journeys import services
from tamarind.journeys.models import Event, Send
from tamarind.journeys.tests.factories import contact, only_programs, program, small_account

pytestmark = pytest.mark.django_db

SINCE = dt.date(2026, 1, 31)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Keep:
    """Accepts every message and keeps it."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


class Refuse:
    """Refuses every recipient (as a server that knows no such mailbox does)."""

    def __init__(self) -> None:
        self.tries = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.tries += 1
        return "550 5.1.1 No such user here"


@pytest.fixture
def smtp(settings: Any) -> Any:
    def start(handler: Any) -> Controller:
        port = _free_port()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.TAMARIND_BASE_URL = "http://testserver"
        ctl = Controller(handler, hostname="127.0.0.1", port=port)
        ctl.start()
        started.append(ctl)
        return ctl

    started: list[Controller] = []
    yield start
    for ctl in started:
        ctl.stop()


def _html(raw: bytes) -> str:
    msg: Message = email.message_from_bytes(raw)
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            return str(part.get_payload(decode=True).decode())  # type: ignore[union-attr]
    raise AssertionError("no HTML part")


def test_email_through_a_real_listener_with_links_followed(smtp: Any) -> None:
    handler = Keep()
    smtp(handler)
    p = program()
    only_programs(p)
    c = contact(small_account(SINCE, name="Acme Small"), name="Ann Lee")
    services.journey_run(day=SINCE)
    assert services.sends_deliver() == {"sent": 1}
    [(rcpt, raw)] = handler.messages
    assert rcpt == [c.email]
    html = _html(raw)
    send = Send.objects.get()
    assert "Hello Ann Lee of Acme Small" in html

    pixel = re.search(r'<img src="http://testserver(/j/o/[^"]+\.gif)"', html)
    assert pixel is not None
    client = Client()
    got = client.get(pixel.group(1))
    assert got.status_code == 200 and got["Content-Type"] == "image/gif"
    send.refresh_from_db()
    assert send.opened_at is not None

    link = re.search(r'<a href="http://testserver(/j/c/[^"]+)">https://docs.example.com/start</a>', html)
    assert link is not None
    got = client.get(link.group(1).replace("&amp;", "&"))
    assert got.status_code == 302 and got["Location"] == "https://docs.example.com/start"
    send.refresh_from_db()
    assert send.first_clicked_at is not None
    assert list(Event.objects.values_list("kind", "url").order_by("pk")) == [
        ("open", ""),
        ("click", "https://docs.example.com/start"),
    ]
    # the same link with its target swapped is no open redirect
    forged = link.group(1).split("?u=")[0] + "?u=aHR0cHM6Ly9ldmlsLmV4YW1wbGU"
    assert client.get(forged).status_code == 404

    unsub = re.search(r"http://testserver(/j/u/[^/]+/)", html)
    assert unsub is not None
    page = Client(enforce_csrf_checks=True)
    got = page.get(unsub.group(1))
    assert got.status_code == 200 and b"Unsubscribe?" in got.content
    assert b"Acme Small" not in got.content and c.email.encode() not in got.content  # only a masked address
    token = got.cookies["csrftoken"].value
    got = page.post(unsub.group(1), {"csrfmiddlewaretoken": token})
    assert got.status_code == 200 and b"You are unsubscribed" in got.content
    c.refresh_from_db()
    assert c.opted_out
    # and nothing more for them
    assert services.journey_run(day=SINCE + dt.timedelta(days=7))["queued"] == 0


def test_refused_recipient_is_retried_with_backoff_then_bounced(smtp: Any) -> None:
    handler = Refuse()
    smtp(handler)
    p = program()
    only_programs(p)
    contact(small_account(SINCE))
    services.journey_run(day=SINCE)
    now = timezone.now()
    assert services.sends_deliver(now=now) == {"queued": 1}
    send = Send.objects.get()
    assert send.attempts == 1 and "550" in send.last_error and send.status == "queued"
    assert send.next_attempt_at >= now + dt.timedelta(minutes=services.BACKOFF_MINUTES - 1)
    assert services.sends_deliver(now=now) == {}  # not due yet: backoff
    for _ in range(services.MAX_ATTEMPTS - 1):
        send.refresh_from_db()
        services.sends_deliver(now=send.next_attempt_at)
    send.refresh_from_db()
    assert (send.status, send.attempts) == ("bounced", services.MAX_ATTEMPTS)
    assert handler.tries == services.MAX_ATTEMPTS
    assert Event.objects.filter(send=send, kind="bounce").count() == 1
    assert services.sends_deliver(now=now + dt.timedelta(days=30)) == {}
