"""A busy database in a real browser: an htmx write says so on the page, a form write shows the 503 page, and both
go through once the long writer is done. A real server over an SQLite file whose write lock the test holds."""

from __future__ import annotations

import pytest

from tamarind.core.tests.test_sqlite_busy import PASSWORD, Writer, server  # noqa: F401 - the server fixture
from tamarind.testing.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_writes_behind_a_long_writer_say_so_and_go_through_after(page, server):  # noqa: F811
    base = server["base"]
    page.goto(base + "/login/")
    page.fill("input[name=username]", "admin@busy.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/accounts/**")

    page.goto(base + "/notifications/")
    row = page.locator(f"#notification-{server['note']}")
    writer = Writer(server["db"])
    try:
        row.locator("button.mark-read").click()
        banner = page.locator("ul.messages [data-busy]")
        banner.wait_for(timeout=15_000)
        assert "The database is busy" in banner.inner_text() and "Try again in 5 seconds" in banner.inner_text()
        assert "Mark read" in row.inner_text()  # nothing changed
        screenshot(page, "busy-htmx-write")

        page.goto(base + f"/accounts/{server['account']}/edit/")  # reading is not held up
        page.fill("input[name=licenses]", "42")
        page.click("button:has-text('Save')")
        page.wait_for_selector("#database-busy")
        assert "The database is busy" in page.locator("h1").inner_text()
        screenshot(page, "busy-page")
    finally:
        writer.release()

    page.go_back()
    page.fill("input[name=licenses]", "42")
    page.click("button:has-text('Save')")
    page.wait_for_url(base + f"/accounts/{server['account']}/")
    assert "42" in page.locator("main").inner_text()
    page.goto(base + "/notifications/")
    page.locator(f"#notification-{server['note']} button.mark-read").click()
    page.wait_for_selector(f"#notification-{server['note']} >> text=Read")
