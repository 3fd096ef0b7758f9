"""Engagement pages: the permission trio, bad input answered 400, and query counts that stay constant as data
grows."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.engagement import services
from tamarind.engagement.models import EngagementModel, IterationAccount, Placement
from tamarind.testing.factories import AccountFactory, UserFactory


def test_models_page_reads_for_everyone_and_edits_for_admins(book, client_for) -> None:  # type: ignore[no-untyped-def]
    assert client_for(book.sa).get("/engagement/").status_code == 200
    assert client_for(book.manager).get("/engagement/models/new/").status_code == 403
    assert client_for(book.manager).post("/engagement/models/high_touch/", {"name": "x"}).status_code == 403
    admin = client_for(book.admin)
    page = admin.get("/engagement/")
    assert b"ARR is greater than 500000" in page.content
    bad = admin.post(
        "/engagement/models/new/",
        {
            "name": "Strategic",
            "criteria": json.dumps({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "1000000"}]}),
        },
    )
    assert bad.status_code == 400 and b"overlap" in bad.content
    assert admin.post("/engagement/models/new/", {"name": "X", "criteria": "{nope"}).status_code == 400
    ok = admin.post(
        "/engagement/models/new/",
        {
            "name": "Strategic",
            "precedence": "5",
            "is_active_present": "1",
            "is_active": "on",
            "criteria": json.dumps({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "1000000"}]}),
            "metrics": ["arr_per_tam"],
        },
    )
    assert ok.status_code == 302
    assert EngagementModel.objects.get(key="strategic").metrics == ["arr_per_tam"]
    assert admin.get("/engagement/models/strategic/").status_code == 200
    assert admin.get("/engagement/models/nope/").status_code == 404


def test_placement_page_trio(book, client_for) -> None:  # type: ignore[no-untyped-def]
    url = f"/engagement/accounts/{book.account.pk}/"
    assert client_for(book.other_tam).get(url).status_code == 404
    assert client_for(book.sal).get(url).status_code == 200
    assert client_for(book.sal).post(url, {"model": "named", "reason": "x"}).status_code == 403
    assert client_for(book.manager).post(url, {"model": "named", "reason": ""}).status_code == 400
    assert client_for(book.manager).post(url, {"model": "named", "reason": "Pilot"}).status_code == 302
    assert Placement.objects.get(account=book.account).reason == "Pilot"
    assert client_for(book.manager).post(url, {"release": "1"}).status_code == 302


@pytest.mark.parametrize(
    "path", ["/engagement/capacity/", "/engagement/whatif/", "/engagement/iterations/", "/engagement/compare/"]
)
def test_leaders_pages_are_for_managers_directors_and_admins(book, client_for, path: str) -> None:  # type: ignore[no-untyped-def]
    for user in (book.admin, book.director, book.manager):
        assert client_for(user).get(path).status_code == 200
    for user in (book.tam, book.sal, book.sa):
        assert client_for(user).get(path).status_code == 403


def test_capacity_and_iteration_writes_are_admins(book, client_for) -> None:  # type: ignore[no-untyped-def]
    assert client_for(book.manager).post("/engagement/capacity/", {"target_arr_per_tam": "1"}).status_code == 403
    assert (
        client_for(book.admin)
        .post("/engagement/capacity/", {"target_arr_per_tam": "-1", "target_p1_share": "0.3"})
        .status_code
        == 400
    )
    assert (
        client_for(book.admin)
        .post("/engagement/capacity/", {"target_arr_per_tam": "3000000", "target_p1_share": "0.3"})
        .status_code
        == 302
    )
    data = {"name": "I1", "starts_on": "2026-01-01", "ends_on": "2026-03-31"}
    assert client_for(book.director).post("/engagement/iterations/", data).status_code == 403
    assert client_for(book.admin).post("/engagement/iterations/", data).status_code == 302
    clash = client_for(book.admin).post("/engagement/iterations/", {**data, "name": "I2"})
    assert clash.status_code == 400 and b"overlap" in clash.content
    assert client_for(book.admin).post("/engagement/iterations/", {**data, "starts_on": "soon"}).status_code == 400


def test_whatif_shows_moves_without_writing(book, client_for) -> None:  # type: ignore[no-untyped-def]
    AccountFactory(region=book.east, tam=book.tam, arr=Decimal("300000"), engagement_model="named")
    draft = {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "250000"}]}
    before = list(EngagementModel.objects.values_list("key", "criteria"))
    page = client_for(book.admin).get("/engagement/whatif/", {"draft_high_touch": json.dumps(draft)})
    assert page.status_code == 200
    result = page.context["result"]
    moves = {(r["from_key"], r["to_key"]): (r["accounts"], r["arr"]) for r in result.move_rows()}
    assert moves[("named", "high_touch")] == (1, Decimal("300000"))
    assert moves[("", "low_touch")] == (2, Decimal("240000"))  # the book's two accounts, not placed yet
    assert list(EngagementModel.objects.values_list("key", "criteria")) == before
    assert not Placement.objects.exists()
    bad = client_for(book.admin).get("/engagement/whatif/", {"draft_high_touch": '{"match": "any"}'})
    assert bad.status_code == 400
    assert client_for(book.admin).get("/engagement/whatif/", {"draft_named": "{"}).status_code == 400


def _grow(book, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        tam = UserFactory(role="tam", region=book.east)
        a = AccountFactory(region=book.east, tam=tam, arr=Decimal(60000 + i * 100000), engagement_model="low_touch")
        services.account_place(actor=book.admin, account=a, model_key="named", reason="grow")


def _count(client, path: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path",
    ["/engagement/", "/engagement/capacity/", "/engagement/whatif/", "/engagement/iterations/", "/engagement/compare/"],
)
def test_query_counts_are_constant(book, client_for, path: str) -> None:  # type: ignore[no-untyped-def]
    services.iteration_create(actor=book.admin, data={"name": "I0", "starts_on": "2020-01-01", "ends_on": "2020-02-01"})
    client = client_for(book.admin)
    _grow(book, 2)
    small = _count(client, path)
    _grow(book, 6)
    services.iteration_create(actor=book.admin, data={"name": "I1", "starts_on": "2021-01-01", "ends_on": "2021-02-01"})
    # One more iteration adds its groups, not queries.
    assert _count(client, path) == small


def test_placement_page_query_count_is_constant(book, client_for, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.manager)
    url = f"/engagement/accounts/{book.account.pk}/"
    services.account_place(actor=book.admin, account=book.account, model_key="named", reason="a")
    small = _count(client, url)
    for i in range(5):
        services.account_place(
            actor=book.admin, account=book.account, model_key="low_touch" if i % 2 else "named", reason=f"r{i}"
        )
    with django_assert_num_queries(small):
        client.get(url)


def test_comparison_is_scoped_to_what_the_user_may_see(book, client_for, api_for) -> None:  # type: ignore[no-untyped-def]
    """A TAM Manager compares their region's accounts only (page and API); directors and admins the whole book."""
    for region, tam, n in ((book.east, book.tam, 3), (book.west, book.other_tam, 2)):
        for _ in range(n):
            account = AccountFactory(region=region, tam=tam, arr=Decimal("100000"))
            services.account_place(
                actor=book.admin, account=account, model_key="named", reason="Pilot", on=dt.date(2025, 12, 1)
            )
    it = services.iteration_create(
        actor=book.admin, data={"name": "I1", "starts_on": "2026-01-01", "ends_on": "2026-03-31"}
    )
    members = IterationAccount.objects.filter(iteration=it)
    east = members.filter(account__region=book.east).count()
    west = members.filter(account__region=book.west).count()
    assert east >= 3 and west >= 2 and east + west == members.count()
    for user, want in (
        (book.manager, east),
        (book.other_manager, west),
        (book.director, east + west),
        (book.admin, east + west),
    ):
        page = client_for(user).get("/engagement/compare/")
        assert page.status_code == 200
        assert page.context["result"].groups[0].accounts == want, user.role
        answer = api_for(user).get("/api/v1/engagement/comparison")
        assert answer.status_code == 200
        assert answer.json()["groups"][0]["accounts"] == want, user.role
