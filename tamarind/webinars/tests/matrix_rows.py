"""Permission-matrix rows for the webinar routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target: a session (round 1, the CI/CD topic) and an unmatched attendee of it; the contact to match it to sits
at ``book.account`` (region east). Webinars are read by TAMs, managers, directors and admins (SAL/AE, SA: 403);
sessions are written (created, edited, reports imported) by admins and managers of any region (directors and TAMs:
403). Matching follows account visibility: west's manager gets 404 for the east contact. The API answers the same,
with 401 for no credentials.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tamarind.testing.matrix import Row, only

READ = only(
    {"admin": 200, "director": 200, "manager": 200, "other_manager": 200, "tam": 200, "tam2": 200, "other_tam": 200},
    403,
)


def write(ok: int) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "other_manager": ok}, 403)


def api(cells: dict[str, int]) -> dict[str, int]:
    return {**cells, "anonymous": 401}


START = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)


def webinar(book: Any, t: dict[str, Any]) -> dict[str, Any]:
    if "webinar" not in t:
        from tamarind.contacts.models import Contact
        from tamarind.testing.factories import ContactFactory
        from tamarind.webinars.models import Round, Session, Topic, UnmatchedAttendee

        # Made directly (no audit events), so a denied write's "wrote nothing" check sees only its own effects.
        session = Session.objects.create(
            topic=Topic.objects.get(key="cicd"),
            round=Round.OPERATIONALIZE,
            starts_at=START,
            ends_at=START + dt.timedelta(hours=1),
        )
        # Shared with the contacts rows' matrix contact (emails are unique per account).
        contact = Contact.objects.filter(account=book.account, email="matrix@customer.example").first() or (
            ContactFactory(account=book.account, email="matrix@customer.example")
        )
        unmatched = UnmatchedAttendee.objects.create(
            session=session,
            email="matrix.alias@elsewhere.example",
            reason="unknown",
            intervals=[[START.isoformat(), (START + dt.timedelta(minutes=40)).isoformat()]],
            first_join=START,
            last_leave=START + dt.timedelta(minutes=40),
            minutes_attended=40,
        )
        t["webinar"] = {"session": session, "contact": contact, "unmatched": unmatched}
    return dict(t["webinar"])


def _s(b: Any, t: dict[str, Any]) -> int:
    return int(webinar(b, t)["session"].pk)


def _u(b: Any, t: dict[str, Any]) -> int:
    return int(webinar(b, t)["unmatched"].pk)


def _report() -> SimpleUploadedFile:
    body = "Email,Join Time,Leave Time\nmatrix@customer.example,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z\n"
    return SimpleUploadedFile("report.csv", body.encode(), content_type="text/csv")


def _form(b: Any, t: dict[str, Any]) -> dict[str, Any]:
    return {
        "topic": webinar(b, t)["session"].topic_id,
        "round": "2",
        "title": "Matrix session",
        "starts_at": "2026-04-01T16:00",
        "ends_at": "2026-04-01T17:00",
        "recording_url": "",
    }


def _body(b: Any, t: dict[str, Any]) -> dict[str, Any]:
    return {
        "topic_id": webinar(b, t)["session"].topic_id,
        "round": "2",
        "title": "Matrix API session",
        "starts_at": "2026-04-01T16:00:00Z",
        "ends_at": "2026-04-01T17:00:00Z",
    }


MATCH = only({"admin": 302, "manager": 302, "other_manager": 404}, 403)

ROWS: list[Row] = [
    Row("webinars:season", "get", lambda b, t: "/webinars/", READ),
    Row("webinars:session", "get", lambda b, t: f"/webinars/sessions/{_s(b, t)}/", READ),
    Row("webinars:session_new", "get", lambda b, t: "/webinars/sessions/new/", write(200)),
    Row("webinars:session_new", "post", lambda b, t: "/webinars/sessions/new/", write(302), data=_form, json=False),
    Row("webinars:session_edit", "get", lambda b, t: f"/webinars/sessions/{_s(b, t)}/edit/", write(200)),
    Row(
        "webinars:session_edit",
        "post",
        lambda b, t: f"/webinars/sessions/{_s(b, t)}/edit/",
        write(302),
        data=_form,
        json=False,
    ),
    Row(
        "webinars:session_import",
        "post",
        lambda b, t: f"/webinars/sessions/{_s(b, t)}/import/",
        write(302),
        data=lambda b, t: {"report": _report()},
        json=False,
    ),
    Row(
        "webinars:unmatched_match",
        "post",
        lambda b, t: f"/webinars/unmatched/{_u(b, t)}/match/",
        MATCH,
        data=lambda b, t: {"contact": webinar(b, t)["contact"].pk},
        json=False,
    ),
    Row("api:webinar_topic_list", "get", lambda b, t: "/api/v1/webinars/topics", api(READ), api=True),
    Row("api:webinar_session_list", "get", lambda b, t: "/api/v1/webinars/sessions", api(READ), api=True),
    Row("api:webinar_metrics", "get", lambda b, t: "/api/v1/webinars/metrics", api(READ), api=True),
    Row(
        "api:webinar_session_create",
        "post",
        lambda b, t: "/api/v1/webinars/sessions",
        api(write(201)),
        data=_body,
        api=True,
    ),
    Row("api:webinar_session_detail", "get", lambda b, t: f"/api/v1/webinars/sessions/{_s(b, t)}", api(READ), api=True),
    Row(
        "api:webinar_session_update",
        "put",
        lambda b, t: f"/api/v1/webinars/sessions/{_s(b, t)}",
        api(write(200)),
        data=_body,
        api=True,
    ),
    Row(
        "api:webinar_session_delete",
        "delete",
        lambda b, t: f"/api/v1/webinars/sessions/{_s(b, t)}",
        api(write(204)),
        api=True,
    ),
    Row(
        "api:webinar_attendance_list",
        "get",
        lambda b, t: f"/api/v1/webinars/sessions/{_s(b, t)}/attendance",
        api(READ),
        api=True,
    ),
    Row(
        "api:webinar_unmatched_list",
        "get",
        lambda b, t: f"/api/v1/webinars/sessions/{_s(b, t)}/unmatched",
        api(READ),
        api=True,
    ),
    Row(
        "api:webinar_report_import",
        "post",
        lambda b, t: f"/api/v1/webinars/sessions/{_s(b, t)}/report",
        api(write(200)),
        data=lambda b, t: {"file": _report()},
        json=False,
        api=True,
    ),
    Row(
        "api:webinar_unmatched_match",
        "post",
        lambda b, t: f"/api/v1/webinars/unmatched/{_u(b, t)}/match",
        api({**MATCH, "admin": 201, "manager": 201}),
        data=lambda b, t: {"contact_id": webinar(b, t)["contact"].pk},
        api=True,
    ),
]
