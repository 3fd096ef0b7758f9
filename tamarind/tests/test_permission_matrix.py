"""The permission matrix: every route x every role, each cell asserted, and a meta-test that fails when a URL
has no row here.

Each row names a route, the request that exercises it (the write method for write routes), and the status
each role must get. Roles are the ``book`` fixture's cast plus an anonymous visitor:
``manager``/``tam``/``tam2``/``sal``/``sa`` sit in (or own accounts in) region east with ``book.account``;
``other_manager``/``other_tam`` are in region west and are outsiders to ``book.account``.
Denied requests (401/403/404, or the login redirect) must write nothing: no audit event appears.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tamarind.audit.models import AuditEvent
from tamarind.imports import services as import_services
from tamarind.imports.models import ImportMapping
from tamarind.people.services import token_create
from tamarind.testing.matrix import (
    ACCOUNT_OUTSIDERS,
    ACCOUNT_READERS,
    LOGIN,
    ROLES,
    Row,
    account_write,
    app_rows,
    everyone,
    only,
)


def acc(book: Any, t: dict[str, Any]) -> int:
    return book.account.pk


ROWS: list[Row] = [
    *app_rows(),
    # --- web: core --------------------------------------------------------------------------------------------
    Row("home", "get", lambda b, t: "/", everyone(302)),
    Row("healthz", "get", lambda b, t: "/healthz", everyone(200, anonymous=200)),
    Row("login", "get", lambda b, t: "/login/", everyone(302, anonymous=200)),
    Row("logout", "post", lambda b, t: "/logout/", everyone(302, anonymous=302)),
    # --- web: accounts ----------------------------------------------------------------------------------------
    Row("accounts:list", "get", lambda b, t: "/accounts/", everyone(200)),
    Row(
        "accounts:create",
        "get",
        lambda b, t: "/accounts/new/",
        only({"admin": 200, "manager": 200, "other_manager": 200}, 403),
    ),
    Row(
        "accounts:detail",
        "get",
        lambda b, t: f"/accounts/{acc(b, t)}/",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404),
    ),
    Row("accounts:edit", "get", lambda b, t: f"/accounts/{acc(b, t)}/edit/", account_write(200)),
    Row(
        "accounts:set_tam",
        "post",
        lambda b, t: f"/accounts/{acc(b, t)}/tam/",
        only({"admin": 200, "manager": 200, "tam": 403, **ACCOUNT_OUTSIDERS}, 403),
        data=lambda b, t: {"tam": b.tam2.pk},
        json=False,
        headers={"HX-Request": "true"},
    ),
    # --- web: people, regions, tokens -------------------------------------------------------------------------
    Row("people:list", "get", lambda b, t: "/people/", everyone(200)),
    Row("people:create", "get", lambda b, t: "/people/new/", only({"admin": 200}, 403)),
    Row("people:detail", "get", lambda b, t: f"/people/{b.tam.pk}/", everyone(200)),
    Row("people:edit", "get", lambda b, t: f"/people/{b.tam.pk}/edit/", only({"admin": 200}, 403)),
    Row("people:regions", "get", lambda b, t: "/people/regions/", everyone(200)),
    Row("people:region_create", "get", lambda b, t: "/people/regions/new/", only({"admin": 200}, 403)),
    Row("people:region_detail", "get", lambda b, t: f"/people/regions/{b.east.pk}/", everyone(200)),
    Row("people:region_edit", "get", lambda b, t: f"/people/regions/{b.east.pk}/edit/", only({"admin": 200}, 403)),
    Row("people:tokens", "get", lambda b, t: "/people/tokens/", everyone(200)),
    Row(
        "people:token_revoke",
        "post",
        lambda b, t: f"/people/tokens/{t['token'].pk}/revoke/",
        only({"tam": 302, "admin": 302}, 404),
        json=False,
    ),
    # --- web: imports -----------------------------------------------------------------------------------------
    Row("imports:list", "get", lambda b, t: "/imports/", only({"admin": 200}, 403)),
    Row("imports:upload", "get", lambda b, t: "/imports/new/", only({"admin": 200}, 403)),
    Row("imports:detail", "get", lambda b, t: f"/imports/{t['job'].pk}/", only({"admin": 200}, 404)),
    Row("imports:apply", "post", lambda b, t: f"/imports/{t['job'].pk}/apply/", only({"admin": 302}, 404), json=False),
    Row("imports:errors", "get", lambda b, t: f"/imports/{t['job'].pk}/errors.csv", only({"admin": 200}, 404)),
    Row("imports:mappings", "get", lambda b, t: "/imports/mappings/", only({"admin": 200}, 403)),
    Row("imports:mapping_create", "get", lambda b, t: "/imports/mappings/new/", only({"admin": 200}, 403)),
    Row("imports:mapping_edit", "get", lambda b, t: f"/imports/mappings/{t['mapping'].pk}/", only({"admin": 200}, 404)),
    # --- web: audit -------------------------------------------------------------------------------------------
    Row("audit:log", "get", lambda b, t: "/audit/", only({"admin": 200}, 403)),
    Row("audit:export", "get", lambda b, t: "/audit/export.csv", only({"admin": 200}, 403)),
    # --- API (bearer token; anonymous gets 401) ---------------------------------------------------------------
    Row("api:openapi-json", "get", lambda b, t: "/api/v1/openapi.json", everyone(200, anonymous=200), api=True),
    Row("api:openapi-view", "get", lambda b, t: "/api/v1/docs", everyone(200, anonymous=200), api=True),
    Row("api:api-root", "get", lambda b, t: "/api/v1/", everyone(404, anonymous=404), api=True),
    Row("api:unknown_route", "get", lambda b, t: "/api/v1/no/such/route", everyone(404, anonymous=404), api=True),
    Row("api:account_list", "get", lambda b, t: "/api/v1/accounts/", everyone(200, anonymous=401), api=True),
    Row(
        "api:account_create",
        "post",
        lambda b, t: "/api/v1/accounts/",
        only({"admin": 201, "manager": 201}, 403, anonymous=401),
        data=lambda b, t: {"crm_id": "M-1", "name": "Matrix Co", "region_id": b.east.pk, "segment": "smb"},
        api=True,
    ),
    Row(
        "api:account_detail",
        "get",
        lambda b, t: f"/api/v1/accounts/{acc(b, t)}",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api:account_update",
        "patch",
        lambda b, t: f"/api/v1/accounts/{acc(b, t)}",
        {**account_write(200), "anonymous": 401},
        data=lambda b, t: {"priority": 2},
        api=True,
    ),
    Row(
        "api:account_history",
        "get",
        lambda b, t: f"/api/v1/accounts/{acc(b, t)}/history",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401),
        api=True,
    ),
    Row("api:people_list", "get", lambda b, t: "/api/v1/people/", everyone(200, anonymous=401), api=True),
    Row(
        "api:person_create",
        "post",
        lambda b, t: "/api/v1/people/",
        only({"admin": 201}, 403, anonymous=401),
        data=lambda b, t: {
            "email": "new@example.com",
            "full_name": "New Person",
            "role": "tam",
            "region_id": b.east.pk,
        },
        api=True,
    ),
    Row("api:person_detail", "get", lambda b, t: f"/api/v1/people/{b.tam.pk}", everyone(200, anonymous=401), api=True),
    Row(
        "api:person_update",
        "patch",
        lambda b, t: f"/api/v1/people/{b.tam.pk}",
        only({"admin": 200}, 403, anonymous=401),
        data=lambda b, t: {"full_name": "Tara T. Tam"},
        api=True,
    ),
    Row("api:region_list", "get", lambda b, t: "/api/v1/regions/", everyone(200, anonymous=401), api=True),
    Row(
        "api:region_create",
        "post",
        lambda b, t: "/api/v1/regions/",
        only({"admin": 201}, 403, anonymous=401),
        data=lambda b, t: {"name": "LATAM"},
        api=True,
    ),
    Row(
        "api:region_detail", "get", lambda b, t: f"/api/v1/regions/{b.east.pk}", everyone(200, anonymous=401), api=True
    ),
    Row(
        "api:region_update",
        "patch",
        lambda b, t: f"/api/v1/regions/{b.east.pk}",
        only({"admin": 200}, 403, anonymous=401),
        data=lambda b, t: {"name": "AMER Northeast"},
        api=True,
    ),
    Row("api:token_list", "get", lambda b, t: "/api/v1/tokens/", everyone(200, anonymous=401), api=True),
    Row(
        "api:token_create",
        "post",
        lambda b, t: "/api/v1/tokens/",
        everyone(201, anonymous=401),
        data=lambda b, t: {"name": "matrix"},
        api=True,
    ),
    Row(
        "api:token_revoke",
        "delete",
        lambda b, t: f"/api/v1/tokens/{t['token'].pk}",
        only({"tam": 204, "admin": 204}, 404, anonymous=401),
        api=True,
    ),
    Row("api:list_imports", "get", lambda b, t: "/api/v1/imports/", only({"admin": 200}, 403, anonymous=401), api=True),
    Row(
        "api:upload_import",
        "post",
        lambda b, t: "/api/v1/imports/",
        only({"admin": 202}, 403, anonymous=401),
        data=lambda b, t: "upload",
        api=True,
    ),
    Row(
        "api:get_import",
        "get",
        lambda b, t: f"/api/v1/imports/{t['job'].pk}",
        only({"admin": 200}, 404, anonymous=401),
        api=True,
    ),
]

# URLs deliberately outside the matrix, with the reason.
EXEMPT = {
    # Django's own admin site: gated by is_staff (admins only) and covered by the apps' test_admin modules.
    "django-admin",
}

CSV = (
    "Account ID,Account Name,Sales Segment,Region,CARR (This Account),Products Purchased\n"
    "MX-1,Matrix Import Co,Enterprise,AMER East,90000,Premium\n"
)


def targets(book: Any, tmp_path: Any) -> dict[str, Any]:
    """Objects the routes act on: a token of ``book.tam``, a finished dry-run import, the default mapping."""
    token, _ = token_create(actor=book.tam, user=book.tam, name="matrix")
    path = tmp_path / "matrix.csv"
    path.write_text(CSV, encoding="utf-8")
    job = import_services.import_job_create_from_path(actor=book.admin, path=path, dry_run=True)
    job = import_services.import_job_run(job_id=job.pk)
    return {"token": token, "job": job, "mapping": ImportMapping.objects.order_by("pk").first()}


def client_as(role: str, book: Any, api: bool) -> Client:
    if role == "anonymous":
        return Client()
    user = getattr(book, role)
    if api:
        _, raw = token_create(actor=user, user=user, name="matrix-client")
        return Client(headers={"Authorization": f"Bearer {raw}"})
    client = Client()
    client.force_login(user)
    return client


def send(row: Row, client: Client, book: Any, t: dict[str, Any], tmp_path: Any) -> Any:
    """Make the row's request as ``client``: its method, body (JSON, form or CSV upload) and headers."""
    url = row.path(book, t)
    kwargs: dict[str, Any] = {"headers": row.headers} if row.headers else {}
    payload = row.data(book, t) if row.data else None
    if payload == "upload":
        upload = tmp_path / "upload.csv"
        upload.write_text(CSV, encoding="utf-8")
        with upload.open("rb") as fh:
            return client.post(url, {"file": fh, "dry_run": "true"}, **kwargs)
    if row.method == "get":
        return client.get(url, **kwargs)
    if row.json and payload is not None:
        return getattr(client, row.method)(url, data=payload, content_type="application/json", **kwargs)
    return getattr(client, row.method)(url, data=payload or {}, **kwargs)


def denied(row: Row, role: str) -> bool:
    status = row.expect[role]
    return status in (401, 403, 404) or (role == "anonymous" and status == LOGIN)


CELLS = [pytest.param(row, role, id=f"{row.name}-{role}") for row in ROWS for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "role"), CELLS)
def test_cell(row: Row, role: str, book: Any, tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    t = targets(book, tmp_path)
    client = client_as(role, book, row.api)
    response = send(row, client, book, t, tmp_path)
    expected = row.expect[role]
    assert response.status_code == expected, (
        f"{row.method.upper()} {row.path(book, t)} as {role}: {response.status_code}, expected {expected}: "
        f"{response.content[:300]!r}"
    )


WRITE_ROWS = [r for r in ROWS if r.method != "get" and r.name not in {"logout", "api:unknown_route"}]


@pytest.mark.django_db
@pytest.mark.parametrize("row", WRITE_ROWS, ids=lambda r: r.name)
def test_denied_writes_write_nothing(row: Row, book: Any, tmp_path: Any, settings: Any) -> None:
    """Every denied write leaves the audit trail (and so the business data it records) untouched."""
    settings.MEDIA_ROOT = tmp_path / "media"
    t = targets(book, tmp_path)
    for role in ROLES:
        if not denied(row, role):
            continue
        client = client_as(role, book, row.api)
        before = AuditEvent.objects.count()
        response = send(row, client, book, t, tmp_path)
        assert response.status_code == row.expect[role]
        assert AuditEvent.objects.count() == before, f"{row.name} as {role} wrote an audit event"


def _all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("django-admin"):
                    names.add("django-admin")
                    continue
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern):
                if not p.name:
                    names.add(f"<unnamed {p.pattern}>")
                else:
                    names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_has_a_row() -> None:
    covered = {row.name for row in ROWS} | EXEMPT
    missing = _all_url_names() - covered
    assert not missing, f"URLs with no row in the permission matrix: {sorted(missing)}"


def test_every_row_names_a_real_url_and_every_role() -> None:
    stale = {row.name for row in ROWS} - _all_url_names()
    assert not stale, f"Rows for URLs that no longer exist: {sorted(stale)}"
    for row in ROWS:
        assert set(row.expect) == set(ROLES), f"{row.name} does not give every role a status"
