"""The program pages, step editing with preview, pause/resume by htmx, the account page's Digital journey panel,
the public links' refusals; query counts that stay constant as sends and steps grow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.journeys.models import Event, Program, Send, Step
from tamarind.journeys.tests.factories import contact, program, small_account

pytestmark = pytest.mark.django_db


def _sends(p: Program, account: Any, n: int) -> None:
    """``n`` sent emails per step of ``p`` to new contacts of ``account``, half opened, a quarter clicked."""
    now = timezone.now()
    for step in p.steps.all():
        for i in range(n):
            c = contact(account)
            send = Send.objects.create(
                step=step,
                contact=c,
                account=account,
                due_on=timezone.localdate(),
                status="sent",
                created_at=now,
                next_attempt_at=now,
                sent_at=now,
                opened_at=now if i % 2 == 0 else None,
                first_clicked_at=now if i % 4 == 0 else None,
            )
            Event.objects.create(send=send, account=account, kind="open", at=now)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_programs_and_program_pages_show_counts_in_constant_queries(book: Any, client_for: Any) -> None:
    p = program(key="views-program")
    account = small_account()
    client = client_for(book.manager)
    small_list = _queries(client, "/journeys/")
    small_detail = _queries(client, f"/journeys/{p.pk}/")
    _sends(p, account, 4)
    program(key="another", steps=[{"day": 1}, {"day": 2}, {"day": 3}])
    assert _queries(client, "/journeys/") == small_list
    assert _queries(client, f"/journeys/{p.pk}/") == small_detail
    body = client.get(f"/journeys/{p.pk}/").content.decode()
    assert 'id="pause-button"' in body
    assert "<strong>8</strong> sent · <strong>4</strong> opened · <strong>2</strong> clicked" in body
    listing = client.get("/journeys/").content.decode()
    assert "Views Program" in listing and "Digital onboarding" in listing
    # a TAM reads, without the pause button
    assert 'id="pause-button"' not in client_for(book.tam).get(f"/journeys/{p.pk}/").content.decode()


def test_pause_and_resume_by_htmx(book: Any, client_for: Any) -> None:
    p = program(key="pausable")
    client = client_for(book.admin)
    got = client.post(f"/journeys/{p.pk}/status/", {"status": "paused"}, headers={"HX-Request": "true"})
    assert got.status_code == 200 and 'id="resume-button"' in got.content.decode()
    p.refresh_from_db()
    assert p.status == "paused"
    assert client.post(f"/journeys/{p.pk}/status/", {"status": "bogus"}).status_code == 400
    client.post(f"/journeys/{p.pk}/status/", {"status": "active"})
    p.refresh_from_db()
    assert p.status == "active"
    assert client_for(book.tam).post(f"/journeys/{p.pk}/status/", {"status": "paused"}).status_code == 403
    assert client.post("/journeys/999999/status/", {"status": "paused"}).status_code == 404


def _form(step: Step, **changes: str) -> dict[str, str]:
    data = {"name": step.name, "kind": step.kind, "day": str(step.day), "repeat_days": "", "subject": step.subject}
    return {**data, "body": step.body, **changes}


def test_step_preview_renders_for_a_sample_contact_without_saving(book: Any, client_for: Any) -> None:
    p = program(key="preview")
    step = p.steps.order_by("day").first()
    account = small_account(name="Preview Co", region=book.east, tam=book.tam)
    c = contact(account, name="Pat Doe")
    client = client_for(book.manager)
    got = client.post(
        f"/journeys/steps/{step.pk}/",
        {
            **_form(step, body="Dear {{ contact.name }} ({{ account.name }}), your TAM is {{ tam.name }}"),
            "action": "preview",
            "contact": str(c.pk),
        },
        headers={"HX-Request": "true"},
    )
    body = got.content.decode()
    assert got.status_code == 200
    assert f"Dear Pat Doe (Preview Co), your TAM is {book.tam.full_name}" in body
    step.refresh_from_db()
    assert "Dear" not in step.body  # nothing saved
    # an unknown merge field: refused in the preview and on save, naming the field
    got = client.post(
        f"/journeys/steps/{step.pk}/",
        {**_form(step, body="Hi {{ contact.age }}"), "action": "preview"},
        headers={"HX-Request": "true"},
    )
    assert 'id="preview-error"' in got.content.decode() and "contact.age" in got.content.decode()
    got = client.post(f"/journeys/steps/{step.pk}/", {**_form(step, subject="{{ account.secret }}"), "action": "save"})
    assert got.status_code == 400 and "account.secret" in got.content.decode()
    step.refresh_from_db()
    assert step.subject == "Hello {{ contact.first_name }}"
    # a contact the user may not read is not used: the made-up sample is
    outsider = contact(small_account(name="West Co", region=book.west), name="Hidden Person")
    got = client.post(
        f"/journeys/steps/{step.pk}/",
        {**_form(step), "action": "preview", "contact": str(outsider.pk)},
        headers={"HX-Request": "true"},
    )
    assert "Hidden Person" not in got.content.decode() and "Alex Example" in got.content.decode()
    got = client.post(
        f"/journeys/steps/{step.pk}/",
        {**_form(step, day="3", subject="Welcome {{ contact.first_name }}"), "action": "save"},
    )
    assert got.status_code == 302
    step.refresh_from_db()
    assert (step.day, step.subject) == (3, "Welcome {{ contact.first_name }}")


def test_account_panel_shows_sends_and_next_step_in_constant_queries(book: Any, client_for: Any) -> None:
    Program.objects.exclude(key="digital-onboarding").delete()
    since = timezone.localdate() - dt.timedelta(days=10)
    account = book.account
    account.customer_since, account.engagement_model = since, "digital"
    account.save(update_fields=["customer_since", "engagement_model"])
    # One contact from the start: the contacts panel's personas prefetch runs only once there is a contact.
    from tamarind.testing.factories import ContactFactory

    ContactFactory(account=account, email="first@customer.example")
    client = client_for(book.tam)
    url = f"/accounts/{account.pk}/"
    before = _queries(client, url)
    body = client.get(url).content.decode()
    assert "Digital journey" in body and "No journey email sent yet" in body
    assert f"Invite your team</strong> (Digital onboarding) on {(since + dt.timedelta(days=14)).isoformat()}" in body
    _sends(Program.objects.get(key="digital-onboarding"), account, 3)
    assert _queries(client, url) == before
    body = client.get(url).content.decode()
    assert "<strong>21</strong> sent · <strong>14</strong> opened · <strong>7</strong> clicked" in body


def test_public_links_refuse_unknown_tokens_and_say_nothing() -> None:
    client = Client()
    got = client.get("/j/u/not-a-token/")
    assert got.status_code == 404 and b"no longer works" in got.content
    assert client.get("/j/c/not-a-token/?u=x").status_code == 404
    got = client.get("/j/o/not-a-token.gif")
    assert got.status_code == 200 and got["Content-Type"] == "image/gif"
    assert client.get("/j/u/" + "x" * 500 + "/").status_code == 404
