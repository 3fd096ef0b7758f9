"""The reviews API: the same policy as the pages, decisions and completion, clear 422s, constant query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.health.models import HealthScore
from tamarind.reviews import services
from tamarind.reviews.models import ReviewKind, ReviewSchedule
from tamarind.reviews.tests.factories import occurrence
from tamarind.reviews.tests.test_views import _grow


def test_open_decide_complete_through_the_api(book, api_for):
    HealthScore.objects.create(account=book.account, score=30, color="red", model_version=1)
    occ = occurrence(book.east)
    client = api_for(book.manager)
    opened = client.post(f"/api/v1/reviews/{occ.pk}/open").json()
    assert opened["status"] == "open" and any(i["account_name"] == "Acme Corp" for i in opened["items"])
    refused = client.post(f"/api/v1/reviews/{occ.pk}/complete")
    assert refused.status_code == 422 and "carried over" in refused.json()["detail"]
    for item in opened["items"]:
        answer = client.post(
            f"/api/v1/reviews/{occ.pk}/items/{item['id']}/decision",
            {"decision": "task", "owner_id": book.tam.pk, "note": "Call them"},
            content_type="application/json",
        )
        assert answer.status_code == 200 and answer.json()["task_id"]
    done = client.post(f"/api/v1/reviews/{occ.pk}/complete").json()
    assert done["status"] == "completed"


def test_bad_input_is_a_clear_422(book, api_for):
    services.review_schedules_ensure()
    schedule = ReviewSchedule.objects.get(region=book.east, kind=ReviewKind.ONBOARDING)
    client = api_for(book.manager)
    bad = client.patch(
        f"/api/v1/reviews/schedules/{schedule.pk}", {"cadence": "daily"}, content_type="application/json"
    )
    assert bad.status_code == 422 and "Unknown cadence" in bad.json()["detail"]
    bad_tz = client.patch(
        f"/api/v1/reviews/schedules/{schedule.pk}", {"time_zone": "Nowhere/Land"}, content_type="application/json"
    )
    assert bad_tz.status_code == 422
    occ = occurrence(book.east)
    services.review_open(actor=book.manager, review=occ)
    assert (
        client.post(f"/api/v1/reviews/{occ.pk}/items", {"label": ""}, content_type="application/json").status_code
        == 422
    )
    assert client.get("/api/v1/reviews/dashboard?arr_min=-5").status_code == 422
    assert api_for(book.director).get(f"/api/v1/reviews/dashboard?region={book.west.pk}").status_code == 200
    assert client.get(f"/api/v1/reviews/dashboard?region={book.west.pk}").status_code == 422


def test_a_tam_reads_their_own_one_on_one_only(book, api_for):
    mine = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam)
    assert api_for(book.tam).get(f"/api/v1/reviews/{mine.pk}").status_code == 200
    assert api_for(book.tam2).get(f"/api/v1/reviews/{mine.pk}").status_code == 404
    assert [r["id"] for r in api_for(book.tam2).get("/api/v1/reviews/?status=all").json()] == []


@pytest.mark.parametrize("who", ["manager", "director"])
def test_api_query_counts_are_constant(book, api_for, who):
    client = api_for(getattr(book, who))
    urls = [
        "/api/v1/reviews/?status=all",
        "/api/v1/reviews/dashboard",
        "/api/v1/reviews/burndown",
        "/api/v1/reviews/schedules",
    ]

    def count() -> dict[str, int]:
        client.get("/api/v1/reviews/schedules")  # the token's once-a-minute "last used" touch happens here
        out = {}
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out[url] = len(ctx.captured_queries)
        return out

    services.review_schedules_ensure()
    _grow(book, 3, "small")
    small = count()
    _grow(book, 10, "large")
    assert count() == small
