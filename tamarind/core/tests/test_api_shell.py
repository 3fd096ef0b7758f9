"""The API shell: bearer and session auth, JSON errors (never HTML, never a 500), request ids, OpenAPI."""

import json

import pytest
from django.test import Client

from tamarind.people.models import ApiToken
from tamarind.people.services import token_create, token_revoke, user_update

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts/"

EXPECTED_PATHS = {
    "/api/v1/accounts/": {"get", "post"},
    "/api/v1/accounts/{account_id}": {"get", "patch"},
    "/api/v1/accounts/{account_id}/history": {"get"},
    "/api/v1/people/": {"get", "post"},
    "/api/v1/people/{person_id}": {"get", "patch"},
    "/api/v1/regions/": {"get", "post"},
    "/api/v1/regions/{region_id}": {"get", "patch"},
    "/api/v1/tokens/": {"get", "post"},
    "/api/v1/tokens/{token_id}": {"delete"},
}


def bearer(raw):
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_no_credentials_is_401_json(book, client):
    response = client.get(ACCOUNTS)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer tmd_not-a-real-token", "Bearer ", "Bearer", "Basic dXNlcjpwYXNz", "tmd_no_scheme", "Bearer tmd_\x7f"],
)
def test_invalid_credentials_are_401(book, header):
    response = Client(headers={"Authorization": header}).get(ACCOUNTS)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_revoked_token_is_401(book):
    token, raw = token_create(actor=book.tam, user=book.tam, name="script")
    assert bearer(raw).get(ACCOUNTS).status_code == 200
    token_revoke(actor=book.tam, token=token)
    assert bearer(raw).get(ACCOUNTS).status_code == 401


def test_token_of_a_deactivated_user_is_401(book):
    _, raw = token_create(actor=book.tam, user=book.tam, name="script")
    user_update(actor=book.admin, user=book.tam, changes={"is_active": False})
    assert bearer(raw).get(ACCOUNTS).status_code == 401


def test_token_use_is_stamped(book, api_for):
    api_for(book.tam).get(ACCOUNTS)
    assert ApiToken.objects.get(user=book.tam).last_used_at is not None


def test_session_auth_works_for_get(book, client_for):
    response = client_for(book.manager).get(ACCOUNTS)
    assert response.status_code == 200 and response.json()["count"] == 1


def test_session_writes_need_the_csrf_token(book):
    client = Client(enforce_csrf_checks=True)
    client.force_login(book.admin)
    response = client.patch(
        f"{ACCOUNTS}{book.account.pk}", json.dumps({"priority": 2}), content_type="application/json"
    )
    assert response.status_code == 403
    assert "detail" in response.json()
    book.account.refresh_from_db()
    assert book.account.priority == 1


def test_bearer_writes_need_no_csrf_token(book):
    _, raw = token_create(actor=book.admin, user=book.admin, name="script")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    response = client.patch(
        f"{ACCOUNTS}{book.account.pk}", json.dumps({"priority": 2}), content_type="application/json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{", "application/json"),
        ("{'priority': 2}", "application/json"),
        ("[]", "application/json"),
        ("priority=2", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ],
)
def test_malformed_bodies_are_json_4xx_never_500(book, api_for, body, content_type):
    response = api_for(book.admin).patch(f"{ACCOUNTS}{book.account.pk}", body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


def test_wrong_types_are_422_with_the_field(book, api_for):
    response = api_for(book.admin).patch(
        f"{ACCOUNTS}{book.account.pk}",
        json.dumps({"licenses": "many", "priority": [1]}),
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert "licenses" in body["detail"] and "priority" in body["detail"]
    assert isinstance(body["errors"], list)


def test_unknown_route_is_404(book, api_for):
    assert api_for(book.admin).get("/api/v1/nothing-here/").status_code == 404


def test_method_not_allowed_is_405(book, api_for):
    assert api_for(book.admin).delete(f"{ACCOUNTS}{book.account.pk}").status_code == 405


def test_request_id_is_echoed(book, api_for):
    response = api_for(book.admin).get(ACCOUNTS, headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"


def test_openapi_schema_lists_every_route(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = {path: set(ops) for path, ops in schema["paths"].items()}
    for path, methods in EXPECTED_PATHS.items():
        assert methods <= paths.get(path, set()), path
    operations = [op for ops in schema["paths"].values() for op in ops.values()]
    assert {tag for op in operations for tag in op["tags"]} >= {"accounts", "people", "regions", "tokens"}
    assert all(op.get("summary") for op in operations)
    assert {"BearerToken", "SessionAuth"} <= set(schema["components"]["securitySchemes"])
    # Documented filters and error answers.
    list_params = {p["name"] for p in schema["paths"]["/api/v1/accounts/"]["get"]["parameters"]}
    assert {"q", "region", "segment", "tier", "tam", "priority", "arr_min", "arr_max", "sort", "page", "page_size"} <= (
        list_params
    )
    assert {"401", "403", "404", "422"} <= set(schema["paths"]["/api/v1/accounts/{account_id}"]["patch"]["responses"])


@pytest.mark.django_db
def test_unknown_api_route_is_a_json_404(book, api_for):
    client = api_for(book.admin)
    for method in ("get", "post", "patch", "delete"):
        response = getattr(client, method)("/api/v1/nothing/here")
        assert response.status_code == 404
        assert response.json()["detail"].startswith("No API route")
    # A missing trailing slash is a clear 404, not a redirect that drops the body.
    response = client.post("/api/v1/accounts", data={}, content_type="application/json")
    assert response.status_code == 404
