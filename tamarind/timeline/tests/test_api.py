"""The timeline REST API: permission trio, 422 for bad input, pagination and query counts."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.timeline.models import TimelineEntry
from tamarind.timeline.services import timeline_entry_create

pytestmark = pytest.mark.django_db


def url(account):
    return f"/api/v1/timeline/accounts/{account.pk}"


def post(client, account, body):
    return client.post(url(account), json.dumps(body), content_type="application/json")


def entries(book, n):
    for i in range(n):
        timeline_entry_create(
            actor=book.tam,
            account=book.account,
            data={
                "kind": "note",
                "title": f"Note {i:03d}",
                "occurred_at": timezone.now() - dt.timedelta(days=n - i),
                "internal_attendees": [book.sa.pk],
            },
        )


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_list_allowed_newest_first(book, api_for, who):
    entries(book, 3)
    body = api_for(getattr(book, who)).get(url(book.account)).json()
    assert body["count"] == 3 and [e["title"] for e in body["results"]] == ["Note 002", "Note 001", "Note 000"]
    first = body["results"][0]
    assert first["author"]["full_name"] == "Tara Tam" and first["internal_attendees"][0]["full_name"] == "Sasha Sa"


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_list_outsider_404(book, api_for, who):
    assert api_for(getattr(book, who)).get(url(book.account)).status_code == 404


def test_list_unknown_account_404_and_anonymous_401(book, api_for, client):
    assert api_for(book.admin).get("/api/v1/timeline/accounts/999999").status_code == 404
    assert client.get(url(book.account)).status_code == 401


def test_list_query_count_is_constant(book, api_for):
    c = api_for(book.manager)
    c.get(url(book.account))
    entries(book, 2)
    with CaptureQueriesContext(connection) as small:
        c.get(url(book.account))
    entries(book, 40)
    with CaptureQueriesContext(connection) as large:
        c.get(url(book.account))
    assert len(large) == len(small)


@pytest.mark.parametrize("who", ["admin", "manager", "tam", "sal", "sa"])
def test_create_allowed(book, api_for, who):
    response = post(
        api_for(getattr(book, who)),
        book.account,
        {
            "kind": "meeting",
            "title": "Workshop",
            "occurred_at": "2025-02-01T10:00:00Z",
            "internal_attendees": [book.tam.pk],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Workshop" and response.json()["author"]["id"] == getattr(book, who).pk


@pytest.mark.parametrize(
    ("who", "status"), [("director", 403), ("tam2", 403), ("other_manager", 404), ("other_tam", 404)]
)
def test_create_trio_writes_nothing(book, api_for, who, status):
    client = api_for(getattr(book, who))
    before = AuditEvent.objects.count()
    assert post(client, book.account, {"kind": "note", "title": "x"}).status_code == status
    assert AuditEvent.objects.count() == before and not TimelineEntry.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "system"},
        {"title": "no kind"},
        {"kind": "call", "occurred_at": "yesterday-ish"},
        {"kind": "call", "occurred_at": "2999-01-01"},
        {"kind": "call", "internal_attendees": [999999]},
        {"kind": "call", "internal_attendees": "all"},
        {"kind": "call", "title": "x" * 201},
        {"kind": "call", "author_id": 1},
        {"kind": "call", "notes": "a\x00b"},
    ],
)
def test_create_bad_input_is_422(book, api_for, body):
    response = post(api_for(book.tam), book.account, body)
    assert response.status_code == 422, response.content
    assert not TimelineEntry.objects.exists()


def test_create_a_call_sets_first_engagement(book, api_for):
    record = OnboardingFactory(account=book.account, tam=book.tam, onboarding_start=dt.date(2025, 1, 20))
    body = {"kind": "call", "occurred_at": "2025-01-23", "external_attendees": "Jane (CIO)"}
    assert post(api_for(book.tam), book.account, body).status_code == 201
    record.refresh_from_db()
    assert record.first_engagement == dt.date(2025, 1, 23)
