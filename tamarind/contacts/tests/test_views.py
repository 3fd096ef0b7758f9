"""Contact pages: the account page's panel (flag, constant queries), add/edit/delete by htmx, missing Admin list."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.conftest import Book
from tamarind.contacts.models import Contact
from tamarind.testing.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_account_page_shows_contacts_and_the_no_admin_flag(book: Book, client_for: Any) -> None:
    client = client_for(book.tam)
    page = client.get(f"/accounts/{book.account.pk}/").content.decode()
    assert 'id="contacts-panel"' in page and 'id="no-admin-flag"' in page and 'id="contact-add"' in page
    ContactFactory(account=book.account, name="Ada Admin", personas=["admin"], opted_out=True)
    page = client.get(f"/accounts/{book.account.pk}/").content.decode()
    assert "Ada Admin" in page and 'id="no-admin-flag"' not in page and "Opted out" in page
    reader = client_for(book.sal).get(f"/accounts/{book.account.pk}/").content.decode()
    assert "Ada Admin" in reader and 'id="contact-add"' not in reader


def test_account_page_queries_do_not_grow_with_contacts(book: Book, client_for: Any) -> None:
    client = client_for(book.tam)
    url = f"/accounts/{book.account.pk}/"
    ContactFactory(account=book.account, personas=["admin"])
    _queries(client, url)  # warm caches
    small = _queries(client, url)
    for i in range(15):
        ContactFactory(account=book.account, personas=["billing", "champion"], title=f"T{i}")
    assert _queries(client, url) == small


def test_add_edit_delete_by_htmx(book: Book, client_for: Any) -> None:
    client = client_for(book.tam)
    form = client.get(f"/contacts/account/{book.account.pk}/new/", **HX)
    assert form.status_code == 200 and 'id="contact-form"' in form.content.decode()
    response = client.post(
        f"/contacts/account/{book.account.pk}/new/",
        {"name": "Grace Hopper", "email": "Grace@Example.com", "title": "CTO", "personas": ["billing"]},
        **HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="panel" id="contacts-panel">') and "grace@example.com" in body
    assert 'id="no-admin-flag"' in body
    contact = Contact.objects.get()
    edit = client.get(f"/contacts/{contact.pk}/edit/", **HX)
    assert edit.status_code == 200 and 'value="grace@example.com"' in edit.content.decode()
    response = client.post(
        f"/contacts/{contact.pk}/edit/",
        {"name": "Grace Hopper", "email": "grace@example.com", "title": "CTO", "personas": ["billing", "admin"]},
        **HX,
    )
    assert response.status_code == 200 and 'id="no-admin-flag"' not in response.content.decode()
    assert sorted(p.key for p in contact.personas.all()) == ["admin", "billing"]
    response = client.post(f"/contacts/{contact.pk}/delete/", **HX)
    assert response.status_code == 200 and not Contact.objects.exists()
    assert "No contacts recorded" in response.content.decode()


def test_errors_are_400_with_the_form(book: Book, client_for: Any) -> None:
    ContactFactory(account=book.account, email="taken@example.com")
    client = client_for(book.manager)
    url = f"/contacts/account/{book.account.pk}/new/"
    response = client.post(url, {"name": "X", "email": "TAKEN@example.com"}, **HX)
    assert response.status_code == 400
    assert "taken@example.com is already a contact of Acme Corp." in response.content.decode()
    response = client.post(url, {"name": "X", "email": "nope"})
    assert response.status_code == 400 and "is not a valid email address" in response.content.decode()
    assert "<html" in response.content.decode().lower()  # a plain post gets the full page
    response = client.post(url, {"name": "X", "email": "x@example.com", "personas": ["wizard"]}, **HX)
    assert response.status_code == 400 and Contact.objects.count() == 1


def test_a_plain_post_goes_back_to_the_account(book: Book, client_for: Any) -> None:
    response = client_for(book.admin).post(
        f"/contacts/account/{book.account.pk}/new/", {"name": "Ada", "email": "ada@example.com"}
    )
    assert response.status_code == 302 and response["Location"] == f"/accounts/{book.account.pk}/"


def test_missing_admin_page_is_scoped_and_constant(book: Book, client_for: Any) -> None:
    ContactFactory(account=book.account, personas=["admin"])
    client = client_for(book.manager)
    body = client.get("/contacts/missing-admin/").content.decode()
    assert "Acme Corp" not in body and "Globex" not in body
    bare = AccountFactory(region=book.east, name="Bare Industries")
    body = client.get("/contacts/missing-admin/").content.decode()
    assert "Bare Industries" in body and "Globex" not in body
    assert "Globex" in client_for(book.admin).get("/contacts/missing-admin/").content.decode()
    small = _queries(client, "/contacts/missing-admin/")
    for i in range(12):
        AccountFactory(region=book.east, name=f"Bare {i}", tam=book.tam)
    assert _queries(client, "/contacts/missing-admin/") == small
    assert bare.pk
