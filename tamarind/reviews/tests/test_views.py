"""Review pages: the permission trio, constant query counts as the book grows, htmx decisions, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.health.models import HealthScore
from tamarind.onboarding.models import Onboarding
from tamarind.reviews import services
from tamarind.reviews.models import ReviewItem, ReviewKind, ReviewOccurrence
from tamarind.reviews.tests.factories import occurrence
from tamarind.testing.factories import AccountFactory, UserFactory


def _grow(book, n: int, tag: str) -> None:
    """More of everything the pages count: accounts of every color, onboardings, TAMs, reviews with items."""
    today = timezone.localdate()
    tam = UserFactory(full_name=f"Extra Tam {tag}", role="tam", region=book.east)
    for i in range(n):
        a = AccountFactory(
            name=f"{tag} {i}",
            region=book.east,
            tam=[book.tam, tam, None][i % 3],
            next_renewal_date=today + dt.timedelta(days=10 + i),
        )
        HealthScore.objects.create(
            account=a, score=40, color=["red", "yellow", "green"][i % 3], stale=i % 2 == 0, model_version=1
        )
        Onboarding.objects.create(account=a, tam=a.tam, onboarding_start=today - dt.timedelta(days=50))
    occ = occurrence(book.east, ReviewKind.TRIAGE_HEALTH, due_on=today - dt.timedelta(days=n))
    services.review_open(actor=book.manager, review=occ)
    occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=tam, due_on=today)


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


PAGES = [
    "/reviews/",
    "/reviews/my-week/",
    "/reviews/dashboard/",
    "/reviews/burndown/",
    "/reviews/figure/?figure=stale",
    "/reviews/figure/?figure=p1_no_call",
    "/reviews/figure/?figure=onboarding_open",
    "/reviews/schedules/",
    "/reviews/?status=completed",
]


@pytest.mark.parametrize("who", ["manager", "director"])
def test_pages_query_count_is_constant_as_the_book_grows(book, client_for, who):
    services.review_schedules_ensure()
    _grow(book, 3, "small")
    client = client_for(getattr(book, who))
    small = {url: _count(client, url) for url in PAGES}
    _grow(book, 12, "large")
    large = {url: _count(client, url) for url in PAGES}
    assert small == large


def test_review_page_query_count_is_constant_as_items_grow(book, client_for):
    client = client_for(book.manager)
    _grow(book, 3, "a")
    occ = ReviewOccurrence.objects.get(kind=ReviewKind.TRIAGE_HEALTH)
    small = _count(client, f"/reviews/{occ.pk}/")
    for i in range(10):
        ReviewItem.objects.create(
            occurrence=occ,
            section="red",
            section_title="Red",
            key=f"k{i}",
            label=f"L{i}",
            account=book.account,
            account_name="Acme Corp",
        )
    assert _count(client, f"/reviews/{occ.pk}/") == small


def test_a_tam_sees_their_own_one_on_one_and_another_tam_gets_404(book, client_for):
    mine = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam)
    assert client_for(book.tam).get(f"/reviews/{mine.pk}/").status_code == 200
    assert client_for(book.tam2).get(f"/reviews/{mine.pk}/").status_code == 404
    assert client_for(book.tam2).post(f"/reviews/{mine.pk}/items/", {"label": "x"}).status_code == 404
    listing = client_for(book.tam2).get("/reviews/?status=all").content.decode()
    assert "Tara Tam" not in listing


def test_the_tam_adds_to_the_agenda_and_writes_their_notes(book, client_for):
    mine = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam)
    client = client_for(book.tam)
    assert client.post(f"/reviews/{mine.pk}/items/", {"label": "Training budget"}).status_code == 302
    assert client.post(f"/reviews/{mine.pk}/notes/", {"subject_notes": "Busy week"}).status_code == 302
    assert client.post(f"/reviews/{mine.pk}/notes/", {"notes": "manager side"}).status_code == 403
    mine.refresh_from_db()
    assert mine.subject_notes == "Busy week" and mine.items.get().label == "Training budget"
    assert client.post(f"/reviews/{mine.pk}/items/", {"label": ""}).status_code == 400


def test_open_decide_with_htmx_and_complete(book, client_for):
    HealthScore.objects.create(account=book.account, score=30, color="red", model_version=1)
    occ = occurrence(book.east)
    client = client_for(book.manager)
    assert client.post(f"/reviews/{occ.pk}/open/").status_code == 302
    refused = client.post(f"/reviews/{occ.pk}/complete/")
    assert refused.status_code == 400 and "carried over" in refused.content.decode()
    for item in ReviewItem.objects.filter(occurrence=occ):
        bad = client.post(f"/reviews/{occ.pk}/items/{item.pk}/", {"decision": "maybe"}, headers={"HX-Request": "true"})
        assert bad.status_code == 400 and "Choose one of" in bad.content.decode()
        ok = client.post(
            f"/reviews/{occ.pk}/items/{item.pk}/", {"decision": "carried_over"}, headers={"HX-Request": "true"}
        )
        assert ok.status_code == 200 and "Carried over" in ok.content.decode()
    assert client.post(f"/reviews/{occ.pk}/complete/").status_code == 302
    occ.refresh_from_db()
    assert occ.status == "completed"
    # Another review's item id answers 404.
    other = occurrence(book.east, ReviewKind.ONBOARDING)
    item = ReviewItem.objects.filter(occurrence=occ).first()
    assert client.post(f"/reviews/{other.pk}/items/{item.pk}/", {"decision": "noted"}).status_code == 404


def test_bad_cockpit_filters_answer_400_not_500(book, client_for):
    client = client_for(book.director)
    for url in (
        "/reviews/dashboard/?arr_min=lots",
        "/reviews/burndown/?region=999999",
        "/reviews/dashboard/?arr_max=1e99",
        "/reviews/figure/?figure=stale&region=x",
    ):
        assert client.get(url).status_code == 400, url
    assert client.get("/reviews/figure/?figure=nope").status_code == 404


def test_schedules_page_refuses_an_invalid_cadence(book, client_for):
    services.review_schedules_ensure()
    from tamarind.reviews.models import ReviewSchedule

    schedule = ReviewSchedule.objects.get(region=book.east, kind=ReviewKind.RENEWAL)
    response = client_for(book.manager).post("/reviews/schedules/", {"schedule": schedule.pk, "cadence": "daily"})
    assert response.status_code == 400 and "Unknown cadence" in response.content.decode()


def test_managers_land_on_my_week_and_tams_on_their_accounts(book, client_for):
    assert client_for(book.manager).get("/").url == "/reviews/my-week/"
    assert client_for(book.tam).get("/").url == "/accounts/"
    assert client_for(book.director).get("/").url == "/accounts/"
