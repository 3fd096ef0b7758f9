"""GET /api/v1/dashboards/health: the page's figures as JSON, the same policy, 422 on bad filters, constant query
counts, and its place in the OpenAPI schema."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.dashboards import indicators
from tamarind.dashboards.tests.test_health_dashboard import grow, review, scored
from tamarind.health.models import HealthScore

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboards/health"


def test_manager_gets_their_region(book, api_for):
    red = scored(book.east, book.tam, "red", 20, arr=700, drag="sentiment")
    review(red, 120, color="red")
    HealthScore.objects.filter(account=red).update(stale=True)  # as the recompute flags a 120-day-old review
    scored(book.west, book.other_tam, "red", 20)
    body = api_for(book.manager).get(URL).json()
    assert body["totals"]["colors"]["red"] == {"accounts": 1, "arr": "700.00"}
    assert [r["account_id"] for r in body["red"]] == [red.pk]
    assert body["red"][0]["drag"] == "sentiment" and body["red"][0]["sentiment_age_days"] == 120
    assert body["red"][0]["stale"] is True and body["stale_count"] == 1
    assert {line["key"] for line in body["mix"]["region"]} == {f"region-{book.east.pk}"}
    assert body["measures"][0]["key"] == "sentiment"
    assert body["indicators"]["rows"][0]["account_id"] == red.pk
    assert all({"key", "label", "why"} <= set(f) for row in body["indicators"]["rows"] for f in row["fired"])


def test_tam_gets_their_own_accounts(book, api_for):
    mine = scored(book.east, book.tam, "yellow", 60)
    scored(book.east, book.tam2, "yellow", 60)
    body = api_for(book.tam).get(URL).json()
    assert [r["account_id"] for r in body["yellow"]] == [mine.pk]


def test_permission_trio(book, api_for, client):
    assert api_for(book.admin).get(URL).status_code == 200
    for user in (book.sal, book.sa):
        response = api_for(user).get(URL)
        assert response.status_code == 403 and "detail" in response.json()
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    "params, field",
    [
        ({"region": "east"}, "region"),
        ({"tam": "-1"}, "tam"),
        ({"segment": "huge"}, "segment"),
        ({"page": "0"}, "page"),
        ({"stale_page": "x"}, "stale_page"),
        ({"tab": "everything"}, "tab"),
        ({"indicator": "gremlins"}, "indicator"),
    ],
)
def test_bad_filters_are_422(book, api_for, params, field):
    response = api_for(book.admin).get(URL, params)
    assert response.status_code == 422 and field in response.json()["errors"]


def test_filters_out_of_reach_are_422(book, api_for):
    assert api_for(book.manager).get(URL, {"region": book.west.pk}).status_code == 422
    assert api_for(book.tam).get(URL, {"tam": book.tam2.pk}).status_code == 422


def test_query_count_does_not_grow(book, api_for):
    c = api_for(book.admin)
    grow(book, 6)  # every list holds an account (an empty page runs no query)
    c.get(URL)  # the token's first use is stamped once
    with CaptureQueriesContext(connection) as small:
        assert c.get(URL).status_code == 200
    grow(book, 40)
    with CaptureQueriesContext(connection) as large:
        assert c.get(URL).status_code == 200
    assert len(large) == len(small)


def test_indicator_totals_and_one_indicator_s_accounts(book, api_for):
    from tamarind.dashboards.tests.test_indicator_sql import seed_book

    seed_book(book, 11, timezone.now(), count=30)
    c = api_for(book.manager)
    body = c.get(URL).json()
    totals = {t["key"]: t for t in body["indicator_totals"]}
    assert list(totals)[-1] == "any" and len(totals) == len(indicators.INDICATORS) + 1
    assert totals["any"]["accounts"] >= max(t["accounts"] for t in totals.values())
    key = max((k for k in totals if k != "any"), key=lambda k: totals[k]["accounts"])
    cut = c.get(URL, {"indicator": key}).json()
    assert cut["filters"]["indicator"] == key and cut["indicators"]["indicator"] == key
    assert cut["indicators"]["accounts"] == totals[key]["accounts"] > 0
    assert all(key in {f["key"] for f in row["fired"]} for row in cut["indicators"]["rows"])


def test_query_count_does_not_grow_with_the_indicators_facts(book, api_for):
    from tamarind.dashboards.tests.test_indicator_sql import seed_book

    c = api_for(book.admin)
    grow(book, 6)  # every list holds an account (an empty page runs no query)
    seed_book(book, 7, timezone.now(), count=3, prefix="s")
    c.get(URL)  # the token's first use is stamped once
    with CaptureQueriesContext(connection) as small:
        assert c.get(URL, {"indicator": "no_call"}).status_code == 200
    seed_book(book, 8, timezone.now(), count=40, prefix="l")
    with CaptureQueriesContext(connection) as large:
        assert c.get(URL, {"indicator": "no_call"}).status_code == 200
    assert len(large) == len(small)


def test_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    op = schema["paths"]["/api/v1/dashboards/health"]["get"]
    assert op["operationId"].endswith("health_dashboard")
    assert {p["name"] for p in op["parameters"]} == {
        "region",
        "tam",
        "segment",
        "indicator",
        "page",
        "red_page",
        "yellow_page",
        "stale_page",
        "tab",
    }
    assert "HealthDashboardOut" in schema["components"]["schemas"]


def test_every_list_is_paged_with_its_count_and_the_totals_say_what_they_leave_out(book, api_for):
    from tamarind.accounts.models import LifecycleStage
    from tamarind.dashboards.health_selectors import LIST_PAGE
    from tamarind.testing.factories import AccountFactory

    reds = [scored(book.east, book.tam, "red", 10 + i) for i in range(LIST_PAGE + 2)]
    AccountFactory(region=book.east, tam=book.tam, lifecycle_stage=LifecycleStage.WILL_CHURN)
    c = api_for(book.manager)
    first = c.get(URL).json()
    assert first["red_page"] == {"page": 1, "pages": 2, "accounts": LIST_PAGE + 2}
    assert [r["account_id"] for r in first["red"]] == [a.pk for a in reds[:LIST_PAGE]]
    second = c.get(URL, {"red_page": 2}).json()
    assert [r["account_id"] for r in second["red"]] == [a.pk for a in reds[LIST_PAGE:]]
    assert second["filters"]["red_page"] == 2 and second["yellow_page"]["accounts"] == 0
    assert first["left_out"] == {"will_churn": 1}
    assert first["totals"]["accounts"] == LIST_PAGE + 2 + 1  # and book.account


def test_the_trend_comes_from_the_snapshots(book, api_for):
    import datetime as dt

    from tamarind.health.models import HealthMixSnapshot, SnapshotLevel

    day = timezone.localdate() - dt.timedelta(days=2)
    HealthMixSnapshot.objects.create(day=day, level=SnapshotLevel.REGION, region_id=book.east.pk, red=3, red_arr=12)
    HealthMixSnapshot.objects.create(day=day, level=SnapshotLevel.REGION, region_id=book.west.pk, red=5)
    body = api_for(book.manager).get(URL).json()
    assert body["trend"] == [
        {
            "day": day.isoformat(),
            "accounts": {"green": 0, "yellow": 0, "red": 3, "none": 0},
            "arr": {"green": "0.00", "yellow": "0.00", "red": "12.00", "none": "0.00"},
            "stale": 0,
        }
    ]


@pytest.mark.parametrize(
    "tab, present",
    [
        ("overview", {"totals", "left_out", "mix", "trend", "stale_count", "never_reviewed_count"}),
        ("lists", {"red", "red_page", "yellow", "yellow_page"}),
        ("stale", {"stale", "stale_page"}),
        ("measures", {"measures"}),
        ("indicators", {"indicator_totals", "indicators"}),
    ],
)
def test_one_tab_s_figures_as_the_page_shows_them(book, api_for, tab, present):
    """``tab`` answers one tab's figures (what the page's tab shows, at that tab's cost); the rest is null. Its
    figures are those of the whole answer."""
    grow(book, 6)
    c = api_for(book.manager)
    whole = c.get(URL).json()
    with CaptureQueriesContext(connection) as one_tab:
        part = c.get(URL, {"tab": tab}).json()
    with CaptureQueriesContext(connection) as every_tab:
        c.get(URL)
    sections = {
        "totals", "left_out", "mix", "trend", "stale_count", "never_reviewed_count", "red", "red_page", "yellow",
        "yellow_page", "stale", "stale_page", "measures", "indicator_totals", "indicators",
    }  # fmt: skip
    assert {k for k in sections if part[k] is not None} == present
    assert all(part[k] == whole[k] for k in present) and part["filters"]["tab"] == tab
    assert len(one_tab) < len(every_tab)
