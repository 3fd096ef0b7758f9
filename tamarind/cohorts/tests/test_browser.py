"""A cohort in a real browser: record activity by htmx on the cohort page, then read the report (members against
similar non-members) and compare two pilots side by side."""

import datetime as dt

import pytest

from tamarind.cohorts.models import CohortActivity
from tamarind.cohorts.tests.helpers import account, add, health, make_cohort, onboarding, ticket
from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = dt.date


def test_add_activity_and_read_report(page, live_server, book):
    today = dt.date.today()
    start = today - dt.timedelta(days=60)
    cohort = make_cohort(book.admin, name="Pilot A: SMB circle", owners=[book.tam], starts_on=start)
    other = make_cohort(book.admin, name="Pilot B: security guild", owners=[book.tam], starts_on=start)
    for i in range(4):
        m = account(book.east, name=f"Member {i}", customer_since=start - dt.timedelta(days=10 * i))
        add(book.admin, cohort, m, joined=start)
        onboarding(m, m.customer_since, m.customer_since + dt.timedelta(days=12 + i))
        health(m, 80 + i, "green")
        o = account(book.east, name=f"Peer {i}", customer_since=start - dt.timedelta(days=10 * i))
        onboarding(o, o.customer_since, o.customer_since + dt.timedelta(days=40 + i))
        health(o, 50 + i, "yellow")
        ticket(o, today - dt.timedelta(days=5))
    add(book.admin, other, account(book.east, name="Guild member", customer_since=start), joined=start)

    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/cohorts/{cohort.pk}/")
    assert "Pilot A" in page.locator("h1").inner_text()
    page.select_option("#id_member", label="Member 2")
    page.select_option("#id_kind", "answer")
    page.fill("#id_day", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#id_count", "3")
    page.fill("#id_notes", "Answered a runner question in the forum")
    page.click("#activity-form button[type=submit]")
    page.wait_for_selector("#activity-table >> text=Answered a runner question")
    assert "3 answers" in page.locator("#activity-totals").inner_text()
    assert CohortActivity.objects.get().count == 3
    screenshot(page, "cohort-detail-activity")

    page.click("#report-link")
    page.wait_for_selector("#report-basis")
    assert "4 member accounts against 4 similar non-members" in page.locator("#report-basis").inner_text()
    row = page.locator("tr[data-figure=first_value_days]").inner_text()
    assert "13.5" in row and "41.5" in row  # members 12..15 days, peers 40..43
    assert "Beyond the noise" in row or "Within the noise" in row
    assert "Member 2" in page.locator("#report-activity").inner_text()
    screenshot(page, "cohort-report")

    page.goto(f"{live_server.url}/cohorts/compare/")
    page.select_option("#id_a", label=cohort.name)
    page.select_option("#id_b", label=other.name)
    page.click("#compare-form button[type=submit]")
    page.wait_for_selector("#compare-reports")
    text = page.locator("#compare-reports").inner_text()
    assert "Pilot A" in text and "Pilot B" in text
    screenshot(page, "cohort-compare")
