"""The product's 403, 404 and 500 pages (issue 9): in the base layout, with a way back and the request id; the 404
is the product's even with DEBUG on (``make run``); and a favicon on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def assert_product_page(response, status: int) -> str:  # type: ignore[no-untyped-def]
    body = response.content.decode()
    assert response.status_code == status
    assert 'class="shell"' in body, "not in the base layout"
    assert 'id="error-home"' in body and 'id="error-back"' in body, "no way back"
    rid = response["X-Request-ID"]
    assert f'<code id="error-request-id">{rid}</code>' in body
    assert "tamarind/favicon.svg" in body
    return body


def test_404_for_an_unknown_page(book, client_for):
    body = assert_product_page(client_for(book.manager).get("/no/such/page/"), 404)
    assert "Page not found" in body
    assert 'href="/accounts/"' in body  # the sidebar is there for a signed-in person


def test_404_for_an_account_out_of_scope(book, client_for):
    body = assert_product_page(
        client_for(book.manager).get(reverse("accounts:detail", args=[book.other_account.pk])), 404
    )
    assert "Page not found" in body


def test_403_says_why_and_offers_the_previous_page(book, client_for):
    client = client_for(book.tam)
    response = client.get(reverse("assignment:staffing"), HTTP_REFERER="http://testserver/accounts/?page=2")
    body = assert_product_page(response, 403)
    assert "New accounts to staff is the TAM Managers&#x27; list." in body
    assert 'href="/accounts/?page=2" id="error-back"' in body


def test_the_way_back_never_leads_off_site(book, client_for):
    body = client_for(book.tam).get(reverse("assignment:staffing"), HTTP_REFERER="https://evil.example/x").content
    assert b"evil.example" not in body


def test_404_for_someone_signed_out_offers_the_sign_in(db):
    body = assert_product_page(Client().get("/no/such/page/"), 404)
    assert "Sign in" in body and "Sign out" not in body


def test_the_404_is_the_products_with_debug_on(book, client_for, settings):
    settings.DEBUG = True  # what `make run` serves
    client = client_for(book.manager)
    for url in ("/no/such/page/", reverse("accounts:detail", args=[book.other_account.pk])):
        body = assert_product_page(client.get(url), 404)
        assert "Django tried these URL patterns" not in body and "Page not found" in body


def test_the_api_keeps_json_404s(book, api_for, settings):
    for debug in (False, True):
        settings.DEBUG = debug
        response = api_for(book.manager).get("/api/v1/no-such-route")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")


def test_500_in_the_layout_with_the_request_id(book, client_for, settings):
    from tamarind.core import views

    request = client_for(book.manager).get(reverse("accounts:list")).wsgi_request
    request.request_id = "abc123"  # type: ignore[attr-defined]
    response = views.server_error(request)
    body = response.content.decode()
    assert response.status_code == 500 and 'class="shell"' in body
    assert '<code id="error-request-id">abc123</code>' in body


def test_500_still_answers_when_the_layout_cannot_render(rf, monkeypatch):
    from tamarind.core import views

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database is gone")

    monkeypatch.setattr(views, "render", broken)
    request = rf.get("/")
    request.request_id = "r-1"
    response = views.server_error(request)
    assert response.status_code == 500 and b"r-1" in response.content and b'href="/"' in response.content


def test_a_csrf_failure_is_a_styled_403(book):
    client = Client(enforce_csrf_checks=True)
    client.force_login(book.manager)
    response = client.post(reverse("accounts:set_tam", args=[book.account.pk]), {"tam": book.tam.pk})
    body = assert_product_page(response, 403)
    assert "form has expired" in body


def test_the_favicon_is_a_static_file_linked_from_every_layout(book, client_for):
    path = finders.find("tamarind/favicon.svg")
    assert path and Path(str(path)).read_text().lstrip().startswith("<svg")
    assert "tamarind/favicon.svg" in client_for(book.manager).get(reverse("accounts:list")).content.decode()
    assert "tamarind/favicon.svg" in Client().get(reverse("login")).content.decode()
