"""Webinar pages: the season overview, a session (upload, errors, 413, matching by htmx), the session form, the
account page's panel; query counts constant."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.testing.factories import AccountFactory, ContactFactory
from tamarind.webinars.models import Attendance, Session, UnmatchedAttendee
from tamarind.webinars.tests.factories import START, csv_bytes, make_session

pytestmark = pytest.mark.django_db


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("zoom.csv", data, content_type="text/csv")


def test_upload_then_match_by_htmx(book, client_for):
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    target = ContactFactory(account=book.account, email="bob@customer.example", name="Bob Builder")
    client = client_for(book.manager)
    data = csv_bytes([("ann@customer.example", "Ann", 0, 60, "5"), ("bob@Customer.example.org", "Bob", 0, 20, "")])
    response = client.post(f"/webinars/sessions/{session.pk}/import/", {"report": _upload(data)})
    assert response.status_code == 302
    page = client.get(f"/webinars/sessions/{session.pk}/").content.decode()
    assert "ann@customer.example" in page and "bob@customer.example.org" in page and "1 to match" in page
    row = UnmatchedAttendee.objects.get(session=session)
    response = client.post(
        f"/webinars/unmatched/{row.pk}/match/", {"contact": target.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "matched" in response.content.decode() and "Bob Builder" in response.content.decode()
    assert Attendance.objects.filter(session=session, contact=target, minutes_attended=20).exists()


def test_a_bad_report_lists_line_numbered_errors_and_keeps_the_old(book, client_for):
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    client = client_for(book.admin)
    client.post(
        f"/webinars/sessions/{session.pk}/import/",
        {"report": _upload(csv_bytes([("ann@customer.example", "", 0, 60, "")]))},
    )
    bad = b"Email,Join Time,Leave Time,Mood\nx@y.example,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z,happy\n"
    response = client.post(f"/webinars/sessions/{session.pk}/import/", {"report": _upload(bad)})
    assert response.status_code == 400
    assert 'line 1: unknown column "Mood"' in html.unescape(response.content.decode())
    assert Attendance.objects.filter(session=session).count() == 1


def test_oversized_report_is_413(book, client_for, settings):
    settings.TAMARIND_WEBINAR_REPORT_MAX_BYTES = 100
    session = make_session()
    response = client_for(book.admin).post(
        f"/webinars/sessions/{session.pk}/import/", {"report": _upload(b"x" * 70_000)}
    )
    assert response.status_code == 413
    assert "largest accepted is 100 bytes" in response.content.decode()
    response = client_for(book.admin).post(f"/webinars/sessions/{session.pk}/import/", {"report": _upload(b"x" * 200)})
    assert response.status_code == 413


def test_create_and_edit_a_session(book, client_for):
    client = client_for(book.manager)
    from tamarind.webinars.models import Topic

    topic = Topic.objects.get(key="security-scanning")
    form = {
        "topic": topic.pk,
        "round": "1",
        "title": "Scanning 101",
        "starts_at": "2026-05-01T15:00",
        "ends_at": "2026-05-01T14:00",
        "host": book.tam.pk,
        "recording_url": "ftp://files.example/x",
    }
    response = client.post("/webinars/sessions/new/", form)
    assert response.status_code == 400
    body = response.content.decode()
    assert "end after it starts" in body and "http(s)" in body
    form.update(ends_at="2026-05-01T16:00", recording_url="https://videos.example/scan")
    response = client.post("/webinars/sessions/new/", form)
    assert response.status_code == 302
    session = Session.objects.get(title="Scanning 101")
    assert session.host == book.tam and session.recording_url == "https://videos.example/scan"
    response = client.post(f"/webinars/sessions/{session.pk}/edit/", {**form, "round": "3", "title": "On demand"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.round, session.title) == ("3", "On demand")


def test_season_page_shows_targets_and_sessions(book, client_for):
    make_session(title="Spring CI/CD")
    page = client_for(book.tam).get("/webinars/").content.decode()
    assert "Spring CI/CD" in page and "50%" in page and "80%" in page and "above 4.00" in page
    assert "New session" not in page
    assert "New session" in client_for(book.manager).get("/webinars/").content.decode()


def _seed(book, n: int, session: Session) -> None:
    offset = UnmatchedAttendee.objects.count()
    for i in range(offset, offset + n):
        account = AccountFactory(region=book.east, customer_since=START.date() - dt.timedelta(days=10))
        contact = ContactFactory(account=account)
        Attendance.objects.create(
            session=session,
            contact=contact,
            account=account,
            email=contact.email,
            first_join=START,
            last_leave=START + dt.timedelta(minutes=60),
            minutes_attended=60,
            stayed_to_end=True,
            feedback=5,
        )
        UnmatchedAttendee.objects.create(
            session=session, email=f"u{i}@{i}.example", reason="unknown", first_join=START, last_leave=START
        )
        UnmatchedAttendee.objects.create(session=session, email=f"n{i}@{i}.example", reason="unknown", attended=False)
        no_show = ContactFactory(account=account)
        Attendance.objects.create(
            session=session, contact=no_show, account=account, email=no_show.email, attended=False
        )
        ContactFactory(account=account, email=f"other{i}@{i}.example")


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["admin", "manager", "tam"])
def test_page_query_counts_do_not_grow(book, client_for, who):
    session = make_session()
    client = client_for(getattr(book, who))
    _seed(book, 2, session)
    small = [
        _count(client, u) for u in ("/webinars/", f"/webinars/sessions/{session.pk}/", f"/accounts/{book.account.pk}/")
    ]
    _seed(book, 12, session)
    make_session(title="Another")
    large = [
        _count(client, u) for u in ("/webinars/", f"/webinars/sessions/{session.pk}/", f"/accounts/{book.account.pk}/")
    ]
    assert large == small


def test_account_page_panel(book, client_for):
    session = make_session(title="GitOps for Acme")
    contact = ContactFactory(account=book.account, name="Carla Contact")
    Attendance.objects.create(
        session=session,
        contact=contact,
        account=book.account,
        email=contact.email,
        first_join=START,
        last_leave=START,
        minutes_attended=42,
    )
    page = client_for(book.tam).get(f"/accounts/{book.account.pk}/").content.decode()
    assert "GitOps for Acme" in page and "Carla Contact" in page and "42 min" in page
    with CaptureQueriesContext(connection) as ctx:
        client_for(book.sal).get(f"/accounts/{book.account.pk}/")
    assert sum("webinars_attendance" in q["sql"] for q in ctx.captured_queries) == 1


def test_session_page_shows_registrants_who_did_not_attend(book, client_for, settings):
    settings.TIME_ZONE = "UTC"
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example", name="Ann Admin")
    ContactFactory(account=book.account, email="nora@customer.example", name="Nora No-show")
    data = (
        b"Email,Name,Attended,Join Time,Leave Time,Duration (Minutes),Feedback\n"
        b"ann@customer.example,Ann,Yes,2026-03-10 16:00:00,2026-03-10 17:00:00,60,5\n"
        b"nora@customer.example,Nora,No,--,--,--,\n"
        b"ghost@nowhere.example,Ghost,No,--,--,--,\n"
    )
    client = client_for(book.manager)
    response = client.post(f"/webinars/sessions/{session.pk}/import/", {"report": _upload(data)}, follow=True)
    text = html.unescape(response.content.decode())
    assert "2 registrants matched to contacts (1 did not attend), 1 to match by hand" in text
    assert "Attendance (1 attended, 1 registered but did not attend)" in text
    no_show = Attendance.objects.get(session=session, attended=False)
    assert f'data-no-show="{no_show.contact_id}"' in text and "Nora No-show" in text
    assert "registered, did not attend" in text.split('id="unmatched-table"')[1]
    assert "registering without attending does not count" in text
    bad = b"Email,Attended,Join Time,Leave Time\nann@customer.example,No,2026-03-10 16:00:00,2026-03-10 17:00:00\n"
    response = client.post(f"/webinars/sessions/{session.pk}/import/", {"report": _upload(bad)})
    assert response.status_code == 400
    assert "line 2: attended is No but the row has a join time and a leave time" in html.unescape(
        response.content.decode()
    )
    assert Attendance.objects.filter(session=session).count() == 2
    page = client_for(book.tam).get(f"/accounts/{book.account.pk}/").content.decode()
    assert "Nora No-show" in page and "registered, did not attend" in page
