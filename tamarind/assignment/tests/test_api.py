"""The rules API: read for everyone signed in, save and dry-run for admins, the accounts to staff by scope."""

from __future__ import annotations

import pytest

from tamarind.assignment import services
from tamarind.assignment.models import RuleSetVersion
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

DRAFT = {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "100000"}], "note": "API"}


def test_live_rules_read_by_anyone_signed_in(book, api_for):
    body = api_for(book.sal).get("/api/v1/rules/live").json()
    assert body["version"] == 1 and body["live"] is True and body["match"] == "all"
    assert body["described"][0] == "ARR is greater than 50000"
    assert body["conditions"][1] == {"field": "segment", "op": "in", "value": ["enterprise", "mid_market"]}


def test_versions_list_and_detail(book, api_for):
    services.rule_set_save(actor=book.admin, definition={k: v for k, v in DRAFT.items() if k != "note"})
    client = api_for(book.tam)
    assert [v["version"] for v in client.get("/api/v1/rules/").json()] == [2, 1]
    assert client.get("/api/v1/rules/v1").json()["live"] is False
    assert client.get("/api/v1/rules/v99").status_code == 404


def test_save_a_version_admin_only(book, api_for):
    response = api_for(book.admin).post("/api/v1/rules/", DRAFT, content_type="application/json")
    assert response.status_code == 201 and response.json()["version"] == 2
    response = api_for(book.manager).post("/api/v1/rules/", {**DRAFT, "note": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert RuleSetVersion.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "lots"}]}, "conditions.0.value"),
        ({"match": "all", "conditions": [{"field": "nope", "op": "gt", "value": 1}]}, "conditions.0.field"),
        ({"match": "all", "conditions": [{"field": "region", "op": "in", "value": [999999]}]}, "conditions.0.value"),
    ],
)
def test_invalid_definitions_are_422_with_the_place(book, api_for, payload, where):
    response = api_for(book.admin).post("/api/v1/rules/", payload, content_type="application/json")
    assert response.status_code == 422
    assert where in response.json()["errors"]
    assert RuleSetVersion.objects.count() == 1


def test_wrong_types_are_422(book, api_for):
    client = api_for(book.admin)
    for payload in (
        {"match": "most", "conditions": []},
        {"conditions": "x"},
        {"match": "all", "conditions": [], "x": 1},
    ):
        assert client.post("/api/v1/rules/", payload, content_type="application/json").status_code == 422


def test_dry_run_counts_and_ids(book, api_for):
    body = (
        api_for(book.admin)
        .post(
            "/api/v1/rules/dry-run",
            {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "500000"}]},
            content_type="application/json",
        )
        .json()
    )
    assert body["evaluated"] == 2 and body["live_count"] == 2 and body["draft_count"] == 0
    assert sorted(body["lost"]) == sorted([book.account.pk, book.other_account.pk]) and body["gained"] == []


def test_staffing_by_scope_and_constant_queries(book, api_for, django_assert_max_num_queries):
    east = AccountFactory.create_batch(3, region=book.east, tam=None)
    west = AccountFactory.create_batch(2, region=book.west, tam=None)
    services.qualification_refresh(actor=None, account_ids=None, source="test")
    manager = api_for(book.manager)
    assert {r["account_id"] for r in manager.get("/api/v1/rules/staffing").json()["results"]} == {a.pk for a in east}
    director = api_for(book.director).get("/api/v1/rules/staffing").json()
    assert director["count"] == 5 and {r["account_id"] for r in director["results"]} == {a.pk for a in east + west}
    assert api_for(book.tam).get("/api/v1/rules/staffing").status_code == 403
    with django_assert_max_num_queries(10) as few:
        manager.get("/api/v1/rules/staffing")
    more = AccountFactory.create_batch(30, region=book.east, tam=None)
    services.qualification_refresh(actor=None, account_ids=[a.pk for a in more], source="test")
    with django_assert_max_num_queries(len(few.captured_queries)):
        manager.get("/api/v1/rules/staffing")


def test_rule_list_queries_do_not_grow_with_versions(book, api_for, django_assert_max_num_queries):
    client = api_for(book.tam)
    with django_assert_max_num_queries(10) as few:
        client.get("/api/v1/rules/")
    for n in range(20):
        RuleSetVersion.objects.create(version=n + 2, definition={"match": "all", "conditions": []})
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/v1/rules/")
