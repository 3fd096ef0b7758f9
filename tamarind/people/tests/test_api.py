"""The people, regions and tokens REST API: permission trio per route, denied writes leave nothing,
bad input is 422, query counts that do not grow, and tokens that stop working once revoked."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.people.models import ApiToken, Region, Role, User
from tamarind.people.services import token_create
from tamarind.testing.factories import AccountFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people/"
REGIONS = "/api/v1/regions/"
TOKENS = "/api/v1/tokens/"
READ_ONLY = ["director", "manager", "tam", "sal", "sa"]


def person_url(user):
    return f"{PEOPLE}{user.pk}"


def region_url(region):
    return f"{REGIONS}{region.pk}"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def stored_user(user):
    return User.objects.filter(pk=user.pk).values().get()


def stored_region(region):
    return Region.objects.filter(pk=region.pk).values().get()


def _count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


# --- people: read -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "sal", "sa"])
def test_everyone_signed_in_reads_the_directory(book, api_for, who):
    response = api_for(getattr(book, who)).get(PEOPLE)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 9 and body["page"] == 1 and body["page_size"] == 50
    assert [p["full_name"] for p in body["results"]][:2] == ["Ada Admin", "Dee Director"]


def test_person_detail_fields(book, api_for):
    User.objects.filter(pk=book.tam.pk).update(capacity_arr=Decimal("3600000"))
    body = api_for(book.sal).get(person_url(book.tam)).json()
    assert body["email"] == "tam@example.com" and body["role"] == "tam"
    assert body["region"] == {"id": book.east.pk, "name": "AMER East"} and body["managed_region"] is None
    assert body["capacity_arr"] == "3600000.00" and body["is_active"] is True
    manager = api_for(book.sal).get(person_url(book.manager)).json()
    assert manager["managed_region"] == {"id": book.east.pk, "name": "AMER East"} and manager["region"] is None
    assert "password" not in manager


def test_person_unknown_id_is_404(book, api_for):
    assert api_for(book.admin).get(f"{PEOPLE}999999").status_code == 404
    assert api_for(book.admin).get(f"{PEOPLE}{10**30}").status_code == 404


def test_people_filters(book, api_for):
    c = api_for(book.tam)
    names = lambda r: [p["full_name"] for p in r.json()["results"]]  # noqa: E731
    assert names(c.get(PEOPLE, {"role": "tam"})) == ["Olga Tam", "Tara Tam", "Theo Tam"]
    assert names(c.get(PEOPLE, {"region": book.west.pk})) == ["Olga Tam", "Otto Manager"]
    assert names(c.get(PEOPLE, {"q": "sam"})) == ["Sam Sal"]
    assert names(c.get(PEOPLE, {"q": "OMANAGER@"})) == ["Otto Manager"]
    # NUL is refused, naming the parameter (PostgreSQL refuses it in a query).
    response = c.get(PEOPLE, {"q": "t\x00am", "role": "tam", "region": book.east.pk})
    assert response.status_code == 422 and response.json()["detail"].startswith("q: ")
    page = c.get(PEOPLE, {"page_size": 4, "page": 3}).json()
    assert page["count"] == 9 and len(page["results"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"role": "boss"}, "role"),
        ({"region": "east"}, "region"),
        ({"page": 0}, "page"),
        ({"page_size": 1000}, "page_size"),
    ],
)
def test_people_bad_filters_are_422(book, api_for, params, field):
    response = api_for(book.admin).get(PEOPLE, params)
    assert response.status_code == 422 and field in response.json()["detail"]


def test_people_list_query_count_does_not_grow(book, api_for, django_assert_num_queries):
    client = api_for(book.manager)
    client.get(PEOPLE)
    small = _count_queries(client, PEOPLE, {"page_size": 500})
    region = RegionFactory(name="APAC")
    User.objects.bulk_create(
        User(email=f"bulk{i}@example.com", full_name=f"Bulk {i}", role=Role.TAM, region=region) for i in range(300)
    )
    with django_assert_num_queries(small):
        response = client.get(PEOPLE, {"page_size": 500})
    assert response.json()["count"] == 309


@pytest.mark.parametrize("route", ["person", "region", "tokens"])
def test_detail_routes_query_count_does_not_grow(book, api_for, django_assert_num_queries, route):
    url = {"person": person_url(book.manager), "region": region_url(book.east), "tokens": TOKENS}[route]
    client = api_for(book.tam)
    client.get(url)
    small = _count_queries(client, url)
    User.objects.bulk_create(
        User(email=f"bulk{i}@example.com", full_name=f"Bulk {i}", role=Role.TAM, region=book.east) for i in range(100)
    )
    AccountFactory.create_batch(20, region=book.east, tam=book.tam)
    for i in range(20):
        token_create(actor=book.tam, user=book.tam, name=f"script {i}")
    with django_assert_num_queries(small):
        client.get(url)


# --- people: write ------------------------------------------------------------------------------------------


def test_admin_creates_a_person(book, api_for):
    body = {
        "email": " New.TAM@Example.com ",
        "full_name": "Nia New",
        "role": "tam",
        "region_id": book.west.pk,
        "capacity_arr": "2500000",
        "password": "s3cret-enough",
    }
    response = post(api_for(book.admin), PEOPLE, body)
    assert response.status_code == 201, response.content
    person = User.objects.get(email="new.tam@example.com")
    assert response.json()["id"] == person.pk and response.json()["region"]["name"] == "EMEA"
    assert person.check_password("s3cret-enough") and person.capacity_arr == Decimal("2500000")
    event = AuditEvent.objects.for_object("people.user", person.pk).get()
    assert event.source == "api" and "password" not in json.dumps(event.after)


@pytest.mark.parametrize("who", READ_ONLY)
def test_non_admin_cannot_create_people(book, api_for, who):
    client = api_for(getattr(book, who))
    events = AuditEvent.objects.count()
    response = post(client, PEOPLE, {"email": "x@example.com", "full_name": "X", "role": "tam", "region_id": 999})
    assert response.status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "tam@example.com"}, "email"),
        ({"role": "boss"}, "role"),
        ({"region_id": 999999}, "region_id"),
        ({"capacity_arr": "-1"}, "capacity_arr"),
        ({"capacity_arr": "plenty"}, "capacity_arr"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "Nu\x00ll"}, "full_name"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_create_person_bad_input_is_422(book, api_for, overrides, field):
    client = api_for(book.admin)
    count = User.objects.count()
    body = {"email": "new@example.com", "full_name": "Nia New", "role": "tam", **overrides}
    response = post(client, PEOPLE, body)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert User.objects.count() == count


def test_admin_updates_a_person(book, api_for):
    response = patch(
        api_for(book.admin), person_url(book.tam), {"region_id": book.west.pk, "capacity_arr": None, "full_name": "T"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["region"]["id"] == book.west.pk and response.json()["full_name"] == "T"
    tam = User.objects.get(pk=book.tam.pk)
    assert tam.region_id == book.west.pk and tam.full_name == "T"
    assert AuditEvent.objects.for_object("people.user", tam.pk).get().source == "api"


@pytest.mark.parametrize("who", READ_ONLY)
def test_non_admin_gets_403_on_person_patch_and_nothing_changes(book, api_for, who):
    client = api_for(getattr(book, who))
    before = stored_user(book.tam2)
    events = AuditEvent.objects.count()
    response = patch(client, person_url(book.tam2), {"full_name": "Hijacked"})
    assert response.status_code == 403
    assert stored_user(book.tam2) == before
    assert AuditEvent.objects.count() == events


def test_person_patch_unknown_id_is_404(book, api_for):
    assert patch(api_for(book.admin), f"{PEOPLE}999999", {"full_name": "X"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": None}, "full_name"),
        ({"is_active": "maybe"}, "is_active"),
        ({"region_id": 999999}, "region_id"),
        ({"role": "boss"}, "role"),
        ({"email": "sal@example.com"}, "email"),
    ],
)
def test_person_patch_bad_input_is_422(book, api_for, body, field):
    before = stored_user(book.tam)
    response = patch(api_for(book.admin), person_url(book.tam), body)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert stored_user(book.tam) == before


def test_admin_cannot_demote_themselves(book, api_for):
    response = patch(api_for(book.admin), person_url(book.admin), {"role": "tam"})
    assert response.status_code == 422
    assert User.objects.get(pk=book.admin.pk).role == Role.ADMIN


# --- regions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "sal", "sa"])
def test_everyone_reads_regions(book, api_for, who):
    client = api_for(getattr(book, who))
    body = client.get(REGIONS).json()
    east = next(r for r in body if r["name"] == "AMER East")
    assert east["manager"]["id"] == book.manager.pk
    assert (east["tam_count"], east["account_count"], east["book_arr"]) == (2, 1, "120000.00")
    detail = client.get(region_url(book.west)).json()
    assert detail["name"] == "EMEA" and detail["manager"]["full_name"] == "Otto Manager"


def test_region_unknown_id_is_404(book, api_for):
    assert api_for(book.tam).get(f"{REGIONS}999999").status_code == 404


def test_region_list_query_count_does_not_grow(book, api_for, django_assert_num_queries):
    client = api_for(book.tam)
    client.get(REGIONS)
    small = _count_queries(client, REGIONS)
    for i in range(20):
        region = RegionFactory(name=f"Region {i}")
        AccountFactory.create_batch(2, region=region)
    with django_assert_num_queries(small):
        assert len(client.get(REGIONS).json()) == 22


def test_admin_creates_and_changes_a_region(book, api_for):
    client = api_for(book.admin)
    spare = UserFactory(email="spare@example.com", full_name="Spare Manager", role=Role.MANAGER)
    response = post(client, REGIONS, {"name": "APAC", "manager_id": spare.pk})
    assert response.status_code == 201, response.content
    region = Region.objects.get(name="APAC")
    assert response.json()["manager"]["id"] == spare.pk and region.manager_id == spare.pk
    response = patch(client, region_url(region), {"name": "Asia Pacific", "manager_id": None})
    assert response.status_code == 200 and response.json()["manager"] is None
    region.refresh_from_db()
    assert (region.name, region.manager_id) == ("Asia Pacific", None)
    sources = set(AuditEvent.objects.for_object("people.region", region.pk).values_list("source", flat=True))
    assert sources == {"api"}


@pytest.mark.parametrize("who", READ_ONLY)
def test_non_admin_cannot_write_regions(book, api_for, who):
    client = api_for(getattr(book, who))
    before = stored_region(book.east)
    events = AuditEvent.objects.count()
    assert post(client, REGIONS, {"name": "LATAM"}).status_code == 403
    assert patch(client, region_url(book.east), {"name": "Renamed"}).status_code == 403
    assert not Region.objects.filter(name="LATAM").exists()
    assert stored_region(book.east) == before
    assert AuditEvent.objects.count() == events


def test_region_patch_unknown_id_is_404(book, api_for):
    assert patch(api_for(book.admin), f"{REGIONS}999999", {"name": "X"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "EMEA"}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"manager_id": 999999}, "manager_id"),
        ({"manager_id": "boss"}, "manager_id"),
        ({"name": "Renamed", "manager_id": "tam"}, "manager"),
        ({"name": "Renamed", "manager_id": "other_manager"}, "manager"),
    ],
)
def test_region_patch_bad_input_is_422_and_changes_nothing(book, api_for, body, field):
    if body.get("manager_id") in ("tam", "other_manager"):
        body = {**body, "manager_id": getattr(book, body["manager_id"]).pk}
    client = api_for(book.admin)
    before = stored_region(book.east)
    events = AuditEvent.objects.count()
    response = patch(client, region_url(book.east), body)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    # A refused manager leaves the rename of the same request undone too.
    assert stored_region(book.east) == before
    assert AuditEvent.objects.count() == events


def test_region_create_bad_input_is_422(book, api_for):
    client = api_for(book.admin)
    assert post(client, REGIONS, {"name": "EMEA"}).status_code == 422
    assert post(client, REGIONS, {"name": "LATAM", "manager_id": book.tam.pk}).status_code == 422
    assert post(client, REGIONS, {}).status_code == 422
    assert Region.objects.count() == 2


# --- tokens -------------------------------------------------------------------------------------------------


def test_tokens_list_only_your_own_without_secrets(book, api_for):
    token_create(actor=book.tam2, user=book.tam2, name="someone else's")
    client = api_for(book.tam)
    body = client.get(TOKENS).json()
    assert [t["name"] for t in body] == ["tests"]
    assert set(body[0]) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}
    assert body[0]["last_used_at"] is not None


def test_create_token_returns_the_secret_once_and_it_works(book, api_for):
    client = api_for(book.tam)
    response = post(client, TOKENS, {"name": "my script"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("tmd_") and body["token"].startswith(body["prefix"])
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user_id == book.tam.pk and token.name == "my script" and body["token"] not in token.key_hash
    fresh = Client(headers={"Authorization": f"Bearer {body['token']}"})
    assert fresh.get(TOKENS).status_code == 200
    assert all("token" not in t for t in client.get(TOKENS).json())


def test_create_token_defaults_and_bad_input(book, api_for):
    client = api_for(book.sal)
    assert post(client, TOKENS, {}).json()["name"] == "API token"
    assert post(client, TOKENS, {"name": "x" * 101}).status_code == 422
    assert post(client, TOKENS, {"name": 5}).status_code == 422
    assert post(client, TOKENS, {"user_id": book.admin.pk}).status_code == 422


def test_revoke_own_token(book, api_for):
    client = api_for(book.tam)
    _, raw = token_create(actor=book.tam, user=book.tam, name="script")
    token = ApiToken.objects.get(name="script")
    assert client.delete(f"{TOKENS}{token.pk}").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get(TOKENS).status_code == 401
    assert client.delete(f"{TOKENS}{token.pk}").status_code == 204  # twice is harmless


@pytest.mark.parametrize("who", ["tam2", "manager", "director"])
def test_another_users_token_is_404_and_stays_live(book, api_for, who):
    _, raw = token_create(actor=book.tam, user=book.tam, name="script")
    token = ApiToken.objects.get(name="script")
    client = api_for(getattr(book, who))
    events = AuditEvent.objects.count()
    assert client.delete(f"{TOKENS}{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None and AuditEvent.objects.count() == events
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get(TOKENS).status_code == 200


def test_admin_revokes_anyones_token(book, api_for):
    token_create(actor=book.tam, user=book.tam, name="script")
    token = ApiToken.objects.get(name="script")
    assert api_for(book.admin).delete(f"{TOKENS}{token.pk}").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoke_unknown_token_is_404(book, api_for):
    assert api_for(book.admin).delete(f"{TOKENS}999999").status_code == 404


def test_revoking_the_token_in_use_ends_its_access(book, api_for):
    client = api_for(book.tam)
    own = ApiToken.objects.get(user=book.tam)
    assert client.delete(f"{TOKENS}{own.pk}").status_code == 204
    assert client.get(TOKENS).status_code == 401


# --- auth ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", PEOPLE),
        ("post", PEOPLE),
        ("get", f"{PEOPLE}1"),
        ("patch", f"{PEOPLE}1"),
        ("get", REGIONS),
        ("post", REGIONS),
        ("get", f"{REGIONS}1"),
        ("patch", f"{REGIONS}1"),
        ("get", TOKENS),
        ("post", TOKENS),
        ("delete", f"{TOKENS}1"),
    ],
)
def test_every_route_needs_authentication(book, client, method, url):
    users, regions, tokens = User.objects.count(), Region.objects.count(), ApiToken.objects.count()
    if method in ("get", "delete"):
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, json.dumps({"name": "X"}), content_type="application/json")
    assert response.status_code == 401
    assert (User.objects.count(), Region.objects.count(), ApiToken.objects.count()) == (users, regions, tokens)


def test_session_user_reads_people_and_regions(book, client_for):
    client = client_for(book.sal)
    assert client.get(PEOPLE).status_code == 200
    assert client.get(region_url(book.east)).status_code == 200
    assert client.get(TOKENS).status_code == 200
