"""GET /api/v1/dashboards/onboarding: the page's figures as JSON, the same policy, 422 on bad filters, constant
query counts, and its place in the OpenAPI schema."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.assignment.models import Qualification
from tamarind.dashboards import selectors
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboards/onboarding"


def days_ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


def record(region, tam, **dates):
    values = {"contract_start": days_ago(60), "onboarding_start": days_ago(40), **dates}
    return OnboardingFactory(account=AccountFactory(region=region, tam=tam), tam=tam, **values)


def qualifying(region):
    account = AccountFactory(region=region, tam=None)
    Qualification.objects.create(account=account, qualifies=True, rule_version=1, qualified_at=timezone.now())
    return account


@pytest.fixture
def data(book):
    late = record(book.east, book.tam, first_engagement=days_ago(20))  # engage 6 over; first value 30 over
    record(book.east, book.tam2, first_engagement=days_ago(38), first_value=days_ago(50))
    unassigned = record(book.east, None)
    record(book.west, book.other_tam)
    to_staff = qualifying(book.east)
    return {"late": late, "unassigned": unassigned, "to_staff": to_staff}


def test_manager_gets_their_regions_figures(book, api_for, data):
    response = api_for(book.manager).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["targets"] == {"time_to_engage": 14, "time_to_first_value": 30, "time_to_onboard": 45}
    assert body["totals"]["in_onboarding"] == 3 and body["totals"]["over_target"] == 2
    assert [r["label"] for r in body["regions"]] == ["AMER East"]
    assert {t["label"] for t in body["tams"]} == {"Tara Tam", "Theo Tam", "Unassigned"}
    engage = next(m for m in body["totals"]["metrics"] if m["key"] == "time_to_engage")
    assert engage == {
        "key": "time_to_engage",
        "label": "Time to engage",
        "target_days": 14,
        "median_days": 11.0,  # 20 and 2 days
        "within_target_share": pytest.approx(1 / 3),  # met 1 of (met 1 + missed 1 + overdue 1: the unassigned one)
        "met": 1,
        "missed": 1,
        "overdue": 1,
        "data_errors": 0,
    }
    assert [r["onboarding_id"] for r in body["unassigned_records"]] == [data["unassigned"].pk]
    assert [a["account_id"] for a in body["unassigned_accounts"]] == [data["to_staff"].pk]
    late = next(r for r in body["over_target"] if r["onboarding_id"] == data["late"].pk)
    assert late["over"] == {"time_to_first_value": 30} and late["days_over"] == 30 and late["tam"] == "Tara Tam"
    assert len(body["first_value_by_month"]) == 12


def test_same_figures_as_the_selectors(book, api_for, data):
    body = api_for(book.director).get(URL, {"period": "12m"}).json()
    regions = selectors.dashboard_regions(book.director)
    filters = selectors.DashboardFilters.from_params(
        {"period": "12m"}, user=book.director, regions=regions, today=timezone.localdate()
    )
    dash = selectors.onboarding_dashboard(book.director, filters, regions=regions)
    assert body["totals"]["in_onboarding"] == dash.totals.open == 4
    assert [m["median_days"] for m in body["totals"]["metrics"]] == [m.median for m in dash.totals.metrics]
    assert [r["label"] for r in body["regions"]] == ["AMER East", "EMEA"]
    assert body["filters"]["period"] == "12m" and body["filters"]["date_from"] is not None


def test_tam_gets_their_own_records(book, api_for, data):
    body = api_for(book.tam).get(URL).json()
    assert body["totals"]["in_onboarding"] == 1 and body["regions"] == []
    assert [t["label"] for t in body["tams"]] == ["Tara Tam"]
    assert body["unassigned_records"] == [] and body["unassigned_accounts"] == []


def test_tams_come_a_page_at_a_time(book, api_for, data):
    from tamarind.people.models import Role
    from tamarind.testing.factories import UserFactory

    for i in range(30):
        record(book.east, UserFactory(full_name=f"Zed Tam {i:02d}", role=Role.TAM, region=book.east))
    c = api_for(book.manager)
    first = c.get(URL).json()
    assert (first["tam_page"], first["tam_pages"], first["tams_total"]) == (1, 2, 33)
    assert [t["label"] for t in first["tams"][:3]] == ["Unassigned", "Tara Tam", "Theo Tam"]
    second = c.get(URL, {"tam_page": 2}).json()
    assert [t["label"] for t in second["tams"]] == [f"Zed Tam {i:02d}" for i in range(22, 30)]
    assert second["totals"] == first["totals"]
    assert c.get(URL, {"tam_page": 0}).status_code == 422


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
        ({"period": "decade"}, "period"),
        ({"from": "2025-02-30"}, "from"),
        ({"from": "2025-03-01", "to": "2025-01-01"}, "to"),
    ],
)
def test_bad_filters_are_422(book, api_for, params, field):
    response = api_for(book.admin).get(URL, params)
    assert response.status_code == 422 and field in response.json()["errors"]


def test_filters_out_of_reach_are_422(book, api_for):
    assert api_for(book.manager).get(URL, {"region": book.west.pk}).status_code == 422
    assert api_for(book.tam).get(URL, {"tam": book.tam2.pk}).status_code == 422
    assert api_for(book.manager).get(URL, {"region": book.east.pk}).status_code == 422  # managers do not filter


def test_query_count_does_not_grow(book, api_for):
    c = api_for(book.admin)
    for _ in range(2):
        record(book.east, book.tam)
        qualifying(book.west)
    c.get(URL)  # the token's first use is stamped once
    with CaptureQueriesContext(connection) as small:
        assert c.get(URL).status_code == 200
    for i in range(40):
        record(book.east if i % 2 else book.west, book.tam if i % 3 else None, first_value=days_ago(i))
        qualifying(book.west)
    with CaptureQueriesContext(connection) as large:
        assert c.get(URL).status_code == 200
    assert len(large) == len(small)


def test_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    op = schema["paths"]["/api/v1/dashboards/onboarding"]["get"]
    assert op["operationId"].endswith("onboarding_dashboard")
    assert {p["name"] for p in op["parameters"]} == {"region", "tam", "period", "from", "to", "tam_page"}
    assert "OnboardingDashboardOut" in schema["components"]["schemas"]
