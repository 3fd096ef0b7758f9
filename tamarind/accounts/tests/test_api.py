"""The accounts REST API: permission trio per route, denied writes leave nothing, bad input is 422 (never 500),
filters and pagination, and query counts that do not grow with the book."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.accounts.models import Account, TamAssignment
from tamarind.audit.models import AuditEvent
from tamarind.testing.factories import AccountFactory, tier

pytestmark = pytest.mark.django_db

LIST = "/api/v1/accounts/"


def detail(account):
    return f"/api/v1/accounts/{account.pk}"


def history(account):
    return f"/api/v1/accounts/{account.pk}/history"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def names(response):
    return [a["name"] for a in response.json()["results"]]


def stored(account):
    """Every audited field as stored, to show a denied request changed nothing."""
    return Account.objects.filter(pk=account.pk).values().get()


def new_account(book, **overrides):
    body = {"crm_id": "CRM-NEW-1", "name": "Initech", "region_id": book.east.pk, "segment": "enterprise"}
    return {**body, **overrides}


# --- list ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", ["Acme Corp", "Globex"]),
        ("director", ["Acme Corp", "Globex"]),
        ("manager", ["Acme Corp"]),
        ("other_manager", ["Globex"]),
        ("tam2", ["Acme Corp"]),
        ("sal", ["Acme Corp"]),
        ("other_tam", ["Globex"]),
    ],
)
def test_list_answers_each_users_scope(book, api_for, who, expected):
    response = api_for(getattr(book, who)).get(LIST)
    assert response.status_code == 200
    assert names(response) == expected
    assert response.json()["count"] == len(expected)


def test_list_items_carry_the_detail_fields(book, api_for):
    item = api_for(book.manager).get(LIST).json()["results"][0]
    assert item["arr"] == "120000.00"
    assert item["tam"] == {"id": book.tam.pk, "full_name": "Tara Tam", "email": "tam@example.com"}


def test_list_filters(book, api_for):
    AccountFactory(name="Small Co", region=book.east, arr=Decimal("9000"), segment="smb", tam=None, priority=4)
    AccountFactory(name="Big Co", region=book.east, arr=Decimal("900000"), product_tier=tier("Gold"), tam=book.tam2)
    c = api_for(book.admin)
    assert names(c.get(LIST, {"arr_min": "100000", "sort": "-arr"})) == [
        "Big Co",
        "Globex",
        "Acme Corp",
    ]  # ties: newest first
    assert names(c.get(LIST, {"arr_max": "10000"})) == ["Small Co"]
    assert names(c.get(LIST, {"tam": "none"})) == ["Small Co"]
    assert names(c.get(LIST, {"tam": f"none,{book.other_tam.pk}"})) == ["Globex", "Small Co"]
    assert names(c.get(LIST, {"tam": book.tam.pk})) == ["Acme Corp"]
    # A tier filter matches the rung: Ultimate finds the Gold account.
    assert names(c.get(LIST, {"tier": tier("Ultimate").pk})) == ["Big Co"]
    assert names(c.get(LIST, {"q": "small"})) == ["Small Co"]
    assert names(c.get(LIST, {"q": book.account.crm_id})) == ["Acme Corp"]
    assert names(c.get(LIST, {"segment": "smb"})) == ["Small Co"]
    assert names(c.get(LIST, {"region": book.west.pk})) == ["Globex"]
    assert names(c.get(f"{LIST}?region={book.west.pk}&region={book.east.pk}&sort=-name")) == [
        "Small Co",
        "Globex",
        "Big Co",
        "Acme Corp",
    ]
    assert names(c.get(LIST, {"priority": "4"})) == ["Small Co"]


def _scored(account, color, score):
    from tamarind.health.models import HealthScore

    HealthScore.objects.create(account=account, score=score, color=color, model_version=1)


def test_list_filters_by_health_and_renewal_and_carries_the_health_color(book, api_for):
    _scored(book.account, "red", 30)
    _scored(book.other_account, "green", 90)
    Account.objects.filter(pk=book.account.pk).update(next_renewal_date=dt.date(2027, 3, 1))
    Account.objects.filter(pk=book.other_account.pk).update(next_renewal_date=dt.date(2027, 9, 1))
    AccountFactory(name="New Co", region=book.east, next_renewal_date=None)
    c = api_for(book.admin)
    assert names(c.get(LIST, {"health": "red"})) == ["Acme Corp"]
    assert names(c.get(LIST, {"health": "green,none"})) == ["Globex", "New Co"]
    assert names(c.get(LIST, {"renewal_from": "2027-03-01", "renewal_to": "2027-08-31"})) == ["Acme Corp"]
    assert names(c.get(LIST, {"renewal_from": "0001-01-01", "renewal_to": "9999-12-31"})) == ["Acme Corp", "Globex"]
    colors = {a["name"]: a["health"] for a in c.get(LIST).json()["results"]}
    assert colors == {"Acme Corp": "red", "Globex": "green", "New Co": None}
    assert c.get(detail(book.account)).json()["health"] == "red"


def test_list_scope_mine_is_the_accounts_the_caller_owns_as_tam(book, api_for):
    AccountFactory(name="Colleague Co", region=book.east, tam=book.tam2)
    assert names(api_for(book.tam).get(LIST)) == ["Acme Corp", "Colleague Co"]  # the API lists all by default
    assert names(api_for(book.tam).get(LIST, {"scope": "mine"})) == ["Acme Corp"]
    assert names(api_for(book.tam2).get(LIST, {"scope": "mine"})) == ["Colleague Co"]


def test_list_bad_health_value_names_the_allowed_ones(book, api_for):
    response = api_for(book.admin).get(LIST, {"health": "amber"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"health": ["health must be one of green, yellow, red, none, got 'amber'."]}


def test_filters_never_widen_the_scope(book, api_for):
    response = api_for(book.manager).get(LIST, {"region": book.west.pk})
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"segment": "huge"}, "segment"),
        ({"arr_min": "lots"}, "arr_min"),
        ({"arr_max": "NaN"}, "arr_max"),
        ({"region": "east"}, "region"),
        ({"region": "9" * 30}, "region"),
        ({"tam": "someone"}, "tam"),
        ({"priority": "high"}, "priority"),
        ({"sort": "nope"}, "sort"),
        ({"health": "purple"}, "health"),
        ({"health": "red,blue"}, "health"),
        ({"renewal_from": "soon"}, "renewal_from"),
        ({"renewal_to": "2027-13-01"}, "renewal_to"),
        ({"renewal_from": "2027-02-01", "renewal_to": "2027-01-01"}, "renewal_to"),
        ({"scope": "everyone"}, "scope"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_list_bad_parameters_are_422_naming_the_parameter(book, api_for, params, field):
    response = api_for(book.admin).get(LIST, params)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/json")
    assert field in response.json()["detail"]


@pytest.mark.parametrize("params", [{"arr_min": "1e400"}, {"arr_max": "-1e400"}, {"q": "%' OR 1=1"}])
def test_list_odd_but_valid_parameters_do_not_fail(book, api_for, params):
    assert api_for(book.admin).get(LIST, params).status_code == 200


def test_list_refuses_nul_in_a_parameter(book, api_for):
    response = api_for(book.admin).get(LIST, {"q": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["detail"] == "q: Must not contain NUL characters."


def test_pagination(book, api_for):
    AccountFactory.create_batch(5, region=book.east)
    c = api_for(book.admin)
    first = c.get(LIST, {"page_size": 3}).json()
    assert (first["count"], first["page"], first["page_size"], len(first["results"])) == (7, 1, 3, 3)
    third = c.get(LIST, {"page_size": 3, "page": 3}).json()
    assert len(third["results"]) == 1
    everyone = [a["id"] for p in (1, 2, 3) for a in c.get(LIST, {"page_size": 3, "page": p}).json()["results"]]
    assert sorted(everyone) == sorted(Account.objects.values_list("pk", flat=True))
    past_the_end = c.get(LIST, {"page_size": 3, "page": 10**12}).json()
    assert past_the_end["results"] == [] and past_the_end["count"] == 7
    assert c.get(LIST).json()["page_size"] == 50


def _grow_book(book, total):
    """Bring the book to ``total`` accounts, every owner and relation set, in bulk."""
    missing = total - Account.objects.count()
    gold = tier("Gold")
    Account.objects.bulk_create(
        AccountFactory.build(
            region=book.east, tam=book.tam2, sal=book.sal, sa=book.sa, parent=book.account, product_tier=gold
        )
        for _ in range(missing)
    )


def _count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_list_query_count_does_not_grow_with_the_book(book, api_for, django_assert_num_queries, who):
    client = api_for(getattr(book, who))
    client.get(LIST)  # the token's first use stamps last_used_at; measure steady state
    params = {"page_size": 500, "tier": tier("Gold").pk, "health": "none", "renewal_from": "2000-01-01"}
    _grow_book(book, 10)
    small = _count_queries(client, LIST, **params)
    _grow_book(book, 500)
    with django_assert_num_queries(small):
        response = client.get(LIST, params)
    assert len(response.json()["results"]) >= 490


@pytest.mark.parametrize("route", [detail, history])
def test_detail_and_history_query_count_does_not_grow(book, api_for, django_assert_num_queries, route):
    client = api_for(book.manager)
    client.get(LIST)
    patch(api_for(book.manager), detail(book.account), {"tam_id": book.tam2.pk, "priority": 2})
    _grow_book(book, 10)
    small = _count_queries(client, route(book.account))
    _grow_book(book, 500)
    with django_assert_num_queries(small):
        client.get(route(book.account))


# --- detail -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_detail_allowed(book, api_for, who):
    response = api_for(getattr(book, who)).get(detail(book.account))
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Corp"


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_detail_outsider_gets_404(book, api_for, who):
    response = api_for(getattr(book, who)).get(detail(book.account))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such account."}


@pytest.mark.parametrize("path", ["/api/v1/accounts/999999", f"/api/v1/accounts/{10**30}"])
def test_detail_unknown_id_is_404(book, api_for, path):
    assert api_for(book.admin).get(path).status_code == 404


def test_detail_non_numeric_id_is_422(book, api_for):
    response = api_for(book.admin).get("/api/v1/accounts/acme")
    assert response.status_code == 422 and "account_id" in response.json()["detail"]


def test_detail_has_every_account_field(book, api_for):
    child = AccountFactory(
        name="Acme Labs",
        crm_id="CRM-LABS",
        region=book.east,
        parent=book.account,
        arr=Decimal("1234.5"),
        currency="EUR",
        product_tier=tier("Gold"),
        licenses=40,
        priority=2,
        engagement_model="low_touch",
        tam=book.tam,
        sal=book.sal,
        sa=None,
        customer_since=dt.date(2024, 3, 1),
        next_renewal_date=dt.date(2026, 3, 1),
        lifecycle_stage="onboarding",
        collaboration_url="https://chat.example.com/acme-labs",
    )
    body = api_for(book.manager).get(detail(child)).json()
    assert body == {
        "id": child.pk,
        "crm_id": "CRM-LABS",
        "name": "Acme Labs",
        "parent": {"id": book.account.pk, "name": "Acme Corp"},
        "region": {"id": book.east.pk, "name": "AMER East"},
        "segment": "enterprise",
        "arr": "1234.50",
        "currency": "EUR",
        "product_tier": {"id": tier("Gold").pk, "name": "Gold", "rung": tier("Gold").rung},
        "licenses": 40,
        "priority": 2,
        "engagement_model": "low_touch",
        "tam": {"id": book.tam.pk, "full_name": "Tara Tam", "email": "tam@example.com"},
        "sal": {"id": book.sal.pk, "full_name": "Sam Sal", "email": "sal@example.com"},
        "sa": None,
        "customer_since": "2024-03-01",
        "next_renewal_date": "2026-03-01",
        "lifecycle_stage": "onboarding",
        "collaboration_url": "https://chat.example.com/acme-labs",
        "health": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert dt.datetime.fromisoformat(body["created_at"]).tzinfo is not None


# --- create -------------------------------------------------------------------------------------------------


def test_admin_creates_an_account_with_every_reference(book, api_for):
    body = new_account(
        book,
        region_id=book.west.pk,
        parent_id=book.account.pk,
        arr="75000.10",
        currency="GBP",
        product_tier="gold",
        licenses=30,
        priority=2,
        engagement_model="named",
        tam_id=book.other_tam.pk,
        sal_id=book.sal.pk,
        sa_id=book.sa.pk,
        customer_since="2025-02-01",
        next_renewal_date="2026-02-01",
        lifecycle_stage="adoption",
        collaboration_url="https://chat.example.com/initech",
    )
    response = post(api_for(book.admin), LIST, body)
    assert response.status_code == 201, response.content
    out = response.json()
    account = Account.objects.get(crm_id="CRM-NEW-1")
    assert out["id"] == account.pk and out["arr"] == "75000.10" and out["product_tier"]["name"] == "Gold"
    assert out["parent"] == {"id": book.account.pk, "name": "Acme Corp"}
    assert out["tam"]["id"] == book.other_tam.pk and out["sa"]["id"] == book.sa.pk
    assert account.arr == Decimal("75000.10") and account.region_id == book.west.pk
    assert account.customer_since == dt.date(2025, 2, 1)
    event = AuditEvent.objects.for_object("accounts.account", account.pk).get()
    assert (event.action, event.source, event.actor_id) == ("create", "api", book.admin.pk)
    assert TamAssignment.objects.filter(account=account, to_tam=book.other_tam, changed_by=book.admin).exists()
    assert api_for(book.admin).get(detail(account)).json() == out


def test_manager_creates_in_their_region_with_defaults(book, api_for):
    response = post(api_for(book.manager), LIST, new_account(book, product_tier_id=tier("Premium").pk))
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["arr"], out["currency"], out["priority"], out["lifecycle_stage"]) == ("0.00", "USD", 1, "onboarding")
    assert out["tam"] is None and out["product_tier"]["name"] == "Premium"


@pytest.mark.parametrize(
    ("who", "region"),
    [
        ("manager", "west"),
        ("other_manager", "east"),
        ("director", "east"),
        ("tam", "east"),
        ("sal", "east"),
        ("sa", "east"),
    ],
)
def test_create_forbidden_is_403_and_writes_nothing(book, api_for, who, region):
    client = api_for(getattr(book, who))
    events = AuditEvent.objects.count()
    response = post(client, LIST, new_account(book, region_id=getattr(book, region).pk))
    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Account.objects.filter(crm_id="CRM-NEW-1").exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["tam", "director"])
def test_create_forbidden_comes_before_looking_at_references(book, api_for, who):
    response = post(api_for(getattr(book, who)), LIST, new_account(book, tam_id=999999, parent_id=999999))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tam_id": 999999}, "tam_id"),
        ({"sal_id": 999999}, "sal_id"),
        ({"sa_id": 999999}, "sa_id"),
        ({"region_id": 999999}, "region_id"),
        ({"parent_id": 999999}, "parent_id"),
        ({"product_tier_id": 999999}, "product_tier_id"),
        ({"product_tier": "Platinum"}, "product_tier"),
        ({"tam_id": 0}, "tam_id"),
        ({"tam_id": 10**30}, "tam_id"),
        ({"arr": "-1"}, "arr"),
        ({"arr": -5}, "arr"),
        ({"arr": "lots"}, "arr"),
        ({"arr": "1e20"}, "arr"),
        ({"arr": "1.005"}, "arr"),
        ({"arr": "NaN"}, "arr"),
        ({"segment": "huge"}, "segment"),
        ({"priority": 7}, "priority"),
        ({"licenses": "many"}, "licenses"),
        ({"licenses": -1}, "licenses"),
        ({"licenses": 10**12}, "licenses"),
        ({"currency": "dollars"}, "currency"),
        ({"customer_since": "yesterday"}, "customer_since"),
        ({"next_renewal_date": "2026-02-30"}, "next_renewal_date"),
        ({"lifecycle_stage": "dead"}, "lifecycle_stage"),
        ({"engagement_model": "telepathy"}, "engagement_model"),
        ({"collaboration_url": "not a url"}, "collaboration_url"),
        ({"name": ""}, "name"),
        ({"name": "x" * 300}, "name"),
        ({"name": "Ini\x00tech"}, "name"),
        ({"name": 42}, "name"),
        ({"crm_id": None}, "crm_id"),
        ({"tam": 5}, "tam"),
        ({"product_tier": "Gold", "product_tier_id": 1}, "product_tier"),
    ],
)
def test_create_bad_input_is_422_naming_the_field_and_writes_nothing(book, api_for, overrides, field):
    client = api_for(book.admin)
    events = AuditEvent.objects.count()
    response = post(client, LIST, new_account(book, **overrides))
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert not Account.objects.filter(crm_id="CRM-NEW-1").exists()
    assert AuditEvent.objects.count() == events


def test_unknown_id_message_names_the_field_and_the_id(book, api_for):
    response = post(api_for(book.admin), LIST, new_account(book, tam_id=999))
    assert response.json()["detail"] == "tam_id: 999 does not exist."
    assert response.json()["errors"] == {"tam_id": ["999 does not exist."]}


def test_create_missing_required_fields_is_422(book, api_for):
    response = post(api_for(book.admin), LIST, {"name": "Initech"})
    assert response.status_code == 422
    detail_text = response.json()["detail"]
    assert "crm_id" in detail_text and "region_id" in detail_text and "segment" in detail_text


def test_create_rule_violations_from_the_service_are_422(book, api_for):
    client = api_for(book.admin)
    response = post(client, LIST, new_account(book, tam_id=book.sal.pk))
    assert response.status_code == 422 and "not an active TAM" in response.json()["detail"]
    response = post(client, LIST, new_account(book, crm_id=book.account.crm_id))
    assert response.status_code == 422 and "crm_id" in response.json()["detail"]
    assert Account.objects.count() == 2


def test_create_parent_outside_the_callers_scope_does_not_exist(book, api_for):
    response = post(api_for(book.manager), LIST, new_account(book, parent_id=book.other_account.pk))
    assert response.status_code == 422 and "parent_id" in response.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    ['{"crm_id": "X", ', "not json", "[1, 2]", '"a string"', "null", "", "{'single': 'quotes'}"],
)
def test_malformed_bodies_are_json_4xx(book, api_for, raw):
    response = api_for(book.admin).post(LIST, raw, content_type="application/json")
    assert response.status_code in (400, 422)
    assert "detail" in response.json()
    assert Account.objects.count() == 2


# --- update -------------------------------------------------------------------------------------------------


def test_manager_updates_fields_and_the_tam(book, api_for):
    response = patch(
        api_for(book.manager),
        detail(book.account),
        {"arr": "150000.5", "tam_id": book.tam2.pk, "customer_since": None, "name": "Acme Corporation"},
    )
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["arr"] == "150000.50" and out["tam"]["id"] == book.tam2.pk and out["customer_since"] is None
    account = Account.objects.get(pk=book.account.pk)
    assert (account.arr, account.tam_id, account.customer_since) == (Decimal("150000.50"), book.tam2.pk, None)
    assert account.name == "Acme Corporation" and account.sal_id == book.sal.pk  # untouched fields stay
    event = AuditEvent.objects.for_object("accounts.account", account.pk).get()
    assert event.source == "api" and set(event.after) == {"arr", "tam", "customer_since", "name"}
    assert TamAssignment.objects.filter(account=account, from_tam=book.tam, to_tam=book.tam2).exists()


def test_patch_with_crm_id_and_tier_by_name(book, api_for):
    response = patch(api_for(book.admin), detail(book.account), {"crm_id": "CRM-RENAMED", "product_tier": "Gold"})
    assert response.status_code == 200, response.content
    assert response.json()["crm_id"] == "CRM-RENAMED" and response.json()["product_tier"]["name"] == "Gold"


def test_patch_same_values_records_nothing(book, api_for):
    client = api_for(book.manager)
    events = AuditEvent.objects.count()
    response = patch(client, detail(book.account), {"arr": "120000", "name": "Acme Corp"})
    assert response.status_code == 200
    assert AuditEvent.objects.count() == events


def test_tam_changes_tam_owned_fields_of_their_account(book, api_for):
    body = {"priority": 2, "engagement_model": "low_touch", "lifecycle_stage": "optimize_grow"}
    response = patch(api_for(book.tam), detail(book.account), body)
    assert response.status_code == 200, response.content
    account = Account.objects.get(pk=book.account.pk)
    assert (account.priority, account.engagement_model, account.lifecycle_stage) == (2, "low_touch", "optimize_grow")


@pytest.mark.parametrize(
    "body",
    [
        {"arr": "1.00"},
        {"tam_id": None},
        {"tam_id": 0},
        {"priority": 2, "name": "Mine now"},
        {"region_id": 1},
    ],
)
def test_tam_changing_other_fields_is_refused_and_writes_nothing(book, api_for, body):
    body = {**body, "region_id": book.west.pk} if "region_id" in body else body
    client = api_for(book.tam)
    before = stored(book.account)
    events = AuditEvent.objects.count()
    response = patch(client, detail(book.account), body)
    assert response.status_code in (403, 422)
    assert response.status_code == 403 or "tam_id" in response.json()["detail"]
    assert stored(book.account) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["director", "tam2", "sal", "sa"])
def test_read_only_user_gets_403_on_patch_and_nothing_changes(book, api_for, who):
    client = api_for(getattr(book, who))
    before = stored(book.account)
    events = AuditEvent.objects.count()
    response = patch(client, detail(book.account), {"priority": 3})
    assert response.status_code == 403
    assert stored(book.account) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_outsider_gets_404_on_patch(book, api_for, who):
    before = stored(book.account)
    response = patch(api_for(getattr(book, who)), detail(book.account), {"priority": 3})
    assert response.status_code == 404
    assert stored(book.account) == before


def test_manager_cannot_move_an_account_out_of_their_region(book, api_for):
    before = stored(book.account)
    response = patch(api_for(book.manager), detail(book.account), {"region_id": book.west.pk})
    assert response.status_code == 403
    assert stored(book.account) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"segment": None}, "segment"),
        ({"arr": None}, "arr"),
        ({"arr": "-0.01"}, "arr"),
        ({"segment": "huge"}, "segment"),
        ({"priority": "first"}, "priority"),
        ({"tam_id": 999999}, "tam_id"),
        ({"tam_id": "Tara"}, "tam_id"),
        ({"parent_id": "self"}, "parent_id"),
        ({"licences": 3}, "licences"),
        ({"next_renewal_date": "soon"}, "next_renewal_date"),
    ],
)
def test_patch_bad_input_is_422_and_writes_nothing(book, api_for, body, field):
    before = stored(book.account)
    response = patch(api_for(book.admin), detail(book.account), body)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert stored(book.account) == before


def test_patch_own_parent_is_422(book, api_for):
    response = patch(api_for(book.admin), detail(book.account), {"parent_id": book.account.pk})
    assert response.status_code == 422 and "parent" in response.json()["detail"]


def test_patch_empty_body_changes_nothing(book, api_for):
    response = patch(api_for(book.manager), detail(book.account), {})
    assert response.status_code == 200 and response.json()["name"] == "Acme Corp"


# --- history ------------------------------------------------------------------------------------------------


def test_history_lists_audit_events_and_tam_changes(book, api_for):
    client = api_for(book.manager)
    response = client.patch(
        detail(book.account),
        json.dumps({"tam_id": book.tam2.pk, "arr": "99.99"}),
        content_type="application/json",
        headers={"X-Request-ID": "req-api-1"},
    )
    assert response.status_code == 200 and response["X-Request-ID"] == "req-api-1"
    body = client.get(history(book.account)).json()
    assert body["account"] == {"id": book.account.pk, "name": "Acme Corp"}
    event = body["events"][0]
    assert event["actor_name"] == "Mia Manager" and event["action"] == "update" and event["request_id"] == "req-api-1"
    assert event["before"] == {"arr": "120000.00", "tam": book.tam.pk}
    assert event["after"] == {"arr": "99.99", "tam": book.tam2.pk}
    change = body["tam_assignments"][0]
    assert change["from_tam"]["id"] == book.tam.pk and change["to_tam"]["id"] == book.tam2.pk
    assert change["changed_by"]["full_name"] == "Mia Manager"


@pytest.mark.parametrize("who", ["admin", "director", "sal", "tam2"])
def test_history_allowed(book, api_for, who):
    assert api_for(getattr(book, who)).get(history(book.account)).status_code == 200


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_history_outsider_gets_404(book, api_for, who):
    assert api_for(getattr(book, who)).get(history(book.account)).status_code == 404


# --- auth ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", LIST), ("post", LIST), ("get", "detail"), ("patch", "detail"), ("get", "history")],
)
def test_every_route_needs_authentication(book, client, method, url):
    url = {"detail": detail(book.account), "history": history(book.account)}.get(url, url)
    before = stored(book.account)
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, json.dumps({"priority": 3}), content_type="application/json")
    assert response.status_code == 401
    assert stored(book.account) == before


def test_session_user_reads_through_the_api(book, client_for):
    client = client_for(book.manager)
    assert names(client.get(LIST)) == ["Acme Corp"]
    assert client.get(detail(book.account)).status_code == 200
    assert client.get(detail(book.other_account)).status_code == 404
