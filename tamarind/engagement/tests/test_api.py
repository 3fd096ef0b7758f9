"""Engagement API: the permission trio, bad input as 422, the what-if read-only, constant query counts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.engagement import services
from tamarind.engagement.models import EngagementModel, Placement
from tamarind.testing.factories import AccountFactory, UserFactory

API = "/api/v1/engagement"


def test_models_read_by_all_written_by_admins(book, api_for) -> None:  # type: ignore[no-untyped-def]
    assert len(api_for(book.sa).get(f"{API}/models").json()) >= 5
    body = {
        "name": "Strategic",
        "precedence": 5,
        "criteria": {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "1000000"}]},
    }
    assert api_for(book.manager).post(f"{API}/models", body, content_type="application/json").status_code == 403
    overlap = {**body, "precedence": None}
    answer = api_for(book.admin).post(f"{API}/models", overlap, content_type="application/json")
    assert answer.status_code == 422 and "overlap" in answer.content.decode()
    created = api_for(book.admin).post(f"{API}/models", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["key"] == "strategic"
    patch = api_for(book.admin).patch(
        f"{API}/models/strategic", {"services": ["Weekly call"]}, content_type="application/json"
    )
    assert patch.status_code == 200 and patch.json()["services"] == ["Weekly call"]
    assert api_for(book.admin).patch(f"{API}/models/nope", {}, content_type="application/json").status_code == 404
    assert (
        api_for(book.admin)
        .post(f"{API}/models", {"name": "x", "colour": 1}, content_type="application/json")
        .status_code
        == 422
    )


def test_account_placement_trio(book, api_for) -> None:  # type: ignore[no-untyped-def]
    url = f"{API}/accounts/{book.account.pk}"
    assert api_for(book.other_tam).get(url).status_code == 404
    assert (
        api_for(book.sal)
        .post(f"{url}/placement", {"model": "named", "reason": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        api_for(book.tam)
        .post(f"{url}/placement", {"model": "named", "reason": ""}, content_type="application/json")
        .status_code
        == 422
    )
    ok = api_for(book.tam).post(
        f"{url}/placement", {"model": "named", "reason": "Pilot"}, content_type="application/json"
    )
    assert ok.status_code == 201 and ok.json()["source"] == "manual"
    today = api_for(book.sal).get(url).json()
    assert today["model"] == "named" and len(today["history"]) == 1
    assert api_for(book.sal).get(url, {"on": "2000-01-01"}).json()["model"] == ""
    assert api_for(book.sal).get(url, {"on": "yesterday"}).status_code == 422


def test_leaders_routes(book, api_for) -> None:  # type: ignore[no-untyped-def]
    for path in ("capacity", "whatif", "iterations", "comparison"):
        assert api_for(book.tam).get(f"{API}/{path}").status_code == 403
        assert api_for(book.director).get(f"{API}/{path}").status_code == 200
    body = {"name": "I1", "starts_on": "2026-01-01", "ends_on": "2026-03-31"}
    assert api_for(book.director).post(f"{API}/iterations", body, content_type="application/json").status_code == 403
    assert api_for(book.admin).post(f"{API}/iterations", body, content_type="application/json").status_code == 201
    clash = api_for(book.admin).post(f"{API}/iterations", {**body, "name": "I2"}, content_type="application/json")
    assert clash.status_code == 422
    comparison = api_for(book.manager).get(f"{API}/comparison").json()
    assert comparison["groups"][0]["model"] == "" and "engage_days" in comparison["groups"][0]["figures"]
    assert comparison["unmeasured"] == []  # success plans and renewals are installed
    assert {"success_plan_coverage", "gross_retention", "net_retention"} <= set(comparison["groups"][0]["figures"])


def test_whatif_is_read_only(book, api_for) -> None:  # type: ignore[no-untyped-def]
    AccountFactory(region=book.east, tam=book.tam, arr=Decimal("300000"), engagement_model="named")
    draft = {"high_touch": {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "250000"}]}}
    before = list(EngagementModel.objects.values_list("key", "criteria"))
    answer = api_for(book.admin).get(f"{API}/whatif", {"drafts": json.dumps(draft)})
    assert answer.status_code == 200
    moves = {(m["from_model"], m["to_model"]): m["accounts"] for m in answer.json()["moves"]}
    assert moves[("named", "high_touch")] == 1
    assert list(EngagementModel.objects.values_list("key", "criteria")) == before and not Placement.objects.exists()
    for bad in ("{", "[]", json.dumps({"nope": {}}), json.dumps({"named": {"match": "any"}})):
        assert api_for(book.admin).get(f"{API}/whatif", {"drafts": bad}).status_code == 422
    assert api_for(book.admin).post(f"{API}/whatif", {}, content_type="application/json").status_code == 405


def _grow(book, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        tam = UserFactory(role="tam", region=book.east)
        a = AccountFactory(region=book.east, tam=tam, arr=Decimal(60000 + i * 100000))
        services.account_place(actor=book.admin, account=a, model_key="named", reason="grow")
        services.account_place(actor=book.admin, account=book.account, model_key="named", reason=f"again {i}")


@pytest.mark.parametrize("path", ["models", "capacity", "whatif", "iterations", "comparison", "accounts/{account}"])
def test_api_query_counts_are_constant(book, api_for, path: str) -> None:  # type: ignore[no-untyped-def]
    services.iteration_create(actor=book.admin, data={"name": "I0", "starts_on": "2020-01-01", "ends_on": "2020-02-01"})
    client = api_for(book.admin)
    url = f"{API}/{path.format(account=book.account.pk)}"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _grow(book, 2)
    count()  # the token's first use is recorded once
    small = count()
    _grow(book, 5)
    services.iteration_create(actor=book.admin, data={"name": "I1", "starts_on": "2021-01-01", "ends_on": "2021-02-01"})
    assert count() == small
