"""The pool editor: the services (create, update, deactivate, members added and removed; audited before/after),
bad input refused with nothing lost (criteria that do not parse or overlap another pool's without a precedence,
a TAM of another region, unknown ids), the pages' and the API's permission trio, and constant query counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.people.models import Role
from tamarind.servicedesk import services
from tamarind.servicedesk.models import Pool, PoolMember, ServiceRequest
from tamarind.testing.factories import AccountFactory, UserFactory

API = "/api/v1/servicedesk"
JSON = "application/json"
BIG = 2**63
SMALL = {"match": "all", "conditions": [{"field": "arr", "op": "lt", "value": "20000"}]}
LARGER = {"match": "all", "conditions": [{"field": "arr", "op": "gte", "value": "20000"}]}
EVERY = {"match": "all", "conditions": []}


@pytest.fixture
def pool(book) -> Pool:  # type: ignore[no-untyped-def]
    made = services.pool_create(
        actor=book.admin,
        data={"name": "Small pool", "engagement_model": "pooled", "manager_id": book.manager.pk, "criteria": SMALL},
    )
    services.pool_member_add(actor=book.admin, pool=made, tam=book.tam)
    return made


def _events(obj: Any) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("at", "id")
    )


# --- Services ----------------------------------------------------------------------------------------------------
def test_create_update_deactivate_audited(book, pool) -> None:  # type: ignore[no-untyped-def]
    assert pool.criteria == SMALL and pool.first_response_hours == 48 and pool.manager_id == book.manager.pk
    created = _events(pool)
    assert created[0].action == "create" and created[0].after["criteria"] == SMALL
    services.pool_update(actor=book.manager, pool=pool, changes={"first_response_hours": 24, "name": "Smaller"})
    pool.refresh_from_db()
    assert (pool.first_response_hours, pool.name) == (24, "Smaller")
    update = _events(pool)[-1]
    assert update.before["first_response_hours"] == 48 and update.after["first_response_hours"] == 24
    # Deactivating (and naming the manager) is for admins; the pool's manager is refused and nothing changes.
    with pytest.raises(PermissionDenied):
        services.pool_update(actor=book.manager, pool=pool, changes={"is_active": False})
    with pytest.raises(PermissionDenied):
        services.pool_update(actor=book.tam, pool=pool, changes={"name": "Mine"})
    services.pool_update(actor=book.admin, pool=pool, changes={"is_active": False})
    pool.refresh_from_db()
    assert not pool.is_active and _events(pool)[-1].after["is_active"] is False
    with pytest.raises(PermissionDenied):
        services.pool_create(actor=book.manager, data={"name": "Mine", "engagement_model": "pooled"})


def test_overlapping_criteria_need_distinct_precedences(book, pool) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        services.pool_create(actor=book.admin, data={"name": "All pooled", "engagement_model": "pooled"})
    assert "overlap Small pool" in exc.value.errors["criteria"][0]
    assert not Pool.objects.filter(name="All pooled").exists()
    # Not overlapping: fine; another model: never competes.
    services.pool_create(actor=book.admin, data={"name": "Larger", "engagement_model": "pooled", "criteria": LARGER})
    services.pool_create(actor=book.admin, data={"name": "Digital", "engagement_model": "digital"})
    with pytest.raises(ValidationFailed):
        services.pool_create(
            actor=book.admin, data={"name": "Every", "engagement_model": "pooled", "precedence": 1, "criteria": EVERY}
        )
    services.pool_update(actor=book.admin, pool=pool, changes={"precedence": 1})
    larger = Pool.objects.get(name="Larger")
    services.pool_update(actor=book.admin, pool=larger, changes={"precedence": 2})
    every = services.pool_create(
        actor=book.admin, data={"name": "Every", "engagement_model": "pooled", "precedence": 3, "criteria": EVERY}
    )
    # Lower precedence serves: a small account goes to the small pool, not to "Every".
    small = AccountFactory(region=book.east, arr=Decimal("10000"), engagement_model="pooled")
    assert services.pool_for_account(small) == pool
    with pytest.raises(ValidationFailed) as same:
        services.pool_update(actor=book.admin, pool=every, changes={"precedence": 1})
    assert "criteria" in same.value.errors
    every.refresh_from_db()
    assert every.precedence == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"criteria": {"match": "any", "conditions": []}}, "criteria.match"),
        ({"criteria": {"match": "all", "conditions": [{"field": "licenses", "op": "gt", "value": 3}]}}, None),
        ({"criteria": "arr < 5"}, "criteria.__all__"),
        ({"engagement_model": "nope"}, "engagement_model"),
        ({"manager_id": 999999}, "manager_id"),
        ({"first_response_hours": 0}, "first_response_hours"),
        ({"first_response_hours": "9" * 30}, "first_response_hours"),
        ({"precedence": -1}, "precedence"),
        ({"email_address": "not mail"}, "email_address"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"colour": "red"}, "__all__"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(book, pool, data, field) -> None:  # type: ignore[no-untyped-def]
    before = {f.name: getattr(pool, f.attname) for f in Pool._meta.concrete_fields}
    with pytest.raises(ValidationFailed) as exc:
        services.pool_update(actor=book.admin, pool=Pool.objects.get(pk=pool.pk), changes=data)
    if field is not None:
        assert field in exc.value.errors
    else:
        assert any(k.startswith("criteria.conditions.0") for k in exc.value.errors)
    pool.refresh_from_db()
    assert {f.name: getattr(pool, f.attname) for f in Pool._meta.concrete_fields} == before


def test_members_added_and_removed(book, pool) -> None:  # type: ignore[no-untyped-def]
    member = services.pool_member_add(actor=book.manager, pool=pool, tam=book.tam2)
    assert _events(member)[0].after == {"pool": pool.pk, "tam": book.tam2.pk, "available": True, "away_until": None}
    with pytest.raises(ValidationFailed, match="already in this pool"):
        services.pool_member_add(actor=book.manager, pool=pool, tam=book.tam2)
    with pytest.raises(ValidationFailed, match="Olga Tam: not in AMER East"):
        services.pool_member_add(actor=book.admin, pool=pool, tam=book.other_tam)
    with pytest.raises(ValidationFailed, match="Only active TAMs"):
        services.pool_member_add(actor=book.admin, pool=pool, tam=book.sal)
    with pytest.raises(PermissionDenied):
        services.pool_member_add(actor=book.other_manager, pool=pool, tam=book.tam2)
    # A TAM sets their own availability but does not join a pool by themselves.
    other_pool = services.pool_create(actor=book.admin, data={"name": "Other", "engagement_model": "digital"})
    with pytest.raises(PermissionDenied):
        services.pool_member_set(actor=book.tam, pool=other_pool, tam=book.tam)
    # A TAM holding an open request of the pool stays until it is reassigned.
    account = AccountFactory(region=book.east, arr=Decimal("10000"), engagement_model="pooled")
    req = services.request_create(actor=book.tam, account=account, subject="Help", body="b", channel="tam")
    holder = req.assignee
    assert holder is not None
    with pytest.raises(ValidationFailed, match="open request"):
        services.pool_member_remove(actor=book.manager, pool=pool, tam=holder)
    services.request_update(actor=book.manager, request=req, changes={"status": "closed"})
    services.pool_member_remove(actor=book.manager, pool=pool, tam=holder)
    assert not PoolMember.objects.filter(pool=pool, tam=holder).exists()
    removed = _events(pool)[-1]
    assert removed.action == "delete" and removed.before["member"]["tam"] == holder.pk
    with pytest.raises(ValidationFailed, match="Not a TAM of this pool"):
        services.pool_member_remove(actor=book.manager, pool=pool, tam=holder)


def test_a_new_manager_must_lead_the_members_region(book, pool) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="Tara Tam"):
        services.pool_update(actor=book.admin, pool=pool, changes={"manager_id": book.other_manager.pk})
    pool.refresh_from_db()
    assert pool.manager_id == book.manager.pk
    services.pool_update(actor=book.admin, pool=pool, changes={"manager_id": None})
    services.pool_member_add(actor=book.admin, pool=pool, tam=book.other_tam)  # no manager: any region
    assert PoolMember.objects.filter(pool=pool).count() == 2


# --- Pages -------------------------------------------------------------------------------------------------------
def _rows(*conditions: tuple[str, str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"c-TOTAL_FORMS": str(len(conditions) + 1), "c-INITIAL_FORMS": "0"}
    for i, (field, op, value) in enumerate(conditions):
        data |= {f"c-{i}-field": field, f"c-{i}-op": op, f"c-{i}-value": value}
    return data


def test_pages_permission_trio(book, pool, client_for) -> None:  # type: ignore[no-untyped-def]
    url = f"/servicedesk/pools/{pool.pk}/"
    form = {"name": "Small pool", "engagement_model": "pooled", "first_response_hours": "36", **_rows()}
    form |= _rows(("arr", "lt", "20000"))
    assert client_for(book.admin).get("/servicedesk/pools/new/").status_code == 200
    assert client_for(book.manager).get("/servicedesk/pools/new/").status_code == 403
    for reader in (book.director, book.tam, book.tam2, book.other_manager):
        assert client_for(reader).get(url).status_code == 200
        assert client_for(reader).post(url, form).status_code == 403
        assert client_for(reader).post(f"{url}members/", {"action": "add", "tam": book.tam2.pk}).status_code == 403
    for outsider in (book.sal, book.sa):
        assert client_for(outsider).get(url).status_code == 403
    assert client_for(book.admin).get(f"/servicedesk/pools/{pool.pk + 1000}/").status_code == 404
    assert client_for(book.admin).post(f"/servicedesk/pools/{pool.pk + 1000}/members/", {}).status_code == 404
    assert client_for(book.manager).post(url, form).status_code == 302
    pool.refresh_from_db()
    assert pool.first_response_hours == 36 and pool.criteria == SMALL


def test_pages_create_edit_and_bad_input(book, pool, client_for) -> None:  # type: ignore[no-untyped-def]
    admin = client_for(book.admin)
    new = {"name": "Larger pool", "engagement_model": "pooled", "first_response_hours": "48", "is_active": "on"}
    overlap = admin.post("/servicedesk/pools/new/", {**new, **_rows(("arr", "gt", "10000"))})
    assert overlap.status_code == 400 and "overlap Small pool" in overlap.content.decode()
    bad_row = admin.post("/servicedesk/pools/new/", {**new, **_rows(("arr", "gt", "lots"))})
    assert bad_row.status_code == 400 and bad_row.context["rows"][0].errors
    assert admin.post("/servicedesk/pools/new/", {**new, "first_response_hours": "0", **_rows()}).status_code == 400
    assert admin.post("/servicedesk/pools/new/", {**new, "manager_id": "999999", **_rows()}).status_code == 400
    assert not Pool.objects.filter(name="Larger pool").exists()
    made = admin.post(
        "/servicedesk/pools/new/", {**new, "manager_id": book.manager.pk, **_rows(("arr", "gte", "20000"))}
    )
    assert made.status_code == 302
    larger = Pool.objects.get(name="Larger pool")
    assert larger.criteria == LARGER and larger.manager_id == book.manager.pk
    # The manager's form has no manager or active fields: their save keeps both.
    edit = client_for(book.manager).get(f"/servicedesk/pools/{larger.pk}/")
    assert "manager_id" not in edit.context["form"].fields
    members = f"/servicedesk/pools/{larger.pk}/members/"
    htmx = {"HTTP_HX_REQUEST": "true"}
    added = client_for(book.manager).post(members, {"action": "add", "tam": book.tam2.pk}, **htmx)
    assert added.status_code == 200 and "Added Theo Tam" in added.content.decode()
    refused = client_for(book.manager).post(members, {"action": "add", "tam": book.other_tam.pk}, **htmx)
    assert refused.status_code == 200 and "member-error" in refused.content.decode()
    assert client_for(book.manager).post(members, {"action": "add", "tam": "x"}).status_code == 400
    assert client_for(book.manager).post(members, {"action": "add", "tam": BIG}).status_code == 400
    assert client_for(book.manager).post(members, {"action": "fly", "tam": book.tam2.pk}).status_code == 400
    assert client_for(book.manager).post(members, {"action": "remove", "tam": book.tam2.pk}).status_code == 302
    assert list(larger.members.values_list("tam_id", flat=True)) == []
    switch = f"/servicedesk/pools/{larger.pk}/"
    assert client_for(book.manager).post(switch, {"action": "deactivate"}).status_code == 403
    assert admin.post(switch, {"action": "deactivate"}).status_code == 302
    larger.refresh_from_db()
    assert not larger.is_active


def _count(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["admin", "manager", "tam"])
def test_page_query_counts_are_constant(book, pool, client_for, who) -> None:  # type: ignore[no-untyped-def]
    client = client_for(getattr(book, who))
    paths = [f"/servicedesk/pools/{pool.pk}/", "/servicedesk/pools/"]
    if who == "admin":
        paths.append("/servicedesk/pools/new/")
    small = {p: _count(client, p) for p in paths}
    for i in range(5):
        tam = UserFactory(role=Role.TAM, region=book.east, full_name=f"Extra {i}")
        if i % 2:
            services.pool_member_add(actor=book.admin, pool=pool, tam=tam)
        manager = UserFactory(role=Role.MANAGER, full_name=f"Manager {i}")
        services.pool_create(
            actor=book.admin,
            data={"name": f"Digital {i}", "engagement_model": "digital", "manager_id": manager.pk, "precedence": i},
        )
    assert {p: _count(client, p) for p in paths} == small


# --- API ---------------------------------------------------------------------------------------------------------
def test_api_create_and_patch_trio(book, pool, api_for) -> None:  # type: ignore[no-untyped-def]
    body = {"name": "Larger pool", "criteria": LARGER, "manager_id": book.manager.pk, "first_response_hours": 24}
    for reader in (book.manager, book.director, book.tam):
        assert api_for(reader).post(f"{API}/pools", body, content_type=JSON).status_code == 403
    assert api_for(book.sal).post(f"{API}/pools", body, content_type=JSON).status_code == 403
    made = api_for(book.admin).post(f"{API}/pools", body, content_type=JSON)
    assert made.status_code == 201, made.content
    out = made.json()
    assert out["criteria"] == LARGER and out["engagement_model"] == "pooled" and out["members"] == []
    larger = Pool.objects.get(pk=out["id"])
    assert AuditEvent.objects.filter(source="api", object_id=str(larger.pk), action="create").exists()
    url = f"{API}/pools/{larger.pk}"
    for reader in (book.director, book.tam, book.other_manager):
        assert api_for(reader).patch(url, {"first_response_hours": 12}, content_type=JSON).status_code == 403
    assert api_for(book.sal).patch(url, {"first_response_hours": 12}, content_type=JSON).status_code == 403
    assert api_for(book.admin).patch(f"{API}/pools/{BIG}", {}, content_type=JSON).status_code == 404
    assert api_for(book.admin).patch(f"{API}/pools/{larger.pk + 99}", {}, content_type=JSON).status_code == 404
    patched = api_for(book.manager).patch(url, {"first_response_hours": 12, "precedence": 4}, content_type=JSON)
    assert patched.status_code == 200 and patched.json()["first_response_hours"] == 12
    assert patched.json()["precedence"] == 4
    assert api_for(book.manager).patch(url, {"is_active": False}, content_type=JSON).status_code == 403
    assert api_for(book.admin).patch(url, {"is_active": False}, content_type=JSON).json()["is_active"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"criteria": EVERY},  # overlaps the small pool
        {"criteria": {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "x"}]}},
        {"engagement_model": "nope"},
        {"manager_id": 999999},
        {"manager_id": BIG},
        {"first_response_hours": 0},
        {"first_response_hours": 721},
        {"precedence": 40000},
        {"email_address": "nope"},
        {"colour": "red"},
        {"name": None},
        {"criteria": [1, 2]},
    ],
)
def test_api_bad_input_is_422_and_keeps_the_pool(book, pool, api_for, body) -> None:  # type: ignore[no-untyped-def]
    larger = services.pool_create(
        actor=book.admin, data={"name": "Larger", "engagement_model": "pooled", "criteria": LARGER}
    )
    answer = api_for(book.admin).patch(f"{API}/pools/{larger.pk}", body, content_type=JSON)
    assert answer.status_code == 422, answer.content
    assert answer.json()["detail"]
    fresh = Pool.objects.get(pk=larger.pk)
    assert (fresh.criteria, fresh.first_response_hours, fresh.manager_id) == (LARGER, 48, None)


def test_api_members(book, pool, api_for) -> None:  # type: ignore[no-untyped-def]
    url = f"{API}/pools/{pool.pk}/members"
    assert api_for(book.tam).post(url, {"tam_id": book.tam2.pk}, content_type=JSON).status_code == 403
    assert api_for(book.director).post(url, {"tam_id": book.tam2.pk}, content_type=JSON).status_code == 403
    assert api_for(book.manager).post(url, {"tam_id": book.other_tam.pk}, content_type=JSON).status_code == 422
    assert api_for(book.manager).post(url, {"tam_id": 999999}, content_type=JSON).status_code == 422
    assert api_for(book.manager).post(url, {"tam_id": BIG}, content_type=JSON).status_code == 422
    assert (
        api_for(book.manager).post(f"{API}/pools/{pool.pk + 99}/members", {"tam_id": 1}, content_type=JSON).status_code
        == 404
    )
    added = api_for(book.manager).post(url, {"tam_id": book.tam2.pk, "away_until": "2999-01-01"}, content_type=JSON)
    assert added.status_code == 201 and added.json()["available_today"] is False
    assert api_for(book.director).delete(f"{url}/{book.tam2.pk}").status_code == 403
    assert api_for(book.manager).delete(f"{url}/{book.tam2.pk}").status_code == 204
    assert api_for(book.manager).delete(f"{url}/{book.tam2.pk}").status_code == 422
    assert not PoolMember.objects.filter(pool=pool, tam=book.tam2).exists()
    assert ServiceRequest.objects.count() == 0


def test_api_query_counts_are_constant(book, pool, api_for) -> None:  # type: ignore[no-untyped-def]
    api = api_for(book.admin)

    def patch() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.patch(f"{API}/pools/{pool.pk}", {"email_address": ""}, content_type=JSON).status_code == 200
        return len(ctx.captured_queries)

    patch()  # the token's first use is stamped once
    small = patch()
    for i in range(4):
        services.pool_member_add(
            actor=book.admin, pool=pool, tam=UserFactory(role=Role.TAM, region=book.east, full_name=f"T{i}")
        )
        services.pool_create(actor=book.admin, data={"name": f"D{i}", "engagement_model": "digital", "precedence": i})
    assert patch() == small
