"""The onboarding REST API: permission trio per route, 422 for bad input (never 500), metrics, query counts."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.onboarding.models import Onboarding, OnboardingTargets
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/onboarding/"
TARGETS = "/api/v1/onboarding/targets"


def detail(o):
    return f"/api/v1/onboarding/{o.pk}"


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def record(book):
    return OnboardingFactory(
        account=book.account, tam=book.tam, onboarding_start=dt.date(2025, 1, 20), first_engagement=dt.date(2025, 2, 1)
    )


# --- list ---------------------------------------------------------------------------------------------------


def test_list_answers_each_users_scope(book, api_for, record):
    OnboardingFactory(account=book.other_account, tam=book.other_tam)
    names = lambda r: [o["account"]["name"] for o in r.json()["results"]]  # noqa: E731
    assert names(api_for(book.director).get(LIST)) == ["Acme Corp", "Globex"]
    assert names(api_for(book.manager).get(LIST)) == ["Acme Corp"]
    assert names(api_for(book.tam).get(LIST)) == ["Acme Corp"]
    assert names(api_for(book.tam2).get(LIST)) == []  # a TAM lands on their own records
    assert names(api_for(book.tam2).get(LIST, {"scope": "all"})) == ["Acme Corp"]
    assert names(api_for(book.other_tam).get(LIST)) == ["Globex"]


def test_list_items_carry_metrics_and_steps(book, api_for, record):
    item = api_for(book.manager).get(LIST).json()["results"][0]
    assert item["tam"]["full_name"] == "Tara Tam" and item["status"] == "not_started"
    engage = item["metrics"][0]
    assert engage == {
        "key": "time_to_engage",
        "label": "Time to engage",
        "state": "met",
        "days": 12,
        "target_days": 14,
        "days_over": -2,
        "error": "",
    }
    assert [s["key"] for s in item["steps"]] == [
        "handoff",
        "welcome_email",
        "kickoff_call",
        "success_plan",
        "cadence_call",
    ]


def test_list_rejects_bad_filters_with_422(book, api_for):
    response = api_for(book.admin).get(LIST, {"state": "soon"})
    assert response.status_code == 422 and "state" in response.json()["errors"]
    assert api_for(book.admin).get(LIST, {"page_size": 0}).status_code == 422


def test_list_requires_a_token(client):
    assert client.get(LIST).status_code == 401


def test_list_query_count_is_constant(book, api_for, record):
    c = api_for(book.admin)
    c.get(TARGETS)  # the token's first use stamps last_used_at; measure steady state
    with CaptureQueriesContext(connection) as small:
        assert c.get(LIST).status_code == 200
    for _ in range(30):
        OnboardingFactory(account=AccountFactory(region=book.east, tam=book.tam), tam=book.tam)
    with CaptureQueriesContext(connection) as large:
        assert c.get(LIST).status_code == 200
    assert len(large) == len(small)


# --- detail and patch ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_detail_allowed(book, api_for, record, who):
    response = api_for(getattr(book, who)).get(detail(record))
    assert response.status_code == 200 and response.json()["account"]["id"] == book.account.pk


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_detail_outsider_404(book, api_for, record, who):
    assert api_for(getattr(book, who)).get(detail(record)).status_code == 404


def test_detail_unknown_and_huge_ids(book, api_for):
    c = api_for(book.admin)
    assert c.get("/api/v1/onboarding/999999").status_code == 404
    assert c.get(f"/api/v1/onboarding/{2**70}").status_code in (404, 422)


def test_detail_shows_a_data_error_not_a_negative_figure(book, api_for, record):
    Onboarding.objects.filter(pk=record.pk).update(first_value=dt.date(2025, 1, 1))
    metric = api_for(book.tam).get(detail(record)).json()["metrics"][1]
    assert metric["state"] == "data_error" and metric["days"] is None and "is before contract start" in metric["error"]


@pytest.mark.parametrize("who", ["admin", "manager", "tam"])
def test_patch_allowed(book, api_for, record, who):
    response = patch(
        api_for(getattr(book, who)), detail(record), {"status": "scheduled", "welcome_email_done_on": "2025-01-22"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
    assert response.json()["steps"][1] == {"key": "welcome_email", "label": "Welcome email", "done_on": "2025-01-22"}


@pytest.mark.parametrize("who", ["director", "tam2", "sal", "sa"])
def test_patch_read_only_403_writes_nothing(book, api_for, record, who):
    client = api_for(getattr(book, who))
    before = AuditEvent.objects.count()
    response = patch(client, detail(record), {"notes": "x"})
    assert response.status_code == 403 and AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_patch_outsider_404(book, api_for, record, who):
    assert patch(api_for(getattr(book, who)), detail(record), {"notes": "x"}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"status": "done"},
        {"experience_score": 6},
        {"experience_score": "great"},
        {"first_value": "2025-02-30"},
        {"notes": None},
        {"tam_id": 3},
        {"delay_reason": "x" * 501},
        {"notes": "a\x00b"},
        {"status": "completed"},  # missing dates, notes and score
        {"status": "on_hold"},  # no reason
    ],
)
def test_patch_bad_input_is_422(book, api_for, record, body):
    response = patch(api_for(book.tam), detail(record), body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]


def test_patch_completes_and_moves_the_account_to_adoption(book, api_for, record):
    book.account.lifecycle_stage = "onboarding"
    book.account.save(update_fields=["lifecycle_stage"])
    body = {
        "status": "completed",
        "infrastructure_ready": "2025-02-05",
        "first_value": "2025-02-10",
        "onboarding_finish": "2025-02-28",
        "notes": "Done",
        "experience_score": 5,
    }
    response = patch(api_for(book.tam), detail(record), body)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    book.account.refresh_from_db()
    assert book.account.lifecycle_stage == "adoption"


def test_patch_query_count_is_constant(book, api_for, record):
    c = api_for(book.tam)
    c.get(TARGETS)
    with CaptureQueriesContext(connection) as small:
        patch(c, detail(record), {"notes": "one"})
    for _ in range(30):
        OnboardingFactory(account=AccountFactory(region=book.east, tam=book.tam), tam=book.tam)
    with CaptureQueriesContext(connection) as large:
        patch(c, detail(record), {"notes": "two"})
    assert len(large) == len(small)


# --- targets ------------------------------------------------------------------------------------------------


def test_everyone_reads_targets(book, api_for):
    assert api_for(book.sal).get(TARGETS).json() == {"engage_days": 14, "first_value_days": 30, "onboard_days": 45}


def test_admin_patches_targets(book, api_for):
    response = patch(api_for(book.admin), TARGETS, {"onboard_days": 60})
    assert response.status_code == 200 and response.json()["onboard_days"] == 60
    assert OnboardingTargets.objects.get().onboard_days == 60


@pytest.mark.parametrize("who", ["director", "manager", "tam"])
def test_non_admins_may_not_patch_targets(book, api_for, who):
    assert patch(api_for(getattr(book, who)), TARGETS, {"onboard_days": 60}).status_code == 403
    assert not OnboardingTargets.objects.exists()


@pytest.mark.parametrize(
    "body", [{"onboard_days": 0}, {"onboard_days": "x"}, {"renewal_days": 3}, {"onboard_days": None}]
)
def test_bad_targets_are_422(book, api_for, body):
    assert patch(api_for(book.admin), TARGETS, body).status_code == 422


def test_openapi_documents_the_routes(book, api_for):
    paths = api_for(book.tam).get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/onboarding/{onboarding_id}" in paths and "/api/v1/onboarding/targets" in paths
