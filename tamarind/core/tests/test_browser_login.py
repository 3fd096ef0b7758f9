"""Signing in and out in a real browser."""

import pytest

from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_page_and_bad_password(page, live_server, book):
    page.goto(f"{live_server.url}/accounts/")
    assert "/login/" in page.url
    screenshot(page, "login")
    login(page, live_server, book.manager, password="wrong-password")
    assert page.locator(".messages .error").inner_text().startswith("That email and password")


def test_login_lands_on_my_week_and_logout(page, live_server, book):
    login(page, live_server, book.manager)
    assert page.url.endswith("/reviews/my-week/")  # a TAM Manager's home page
    assert "Mia Manager" in page.locator(".topbar").inner_text()
    page.click("text=Sign out")
    page.wait_for_url("**/login/")
