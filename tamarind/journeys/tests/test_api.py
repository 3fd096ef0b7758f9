"""The journeys API: programs and steps written through audited services (an unknown merge field is a 422 naming
it, nothing saved), pause and resume, an account's sends and events in constant queries, bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.journeys.models import Program, Step
from tamarind.journeys.tests.factories import program
from tamarind.journeys.tests.test_views import _sends

pytestmark = pytest.mark.django_db
API = "/api/v1/journeys"
JSON = "application/json"


def test_program_and_step_lifecycle(book: Any, api_for: Any) -> None:
    client = api_for(book.manager)
    got = client.post(
        f"{API}/programs",
        {
            "key": "api-prog",
            "name": "API program",
            "min_arr": "5000",
            "max_arr": "20000",
            "personas": ["admin", "champion"],
        },
        content_type="application/json",
    )
    assert got.status_code == 201, got.content
    body = got.json()
    assert (body["min_arr"], body["max_arr"], body["personas"], body["status"]) == (
        "5000.00",
        "20000.00",
        ["admin", "champion"],
        "active",
    )
    pid = body["id"]
    got = client.post(
        f"{API}/programs/{pid}/steps",
        {"name": "Hi", "day": 0, "subject": "Hi {{ contact.name }}", "body": "Hello {{ contact.favourite_colour }}"},
        content_type="application/json",
    )
    assert got.status_code == 422 and "contact.favourite_colour" in got.content.decode()
    assert not Step.objects.filter(program_id=pid).exists()
    got = client.post(
        f"{API}/programs/{pid}/steps",
        {"name": "NPS", "kind": "nps", "day": 90, "repeat_days": 182, "subject": "Rate us", "body": "{{ survey_url }}"},
        content_type="application/json",
    )
    assert got.status_code == 201 and got.json()["repeat_days"] == 182
    sid = got.json()["id"]
    got = client.patch(f"{API}/steps/{sid}", {"day": 91}, content_type="application/json")
    assert got.status_code == 200 and got.json()["day"] == 91
    got = client.patch(f"{API}/steps/{sid}", {"kind": "email"}, content_type="application/json")
    assert got.status_code == 422 and "survey" in got.content.decode()  # survey_url only in survey steps
    assert client.post(f"{API}/programs/{pid}/pause").json()["status"] == "paused"
    assert client.post(f"{API}/programs/{pid}/resume").json()["status"] == "active"
    got = client.patch(f"{API}/programs/{pid}", {"max_arr": "100"}, content_type="application/json")
    assert got.status_code == 422 and "max_arr" in got.content.decode()
    got = client.patch(
        f"{API}/programs/{pid}", {"min_arr": None, "engagement_models": ["digital"]}, content_type="application/json"
    )
    assert got.status_code == 200 and got.json()["min_arr"] is None
    assert [s["day"] for s in client.get(f"{API}/programs/{pid}/steps").json()] == [91]
    # every six calendar months instead of 182 days (the days cleared in the same patch)
    got = client.patch(f"{API}/steps/{sid}", {"repeat_days": None, "repeat_months": 6}, content_type=JSON)
    assert got.status_code == 200 and (got.json()["repeat_days"], got.json()["repeat_months"]) == (None, 6)
    got = client.patch(f"{API}/steps/{sid}", {"repeat_days": 30}, content_type=JSON)
    assert got.status_code == 422 and "not both" in got.content.decode()
    got = client.post(
        f"{API}/programs/{pid}/steps",
        {"name": "Invite", "kind": "webinar", "day": 14, "subject": "{{ webinar.title }}", "body": "{{ webinar.url }}"},
        content_type=JSON,
    )
    assert got.status_code == 201 and got.json()["kind"] == "webinar"
    assert client.delete(f"{API}/steps/{got.json()['id']}").status_code == 204
    assert client.delete(f"{API}/steps/{got.json()['id']}").status_code == 404
    assert [s["kind"] for s in client.get(f"{API}/programs/{pid}/steps").json()] == ["nps"]
    kinds = set(
        AuditEvent.objects.filter(object_type__startswith="journeys.", source="api").values_list(
            "object_type", "action"
        )
    )
    assert kinds == {
        ("journeys.program", "create"),
        ("journeys.program", "update"),
        ("journeys.step", "create"),
        ("journeys.step", "update"),
        ("journeys.step", "delete"),
    }


def test_bad_input_is_refused(book: Any, api_for: Any) -> None:
    client = api_for(book.admin)
    for payload in (
        {"key": "has space", "name": "X", "engagement_models": ["digital"]},
        {"key": "k", "name": "X"},  # no criterion
        {"key": "k", "name": "X", "engagement_models": ["nonsense"]},
        {"key": "k", "name": "X", "min_arr": "-1", "engagement_models": ["digital"]},
        {"key": "k", "name": "X", "engagement_models": ["digital"], "unknown": 1},
        {"key": "digital-onboarding", "name": "Dup", "engagement_models": ["digital"]},
    ):
        got = client.post(f"{API}/programs", payload, content_type="application/json")
        assert got.status_code == 422, (payload, got.content)
    assert Program.objects.count() == 1
    assert client.get(f"{API}/programs/99999999").status_code == 404
    assert client.get(f"{API}/steps/99999999999999999999999").status_code in (404, 422)  # beyond 64 bits


def test_account_sends_and_events_in_constant_queries(book: Any, api_for: Any) -> None:
    p = program(key="api-sends")
    client = api_for(book.tam)

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    sends, events = f"{API}/accounts/{book.account.pk}/sends", f"{API}/accounts/{book.account.pk}/events"
    client.get(f"{API}/programs")  # the token's first use is stamped once
    _sends(p, book.account, 1)
    small = (count(sends), count(events), count(f"{API}/programs"))
    _sends(p, book.account, 5)
    program(key="more")
    assert (count(sends), count(events), count(f"{API}/programs")) == small
    body = client.get(sends).json()
    assert body["count"] == 12 and body["results"][0]["status"] == "sent"
    assert client.get(events).json()["results"][0]["kind"] == "open"
