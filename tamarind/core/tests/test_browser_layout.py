"""The layout in a real browser (issue 9): the sidebar at 390 px wide, and the 403 and 404 pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sidebar_collapses_at_390px_and_the_menu_button_opens_it(page, live_server, book):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}{reverse('accounts:list')}")
    sidebar = page.locator("#sidebar")
    menu = page.locator(".menu-toggle")
    assert menu.is_visible() and menu.get_attribute("aria-expanded") == "false"
    assert not sidebar.is_visible()
    main = page.locator("main.page").bounding_box()
    assert main and main["x"] < 1 and main["width"] <= 390, "the page should use the whole width"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
    screenshot(page, "layout-390-sidebar-closed")

    menu.click()
    page.wait_for_function("getComputedStyle(document.querySelector('#sidebar')).transform === 'none'")
    assert sidebar.is_visible() and menu.get_attribute("aria-expanded") == "true"
    box = sidebar.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshot(page, "layout-390-sidebar-open")

    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('.shell').classList.contains('nav-open')")
    assert menu.get_attribute("aria-expanded") == "false"

    # The sidebar's own close button, and a tap beside it, close it too.
    menu.click()
    page.locator(".menu-close").click()
    page.wait_for_function("!document.querySelector('.shell').classList.contains('nav-open')")
    menu.click()
    page.mouse.click(370, 400)
    page.wait_for_function("!document.querySelector('.shell').classList.contains('nav-open')")

    # Open again and follow a link: the next page starts with the sidebar closed.
    menu.click()
    page.locator("#sidebar a", has_text="Accounts to staff").click()
    page.wait_for_url("**/assignment/staffing/")
    assert not page.locator("#sidebar").is_visible()


def test_the_sidebar_stays_put_on_a_wide_screen(page, live_server, book):
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}{reverse('accounts:list')}")
    assert page.locator("#sidebar").is_visible() and not page.locator(".menu-toggle").is_visible()


def test_403_is_styled_with_a_way_back(page, live_server, book):
    login(page, live_server, book.tam)
    accounts = f"{live_server.url}{reverse('accounts:list')}"
    page.goto(accounts)
    response = page.goto(f"{live_server.url}{reverse('assignment:staffing')}", referer=accounts)
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "You may not do that"
    assert "New accounts to staff is the TAM Managers' list." in page.locator("#error-page").inner_text()
    assert page.locator("#error-request-id").inner_text() == response.headers["x-request-id"]
    assert page.locator("#sidebar").is_visible()
    screenshot(page, "error-403")
    page.locator("#error-back").click()
    page.wait_for_url(accounts)


def test_404_is_styled_with_a_way_back_and_home(page, live_server, book):
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}{reverse('accounts:list')}")
    response = page.goto(f"{live_server.url}/accounts/999999/")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator("#error-request-id").inner_text() == response.headers["x-request-id"]
    # No same-site referrer here: "Previous page" goes back in the browser's history.
    assert page.locator("#error-back").is_visible()
    screenshot(page, "error-404")
    page.locator("#error-back").click()
    page.wait_for_url(f"{live_server.url}{reverse('accounts:list')}")
    page.goto(f"{live_server.url}/nowhere/")
    page.locator("#error-home").click()
    # Home is the person's landing page: a TAM Manager's is My week.
    from tamarind import policy

    page.wait_for_url(f"{live_server.url}{reverse(policy.home_url_name(book.manager))}")


def test_404_at_390px(page, live_server, book):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/nowhere/")
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "error-404-390")
