"""The webinars API's registrations: the attended flag on attendance and unmatched registrants (filterable), the
import summary's no-shows, the metrics' registered / show-up figures; bad input a 4xx; constant queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.testing.factories import AccountFactory, ContactFactory
from tamarind.webinars.models import Attendance
from tamarind.webinars.tests.factories import START, make_session

pytestmark = pytest.mark.django_db
API = "/api/v1/webinars"
REPORT = (
    "Email,Name,Attended,Join Time,Leave Time,Duration (Minutes),Feedback\n"
    "ann@customer.example,Ann,Yes,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z,60,5\n"
    "nora@customer.example,Nora,No,--,--,--,\n"
    "ghost@nowhere.example,Ghost,No,--,--,--,\n"
)


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("zoom.csv", text.encode(), content_type="text/csv")


def _imported(book: Any, api_for: Any) -> tuple[Any, Any]:
    session = make_session()
    account = AccountFactory(region=book.east, customer_since=START.date() - dt.timedelta(days=5))
    ContactFactory(account=account, email="ann@customer.example", name="Ann")
    ContactFactory(account=account, email="nora@customer.example", name="Nora")
    got = api_for(book.manager).post(f"{API}/sessions/{session.pk}/report", {"file": _upload(REPORT)})
    assert got.status_code == 200, got.content
    assert got.json() == {"rows": 3, "attendances": 2, "no_shows": 1, "unmatched": 1, "reapplied": 0, "replaced": 0}
    return session, account


def test_attendance_carries_the_attended_flag_and_filters(book, api_for):
    session, _ = _imported(book, api_for)
    client = api_for(book.tam)
    body = client.get(f"{API}/sessions/{session.pk}/attendance").json()
    rows = {r["email"]: r for r in body["results"]}
    assert body["count"] == 2
    assert rows["ann@customer.example"]["attended"] is True and rows["ann@customer.example"]["minutes_attended"] == 60
    nora = rows["nora@customer.example"]
    assert (nora["attended"], nora["first_join"], nora["last_leave"], nora["minutes_attended"]) == (
        False,
        None,
        None,
        0,
    )
    assert (nora["stayed_to_end"], nora["feedback"]) == (False, None)
    only = client.get(f"{API}/sessions/{session.pk}/attendance", {"attended": "false"}).json()
    assert [r["email"] for r in only["results"]] == ["nora@customer.example"]
    only = client.get(f"{API}/sessions/{session.pk}/attendance", {"attended": "true"}).json()
    assert [r["email"] for r in only["results"]] == ["ann@customer.example"]
    assert client.get(f"{API}/sessions/{session.pk}/attendance", {"attended": "perhaps"}).status_code == 422
    unmatched = client.get(f"{API}/sessions/{session.pk}/unmatched").json()
    assert [(u["email"], u["attended"], u["intervals"], u["first_join"]) for u in unmatched] == [
        ("ghost@nowhere.example", False, [], None)
    ]


def test_matching_an_unmatched_no_show_over_the_api(book, api_for):
    session, account = _imported(book, api_for)
    target = ContactFactory(account=account, email="ghost@customer.example")
    row = session.unmatched.get()
    got = api_for(book.manager).post(
        f"{API}/unmatched/{row.pk}/match", {"contact_id": target.pk}, content_type="application/json"
    )
    assert got.status_code == 201, got.content
    assert (got.json()["attended"], got.json()["first_join"]) == (False, None)


def test_metrics_expose_registered_and_show_up(book, api_for):
    session, _ = _imported(book, api_for)
    cells = api_for(book.admin).get(f"{API}/metrics").json()["cells"]
    cell = next(c for c in cells if c["round"] == session.round and c["topic"]["id"] == session.topic_id)
    assert (cell["net_new_accounts"], cell["registered_accounts"], cell["attended_accounts"]) == (1, 1, 1)
    assert (cell["registrants"], cell["attendees"], cell["no_shows"], cell["show_up_rate"]) == (2, 1, 1, 0.5)
    assert (cell["attendance_rate"], cell["registration_rate"], cell["stayed_rate"]) == (1.0, 1.0, 1.0)


def test_a_bad_combination_is_a_422_with_its_line_and_keeps_the_old(book, api_for):
    session, _ = _imported(book, api_for)
    bad = "Email,Attended,Join Time,Leave Time\nann@customer.example,Yes,,\n"
    got = api_for(book.manager).post(f"{API}/sessions/{session.pk}/report", {"file": _upload(bad)})
    assert got.status_code == 422
    assert "line 2: attended is Yes but the join and leave times are empty" in got.content.decode()
    assert Attendance.objects.filter(session=session).count() == 2


def test_attendance_list_queries_do_not_grow(book, api_for):
    session, account = _imported(book, api_for)
    client = api_for(book.tam)

    def count(params: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{API}/sessions/{session.pk}/attendance", params).status_code == 200
        return len(ctx.captured_queries)

    count({})  # the token's first use is recorded once (a write not repeated)
    small = [count({}), count({"attended": "false"})]
    for i in range(15):
        c = ContactFactory(account=account, email=f"more{i}@customer.example")
        times = {"first_join": START, "last_leave": START + dt.timedelta(minutes=30)} if i % 2 else {}
        Attendance.objects.create(
            session=session, contact=c, account=account, email=c.email, attended=bool(times), **times
        )
    assert [count({}), count({"attended": "false"})] == small
