"""Webinar invitations through the digital journey: a ``webinar`` step invites the program's persona contacts of
net-new customers (``webinars.selectors.invitees_for``) to each session starting in the next two weeks; never twice
per contact and session (whatever the runs, steps or programs); nothing for opted-out contacts or paused programs;
delivered through a real SMTP listener with the session's merge fields and a registration link that works without
signing in and says nothing beyond its own contact."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tamarind.core.errors import ValidationFailed
from tamarind.journeys import services
from tamarind.journeys.models import WEBINAR_INVITE_AHEAD_DAYS, Event, Program, Send
from tamarind.journeys.tests.factories import contact, only_programs, program, small_account
from tamarind.journeys.tests.test_smtp import Keep, _html, smtp  # noqa: F401 (the listener fixture)
from tamarind.webinars.models import Topic
from tamarind.webinars.tests.factories import make_session

pytestmark = pytest.mark.django_db

INVITE = {
    "name": "Webinar invitation",
    "kind": "webinar",
    "day": 7,
    "subject": "Join us: {{ webinar.title }}",
    "body": "Hello {{ contact.first_name }},\n\n{{ webinar.topic }} on {{ webinar.date }}.\n\n"
    "Register here: {{ webinar.url }}\n\n{{ tam.name }}",
}


def _today() -> dt.date:
    return timezone.localdate()


def _session(days: int, **fields: Any) -> Any:
    start = timezone.make_aware(dt.datetime.combine(_today() + dt.timedelta(days=days), dt.time(16, 0)))
    return make_session(starts_at=start, ends_at=start + dt.timedelta(hours=1), **fields)


def _invite_program(key: str = "invites") -> Program:
    p = program(key=key, steps=[INVITE])
    return p


def test_invitation_through_a_real_listener_with_the_registration_link(smtp: Any) -> None:  # noqa: F811
    handler = Keep()
    smtp(handler)
    p = _invite_program()
    only_programs(p)
    today = _today()
    fresh = small_account(today - dt.timedelta(days=30), name="Fresh Co")
    ann = contact(fresh, name="Ann Lee")
    contact(fresh, name="Opted Out", opted_out=True)
    contact(fresh, personas=("billing",), name="Not A Persona")
    contact(small_account(today - dt.timedelta(days=200), name="Old Co"))  # not net-new for the session
    contact(small_account(today - dt.timedelta(days=3), name="Too New Co"))  # before the step's day 7
    soon = _session(5, title="CI/CD in an hour")
    later = _session(WEBINAR_INVITE_AHEAD_DAYS + 6)  # beyond the horizon today

    assert services.journey_run(day=today)["queued"] == 1
    assert services.journey_run(day=today)["queued"] == 0  # never twice
    send = Send.objects.get()
    assert (send.contact_id, send.webinar_session_id, send.occurrence) == (ann.pk, soon.pk, soon.pk)

    assert services.sends_deliver() == {"sent": 1}
    [(rcpt, raw)] = handler.messages
    assert rcpt == [ann.email]
    html = _html(raw)
    assert "Join us: CI/CD in an hour" in raw.decode()
    assert f"{soon.topic.name} on {services.session_when(soon.starts_at)}" in html
    link = re.search(r'<a href="http://testserver(/j/c/[^"]+)">http://testserver(/j/r/[^/]+/)</a>', html)
    assert link is not None  # the registration link, tracked as a click
    client = Client(enforce_csrf_checks=True)
    got = client.get(link.group(1).replace("&amp;", "&"))
    assert got.status_code == 302 and got["Location"] == f"http://testserver{link.group(2)}"
    got = client.get(link.group(2))
    body = got.content.decode()
    assert got.status_code == 200 and "CI/CD in an hour" in body and 'id="register-button"' in body
    assert "Fresh Co" not in body and ann.email not in body and "Opted Out" not in body  # only a masked address
    got = client.post(link.group(2), {"csrfmiddlewaretoken": got.cookies["csrftoken"].value})
    assert got.status_code == 200 and 'id="register-done"' in got.content.decode()
    client.post(link.group(2), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert Event.objects.filter(send=send, kind="register").count() == 1  # once

    # ten days on, the later session is within reach: Ann is invited to it too (and still once to the first), and
    # so is Too New Co's contact, now 13 days a customer
    assert services.journey_run(day=today + dt.timedelta(days=10))["queued"] == 2
    assert set(Send.objects.filter(contact=ann).values_list("webinar_session_id", flat=True)) == {soon.pk, later.pk}
    assert Send.objects.filter(webinar_session=soon).count() == 1


def test_never_twice_per_session_across_steps_and_programs() -> None:
    today = _today()
    p1 = _invite_program("first")
    p2 = program(key="second", steps=[INVITE, {**INVITE, "name": "Again", "day": 10}])
    only_programs(p1, p2)
    ann = contact(small_account(today - dt.timedelta(days=30)))
    s1 = _session(3)
    s2 = _session(4, topic=Topic.objects.exclude(key="cicd").first())
    result = services.journey_run(day=today)
    assert result["due"] == 6 and result["queued"] == 2  # 3 steps x 2 sessions, one invitation per session
    assert sorted(Send.objects.filter(contact=ann).values_list("webinar_session_id", flat=True)) == sorted(
        [s1.pk, s2.pk]
    )


def test_paused_programs_and_opted_out_contacts_get_nothing(smtp: Any) -> None:  # noqa: F811
    handler = Keep()
    smtp(handler)
    today = _today()
    p = _invite_program()
    only_programs(p)
    ann = contact(small_account(today - dt.timedelta(days=30)))
    bob = contact(small_account(today - dt.timedelta(days=30)))
    _session(5)
    services.program_set_status(actor=None, program=p, status="paused")
    assert services.journey_run(day=today)["queued"] == 0
    services.program_set_status(actor=None, program=p, status="active")
    assert services.journey_run(day=today)["queued"] == 2
    # paused after queuing: nothing delivered until resumed
    services.program_set_status(actor=None, program=p, status="paused")
    assert services.sends_deliver() == {}
    services.program_set_status(actor=None, program=p, status="active")
    from tamarind.contacts.services import contact_opt_out

    contact_opt_out(contact=bob, actor=None, source="test")
    assert services.sends_deliver() == {"sent": 1, "failed": 1}
    assert [rcpt for rcpt, _ in handler.messages] == [[ann.email]]


def test_an_invitation_to_a_session_that_started_is_not_sent(smtp: Any) -> None:  # noqa: F811
    handler = Keep()
    smtp(handler)
    today = _today()
    only_programs(_invite_program())
    contact(small_account(today - dt.timedelta(days=30)))
    session = _session(2)
    services.journey_run(day=today)
    session.starts_at = timezone.now() - dt.timedelta(minutes=5)
    session.save(update_fields=["starts_at"])
    assert services.sends_deliver() == {"failed": 1}
    assert "has started" in Send.objects.get().last_error and handler.messages == []


def test_webinar_fields_only_in_webinar_steps_and_no_repeat() -> None:
    p = program(key="checks", steps=[])
    with pytest.raises(ValidationFailed, match="only available in webinar invitation steps"):
        services.step_create(actor=None, program=p, data={**INVITE, "kind": "email"})
    with pytest.raises(ValidationFailed, match="leave repeat empty"):
        services.step_create(actor=None, program=p, data={**INVITE, "repeat_days": 30})
    step = services.step_create(actor=None, program=p, data=INVITE)
    assert step.is_webinar


def test_register_link_of_a_plain_email_is_unknown() -> None:
    p = program(key="plain")
    only_programs(p)
    c = contact(small_account(_today()))
    services.journey_run(day=_today())
    send = Send.objects.get(contact=c)
    got = Client().get(f"/j/r/{send.token}/")
    assert got.status_code == 404 and b"no longer works" in got.content
    assert Client().get("/j/r/nope/").status_code == 404


def test_the_database_keeps_one_registration_per_invitation() -> None:
    """The service checks first; two clicks at the same moment both pass that check, so the constraint decides."""
    from django.db import IntegrityError, transaction

    today = _today()
    p = _invite_program()
    only_programs(p)
    contact(small_account(today - dt.timedelta(days=30)))
    _session(3)
    services.journey_run(day=today)
    send = Send.objects.get(webinar_session__isnull=False)
    assert services.send_register(send=send) is True
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(send=send, account_id=send.account_id, kind="register", at=timezone.now())
    assert services.send_register(send=send) is False
    assert Event.objects.filter(send=send, kind="register").count() == 1
