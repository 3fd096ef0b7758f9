"""Timeline pages and the account page's panels: the permission trio, the htmx quick entry, query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.timeline.models import TimelineEntry
from tamarind.timeline.services import timeline_entry_create

pytestmark = pytest.mark.django_db


def create_url(account):
    return reverse("timeline:create", args=[account.pk])


def page_url(account):
    return reverse("timeline:account", args=[account.pk])


def account_url(account):
    return reverse("accounts:detail", args=[account.pk])


def entries(book, n, **data):
    start = timezone.now() - dt.timedelta(days=n + 1)
    for i in range(n):
        timeline_entry_create(
            actor=book.tam,
            account=book.account,
            data={
                "kind": "call",
                "title": f"Call {i:03d}",
                "occurred_at": start + dt.timedelta(days=i),
                "internal_attendees": [book.sal.pk, book.tam.pk],
                **data,
            },
        )


# --- the account page ---------------------------------------------------------------------------------------


def test_account_page_shows_the_timeline_newest_first_and_the_quick_entry(book, client_for):
    entries(book, 3)
    body = client_for(book.tam).get(account_url(book.account)).content.decode()
    assert body.index("Call 002") < body.index("Call 001") < body.index("Call 000")
    assert 'id="timeline"' in body and 'class="timeline-quick"' in body
    assert "Sam Sal" in body  # an internal attendee


def test_readers_who_may_not_log_see_no_quick_entry(book, client_for):
    body = client_for(book.director).get(account_url(book.account)).content.decode()
    assert 'id="timeline"' in body and 'class="timeline-quick"' not in body


def test_account_page_shows_the_onboarding_panel(book, client_for):
    body = client_for(book.sal).get(account_url(book.account)).content.decode()
    assert 'id="onboarding-panel"' in body and "No onboarding record" in body
    record = OnboardingFactory(account=book.account, tam=book.tam)
    body = client_for(book.sal).get(account_url(book.account)).content.decode()
    assert reverse("onboarding:detail", args=[record.pk]) in body and "Not started" in body


def test_account_page_prefers_the_open_onboarding(book, client_for):
    from tamarind.onboarding.tests.factories import complete_values

    OnboardingFactory(account=book.account, tam=book.tam, status="completed", **complete_values())
    current = OnboardingFactory(account=book.account, tam=book.tam2)
    body = client_for(book.manager).get(account_url(book.account)).content.decode()
    assert reverse("onboarding:detail", args=[current.pk]) in body


def test_account_page_query_count_is_constant_with_onboarding_and_timeline(book, client_for):
    OnboardingFactory(account=book.account, tam=book.tam)
    entries(book, 2)
    c = client_for(book.manager)
    with CaptureQueriesContext(connection) as small:
        assert c.get(account_url(book.account)).status_code == 200
    entries(book, 40)
    with CaptureQueriesContext(connection) as large:
        assert c.get(account_url(book.account)).status_code == 200
    assert len(large) == len(small)


# --- quick entry --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "manager", "tam", "sal", "sa"])
def test_quick_entry_with_htmx_answers_the_panel(book, client_for, who):
    response = client_for(getattr(book, who)).post(
        create_url(book.account),
        {"kind": "meeting", "title": "QBR prep", "external_attendees": "", "notes": "Agenda"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="timeline"' in body and "QBR prep" in body and 'id="timeline-saved"' in body
    assert TimelineEntry.objects.get().author == getattr(book, who)


@pytest.mark.parametrize(
    ("who", "status"), [("director", 403), ("tam2", 403), ("other_manager", 404), ("other_tam", 404)]
)
def test_quick_entry_trio(book, client_for, who, status):
    client = client_for(getattr(book, who))
    before = AuditEvent.objects.count()
    response = client.post(create_url(book.account), {"kind": "note", "title": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == status
    assert AuditEvent.objects.count() == before and not TimelineEntry.objects.exists()


def test_quick_entry_requires_login(client, book):
    response = client.post(create_url(book.account), {"kind": "note"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_quick_entry_without_htmx_redirects_to_the_account(book, client_for):
    response = client_for(book.tam).post(create_url(book.account), {"kind": "note", "title": "Plain"})
    assert response.status_code == 302 and response["Location"] == account_url(book.account)


def test_a_kickoff_call_updates_the_onboarding_panel_out_of_band(book, client_for):
    record = OnboardingFactory(account=book.account, tam=book.tam, onboarding_start=timezone.localdate())
    response = client_for(book.tam).post(
        create_url(book.account),
        {"kind": "call", "title": "Kickoff", "external_attendees": "Jane (CIO)", "internal_attendees": [book.sal.pk]},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'id="onboarding-panel" hx-swap-oob="true"' in body
    record.refresh_from_db()
    assert record.first_engagement == timezone.localdate() and record.status == "in_progress"
    assert list(TimelineEntry.objects.get().internal_attendees.all()) == [book.sal]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "system", "title": "x"},
        {"kind": "call", "occurred_at": "not a time"},
        {"kind": "call", "occurred_at": "2999-01-01T10:00"},
        {"kind": "call", "internal_attendees": ["999999"]},  # not one of the offered people
        {"kind": "call", "title": "x" * 201},
    ],
)
def test_quick_entry_bad_input_is_400(book, client_for, data):
    response = client_for(book.tam).post(create_url(book.account), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and 'class="errorlist"' in response.content.decode()
    assert not TimelineEntry.objects.exists()


def test_quick_entry_bad_input_without_htmx_renders_the_timeline_page(book, client_for):
    response = client_for(book.tam).post(create_url(book.account), {"kind": "call", "occurred_at": "2999-01-01T10:00"})
    assert response.status_code == 400 and "Timeline of Acme Corp" in response.content.decode()


def test_quick_entry_query_count_is_constant(book, client_for):
    OnboardingFactory(account=book.account, tam=book.tam)
    c = client_for(book.tam)
    data = {"kind": "call", "title": "Sync", "external_attendees": "Jane", "internal_attendees": [book.sal.pk]}
    c.post(create_url(book.account), data, HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as small:
        c.post(create_url(book.account), data, HTTP_HX_REQUEST="true")
    entries(book, 40)
    with CaptureQueriesContext(connection) as large:
        c.post(create_url(book.account), data, HTTP_HX_REQUEST="true")
    assert len(large) == len(small)


# --- the whole timeline -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_timeline_page_allowed(book, client_for, who):
    entries(book, 1)
    response = client_for(getattr(book, who)).get(page_url(book.account))
    assert response.status_code == 200 and "Call 000" in response.content.decode()


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_timeline_page_outsider_404(book, client_for, who):
    assert client_for(getattr(book, who)).get(page_url(book.account)).status_code == 404


def test_timeline_page_paginates_and_query_count_is_constant(book, client_for):
    entries(book, 3)
    c = client_for(book.manager)
    with CaptureQueriesContext(connection) as small:
        c.get(page_url(book.account))
    entries(book, 60)
    with CaptureQueriesContext(connection) as large:
        body = c.get(page_url(book.account)).content.decode()
    assert len(large) == len(small)
    assert "Page 1 of 2" in body and body.count('class="timeline-entry ') == 50
    older = c.get(page_url(book.account), {"page": 2}).content.decode()
    assert older.count('class="timeline-entry ') == 13


def test_no_onboarding_means_no_engagement(book, client_for):
    client_for(book.tam).post(
        create_url(book.account), {"kind": "call", "external_attendees": "Jane"}, HTTP_HX_REQUEST="true"
    )
    assert not Onboarding.objects.exists()
