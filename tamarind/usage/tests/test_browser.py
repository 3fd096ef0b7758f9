"""The usage pages in a real browser: an account's usage with its chart, and an admin adding a metric."""

import datetime as dt

import pytest

from tamarind.testing.browser import login, screenshot
from tamarind.usage.rows import TicketRow, UsageRow
from tamarind.usage.services import tickets_ingest, usage_ingest_daily

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_account_usage_page_shows_facts_chart_and_tickets(page, live_server, book):
    crm = book.account.crm_id
    rows = []
    for month in range(1, 7):
        day = dt.date(2026, month, 15)
        rows += [
            UsageRow(crm, day, "licenses", 300),
            UsageRow(crm, day, "active_users", 40 * month),
            UsageRow(crm, day, "ci_users", 10 * month),
        ]
    usage_ingest_daily(actor=book.admin, rows=rows)
    opened = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    tickets_ingest(actor=book.admin, rows=[TicketRow(crm, "ZD-1001", opened, None, "urgent", "open")])
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/usage/accounts/{book.account.pk}/")
    assert page.locator("h1").inner_text() == "Usage of Acme Corp"
    assert page.locator("[data-fact=utilization]").inner_text() == "80%"
    assert page.locator("[data-fact=urgent]").inner_text() == "1"
    page.wait_for_function("document.getElementById('usage-chart').chart !== undefined")
    assert page.locator("#usage-months tbody tr").count() == 6
    assert "ZD-1001" in page.locator("#usage-tickets").inner_text()
    screenshot(page, "usage-account")


def test_admin_adds_a_use_case_metric(page, live_server, book):
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/usage/metrics/")
    page.fill("#id_key", "pages_users")
    page.fill("#id_label", "Pages users")
    page.click("#metric-form button[type=submit]")
    page.wait_for_selector("[data-metric=pages_users]")
    assert "Use case" in page.locator("[data-metric=pages_users]").inner_text()
    screenshot(page, "usage-metrics")
