"""Who is asking, on every API operation: unauthenticated writes answer 401 like reads (never the CSRF 403),
and a signed-in browser's write still needs its CSRF token."""

from __future__ import annotations

import json

import pytest
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client

from tamarind.audit.models import AuditEvent
from tamarind.people.services import token_create, token_revoke, user_update
from tamarind.testing.api_operations import WRITE_METHODS, api_operations

pytestmark = pytest.mark.django_db

WRITES = api_operations(methods=WRITE_METHODS)
EVERY = api_operations()


def test_the_walk_covers_every_write_method():
    assert {op.method for op in WRITES} == set(WRITE_METHODS)
    assert len(WRITES) >= 30


def _send(client: Client, op, **extra):
    url = op.url(10**9)  # no such row: the walk must not delete the token it authenticates with
    if op.method == "get":
        return client.get(url, **extra)
    if op.body_content_type() == "multipart/form-data":
        return getattr(client, op.method)(url, {"dry_run": "true"}, **extra)
    return getattr(client, op.method)(url, json.dumps({}), content_type="application/json", **extra)


def _unauthenticated_clients(book):
    revoked, revoked_raw = token_create(actor=book.tam, user=book.tam, name="revoked")
    token_revoke(actor=book.tam, token=revoked)
    _, inactive_raw = token_create(actor=book.sa, user=book.sa, name="gone")
    user_update(actor=book.admin, user=book.sa, changes={"is_active": False})
    logged_out = Client(enforce_csrf_checks=True)
    logged_out.cookies["csrftoken"] = _get_new_csrf_string()  # a browser that signed out keeps its CSRF cookie
    logged_out.cookies["sessionid"] = "expired-session-key"
    return {
        "no credentials": Client(enforce_csrf_checks=True),
        "forged token": Client(enforce_csrf_checks=True, headers={"Authorization": "Bearer tmd_forged0123456789"}),
        "revoked token": Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {revoked_raw}"}),
        "deactivated user's token": Client(
            enforce_csrf_checks=True, headers={"Authorization": f"Bearer {inactive_raw}"}
        ),
        "expired session": logged_out,
    }


def test_every_operation_without_valid_credentials_is_401(book):
    clients = _unauthenticated_clients(book)
    events = AuditEvent.objects.count()
    wrong = []
    for name, client in clients.items():
        for op in EVERY:
            response = _send(client, op)
            if response.status_code != 401 or "detail" not in response.json():
                wrong.append(f"{name}: {op} -> {response.status_code} {response.content[:80]!r}")
    assert not wrong, "\n".join(wrong)
    assert AuditEvent.objects.count() == events


def test_a_signed_in_browser_write_without_its_csrf_token_is_403(book):
    client = Client(enforce_csrf_checks=True)
    client.force_login(book.admin)
    events = AuditEvent.objects.count()
    wrong = []
    for op in WRITES:
        response = _send(client, op)
        if response.status_code != 403 or response.json().get("detail") != "CSRF check Failed":
            wrong.append(f"{op} -> {response.status_code} {response.content[:80]!r}")
    assert not wrong, "\n".join(wrong)
    assert AuditEvent.objects.count() == events


def test_a_signed_in_browser_write_with_its_csrf_token_passes_the_check(book):
    client = Client(enforce_csrf_checks=True)
    client.force_login(book.admin)
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    for op in WRITES:
        response = _send(client, op, headers={"X-CSRFToken": _mask_cipher_secret(secret)})
        assert response.status_code != 401, op
        assert response.status_code < 500, op
        if response.status_code == 403:
            assert response.json()["detail"] != "CSRF check Failed", op


def test_bearer_writes_need_no_csrf_token_on_any_router(book):
    _, raw = token_create(actor=book.admin, user=book.admin, name="script")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    for op in WRITES:
        response = _send(client, op)
        assert response.status_code not in (401, 403) or response.json()["detail"] != "CSRF check Failed", op
        assert response.status_code != 401, op
