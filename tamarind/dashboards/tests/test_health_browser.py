"""The Customer Health Dashboard in a real browser: a manager reviews the mix, the lists and the indicators, then
filters by segment and TAM with htmx (screenshots)."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.accounts.models import Segment
from tamarind.dashboards.tests.test_health_dashboard import review, scored
from tamarind.health.models import HealthScore
from tamarind.testing.browser import login, screenshot
from tamarind.timeline.models import TimelineEntry
from tamarind.triage.models import TriageCase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = [
    # name, tam, color, score, segment, bands, drag, review days ago
    ("Northwind Traders", "tam", "red", 22, Segment.ENTERPRISE, {"sentiment": "red", "product_usage": "red"}, "sentiment", 20),
    ("Contoso Pharma", "tam2", "red", 41, Segment.MID_MARKET, {"sentiment": "yellow", "support": "red"}, "support", 130),
    ("Fabrikam", "tam", "yellow", 58, Segment.SMB, {"sentiment": "yellow", "engagement": "yellow"}, "engagement", 95),
    ("Tailspin Toys", "tam2", "yellow", 66, Segment.ENTERPRISE, {"sentiment": "green", "product_usage": "yellow"}, "product_usage", 10),
    ("Wide World Importers", "tam", "green", 88, Segment.ENTERPRISE, {"sentiment": "green", "engagement": "green"}, "", 30),
    ("Adventure Works", "tam2", "green", 97, Segment.SMB, {"sentiment": "green", "support": "green"}, "", 5),
]  # fmt: skip


@pytest.fixture
def health(book):
    today = timezone.localdate()
    for name, tam, color, score, segment, bands, drag, days in ROWS:
        account = scored(
            book.east,
            getattr(book, tam),
            color,
            score,
            segment=segment,
            bands=bands,
            drag=drag,
            name=name,
            arr=score * 1000,
            next_renewal_date=today + dt.timedelta(days=score * 2),
        )
        review(account, days, color="red" if color == "red" else "green")
        HealthScore.objects.filter(account=account).update(stale=days > 90)  # as the recompute flags it
        if color == "red":
            TriageCase.objects.create(
                account=account, health_color="red", last_update_at=timezone.now() - dt.timedelta(days=score)
            )
        TimelineEntry.objects.create(
            account=account, kind="call", title="Cadence call", occurred_at=timezone.now() - dt.timedelta(days=score)
        )
    scored(book.west, book.other_tam, "red", 10, name="Far Away Ltd")
    return book


def test_manager_reviews_and_filters(page, live_server, health):
    login(page, live_server, health.manager)
    page.get_by_role("link", name="Customer health").click()
    page.wait_for_url("**/dashboards/health/")
    assert page.get_by_role("heading", name="Customer health").is_visible()
    assert page.locator("#health-totals [data-figure=red]").inner_text() == "2"
    red = page.locator("#health-red tbody tr")
    assert red.count() == 2 and "Northwind Traders" in red.first.inner_text()
    assert "Far Away Ltd" not in page.content()
    assert "Contoso Pharma" in page.locator("#health-stale tbody").inner_text()
    sentiment = page.locator("#health-measures tr[data-measure=sentiment]")
    assert sentiment.locator("[data-color=green]").inner_text() == "3"
    row = page.locator("#health-indicators tbody tr", has_text="Contoso Pharma")
    assert row.locator("[data-indicator=stalled_triage]").is_visible()
    assert row.locator("[data-indicator=renewal_at_risk]").is_visible()
    screenshot(page, "dashboard-health-manager")
    # Filter by segment: htmx swaps the body only.
    page.select_option("#id_segment", value="smb")
    page.wait_for_url("**segment=smb*")
    page.locator("#health-totals [data-figure=accounts]", has_text="2").wait_for()
    assert page.locator("#health-red .empty").is_visible()
    assert "Fabrikam" in page.locator("#health-yellow tbody").inner_text()
    page.select_option("#id_tam", label="Theo Tam")
    page.wait_for_url("**tam=*")
    page.locator("#health-totals [data-figure=accounts]", has_text="1").wait_for()
    assert "Adventure Works" in page.locator("#health-indicators tbody").inner_text()
    screenshot(page, "dashboard-health-filtered")


def test_tam_sees_their_own_book(page, live_server, health):
    login(page, live_server, health.tam)
    page.goto(f"{live_server.url}/dashboards/health/")
    assert page.locator("#health-totals [data-figure=accounts]").inner_text() == "4"  # 3 above + book.account
    assert page.locator("#id_tam").count() == 0
    assert "Contoso Pharma" not in page.content()
    screenshot(page, "dashboard-health-tam")


def test_manager_picks_an_indicator_from_the_totals(page, live_server, health):
    """The totals count each indicator across the region; clicking one cuts the per-account list to the accounts
    it fires for (htmx, URL pushed), and "every account" brings the whole list back."""
    login(page, live_server, health.manager)
    page.goto(f"{live_server.url}/dashboards/health/")
    totals = page.locator("#health-indicator-totals")
    stalled = totals.locator("tr[data-indicator-total=stalled_triage]")
    assert stalled.locator("[data-figure=accounts]").inner_text() == "2"  # the two red accounts' overdue cases
    renewal = totals.locator("tr[data-indicator-total=renewal_at_risk] [data-figure=accounts]").inner_text()
    stalled.get_by_role("link", name="Stalled triage case").click()
    page.wait_for_url("**indicator=stalled_triage*")
    page.locator("#health-indicators h2", has_text="Stalled triage case").wait_for()
    rows = page.locator("#health-indicators tbody tr")
    assert rows.count() == 2
    assert "Northwind Traders" in rows.first.inner_text() and "Contoso Pharma" in rows.nth(1).inner_text()
    assert rows.first.locator(".dash-picked[data-indicator=stalled_triage]").is_visible()
    assert page.locator("#health-indicator-totals tr.dash-picked").get_attribute("data-indicator-total") == (
        "stalled_triage"
    )
    assert (
        page.locator(
            "#health-indicator-totals tr[data-indicator-total=renewal_at_risk] [data-figure=accounts]"
        ).inner_text()
        == renewal
    )
    screenshot(page, "dashboard-health-indicator-picked")
    page.locator("[data-action=all-indicators]").click()
    page.locator("#health-indicators h2", has_text="Early-warning indicators").wait_for()
    page.wait_for_function("() => !location.search.includes('indicator=')")
    assert page.locator("#health-indicators tbody tr").count() == 7  # six accounts and book.account
