"""The contacts REST API: list with filters and pagination, get, create, update, delete, opt-out and opt-in."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.conftest import Book
from tamarind.contacts.models import Contact
from tamarind.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_create_get_update_delete(book: Book, api_for: Any) -> None:
    api = api_for(book.tam)
    response = api.post(
        "/api/v1/contacts",
        {"account": book.account.pk, "name": "Ada", "email": "ADA@example.com", "personas": ["admin"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["email"] == "ada@example.com" and data["personas"] == [{"key": "admin", "name": "Admin"}]
    assert data["account"]["crm_id"] == book.account.crm_id
    pk = data["id"]
    assert api.get(f"/api/v1/contacts/{pk}").json()["name"] == "Ada"
    response = api.patch(
        f"/api/v1/contacts/{pk}", {"title": "CTO", "personas": ["billing"]}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["title"] == "CTO"
    assert [p["key"] for p in response.json()["personas"]] == ["billing"]
    assert AuditEvent.objects.filter(object_type="contacts.contact", source="api").count() == 2
    assert api.delete(f"/api/v1/contacts/{pk}").status_code == 204
    assert not Contact.objects.exists()


def test_bad_input_is_422(book: Book, api_for: Any) -> None:
    api = api_for(book.tam)
    ContactFactory(account=book.account, email="taken@example.com")
    for body in (
        {"account": book.account.pk, "name": "X", "email": "nope"},
        {"account": book.account.pk, "name": "X", "email": "taken@example.com"},
        {"account": book.account.pk, "name": "X", "email": "x@example.com", "personas": ["wizard"]},
        {"account": book.account.pk, "name": "X", "email": "x@example.com", "colour": "red"},
    ):
        response = api.post("/api/v1/contacts", body, content_type="application/json")
        assert response.status_code == 422, (body, response.content)
    assert "already a contact" in str(
        api.post(
            "/api/v1/contacts",
            {"account": book.account.pk, "name": "X", "email": "taken@example.com"},
            content_type="application/json",
        ).json()
    )
    response = api.post(
        "/api/v1/contacts", {"account": book.other_account.pk, "name": "X", "email": "x@example.com"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 404
    assert api.get("/api/v1/contacts/99999999").status_code == 404
    assert Contact.objects.count() == 1


def test_opt_out_and_in_are_idempotent(book: Book, api_for: Any) -> None:
    contact = ContactFactory(account=book.account)
    api = api_for(book.manager)
    first = api.post(f"/api/v1/contacts/{contact.pk}/opt-out").json()
    second = api.post(f"/api/v1/contacts/{contact.pk}/opt-out").json()
    assert first["opted_out"] and first["opted_out_at"] == second["opted_out_at"]
    assert not api.post(f"/api/v1/contacts/{contact.pk}/opt-in").json()["opted_out"]
    assert AuditEvent.objects.filter(object_type="contacts.contact").count() == 2


def test_list_filters_and_paginates(book: Book, api_for: Any) -> None:
    ContactFactory(account=book.account, email="ada@example.com", personas=["admin"])
    ContactFactory(account=book.account, email="bob@example.com", personas=["billing"], opted_out=True)
    ContactFactory(account=book.other_account, email="ada@example.com")
    api = api_for(book.tam)
    data = api.get("/api/v1/contacts").json()
    assert data["count"] == 2, [(c["email"], c["account"]) for c in data["results"]]
    assert {c["email"] for c in data["results"]} == {"ada@example.com", "bob@example.com"}
    assert api.get("/api/v1/contacts?persona=admin").json()["count"] == 1
    assert api.get("/api/v1/contacts?email=BOB@example.com&opted_out=true").json()["count"] == 1
    assert api.get(f"/api/v1/contacts?account={book.other_account.pk}").json()["count"] == 0
    page = api.get("/api/v1/contacts?page_size=1&page=2").json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["page"] == 2
    assert api_for(book.admin).get("/api/v1/contacts?email=ada@example.com").json()["count"] == 2


def test_list_queries_are_constant(book: Book, api_for: Any) -> None:
    api = api_for(book.admin)
    ContactFactory(account=book.account, personas=["admin"])
    api.get("/api/v1/contacts")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/contacts").status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for _ in range(20):
        ContactFactory(account=book.other_account, personas=["billing", "champion"])
    assert count() == small
