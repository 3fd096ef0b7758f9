"""Health API: an account's health (read), the sentiment (write), the model versions (read; admins write)."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.health.models import HealthModelVersion, Sentiment
from tamarind.health.services import sentiment_set
from tamarind.health.spec import DEFAULT_DEFINITION

pytestmark = pytest.mark.django_db


def test_health_detail_explains_the_score(book, api_for):
    sentiment_set(actor=book.tam, account=book.account, color="yellow", reason="Sponsor left", requires_triage=True)
    response = api_for(book.director).get(f"/api/v1/health/accounts/{book.account.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["color"], body["requires_triage"], body["model_version"]) == (62, "yellow", True, 1)
    assert [m["key"] for m in body["measures"]] == [
        "sentiment",
        "product_usage",
        "success_plan",
        "engagement",
        "support",
    ]
    assert body["measures"][0]["effective_weight"] == "100.00"
    assert body["history"][0]["score"] == 62
    assert body["sentiments"][0]["reason"] == "Sponsor left"


def test_an_unscored_account(book, api_for):
    body = api_for(book.tam).get(f"/api/v1/health/accounts/{book.account.pk}").json()
    assert (body["score"], body["color"], body["measures"]) == (None, None, [])


def test_health_detail_queries_do_not_grow(book, api_for):
    client = api_for(book.tam)
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    client.get(f"/api/v1/health/accounts/{book.account.pk}")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as small:
        client.get(f"/api/v1/health/accounts/{book.account.pk}")
    for i in range(6):
        sentiment_set(actor=book.tam, account=book.account, color=["red", "yellow"][i % 2], reason=f"R{i}")
    with CaptureQueriesContext(connection) as large:
        client.get(f"/api/v1/health/accounts/{book.account.pk}")
    assert len(large) == len(small)


def test_set_sentiment(book, api_for):
    response = api_for(book.tam).post(
        f"/api/v1/health/accounts/{book.account.pk}/sentiment",
        {"color": "red", "reason": "Outage"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["color"] == "red"
    assert Sentiment.objects.get().set_by == book.tam


@pytest.mark.parametrize(
    "payload",
    [{"color": "amber", "reason": "x"}, {"color": "red", "reason": ""}, {"color": "red", "reason": "x", "extra": 1}],
)
def test_bad_sentiment_is_422(book, api_for, payload):
    response = api_for(book.tam).post(
        f"/api/v1/health/accounts/{book.account.pk}/sentiment", payload, content_type="application/json"
    )
    assert response.status_code == 422
    assert not Sentiment.objects.exists()


def test_model_versions_read_and_admin_write(book, api_for):
    assert [v["version"] for v in api_for(book.sal).get("/api/v1/health/model").json()] == [1]
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["measures"]["support"]["weight"] = 0
    response = api_for(book.admin).post(
        "/api/v1/health/model", {"definition": definition, "note": "No support data"}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["version"] == 2
    bad = copy.deepcopy(definition)
    bad["bands"]["yellow"] = 90
    response = api_for(book.admin).post("/api/v1/health/model", {"definition": bad}, content_type="application/json")
    assert response.status_code == 422
    assert HealthModelVersion.objects.count() == 2
