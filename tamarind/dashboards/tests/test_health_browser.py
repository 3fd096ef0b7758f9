"""The Customer Health Dashboard in a real browser: a manager goes through every tab (each loaded by htmx with its
URL pushed), pages a list, filters, picks an indicator; a TAM sees their own book (screenshots of each tab)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tamarind.accounts.models import LifecycleStage, Segment
from tamarind.dashboards.health_selectors import LIST_PAGE
from tamarind.dashboards.tests.test_health_dashboard import review, scored
from tamarind.health.models import HealthMixSnapshot, HealthScore, SnapshotLevel
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory
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
YELLOW_MORE = LIST_PAGE + 4  # enough yellow accounts for a second page


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
        call = TimelineEntry.objects.create(
            account=account, kind="call", title="Cadence call", occurred_at=timezone.now() - dt.timedelta(days=score)
        )
        HealthScore.objects.filter(account=account).update(engaged_on=timezone.localdate(call.occurred_at))
    for i in range(YELLOW_MORE):
        scored(book.east, book.tam2, "yellow", 60 + i % 10, name=f"Yellow Ltd {i:02d}", arr=20_000 + i * 500)
    AccountFactory(region=book.east, tam=book.tam, name="Leaving Co", lifecycle_stage=LifecycleStage.WILL_CHURN)
    scored(book.west, book.other_tam, "red", 10, name="Far Away Ltd")
    # Five weeks of history for the trend: east's mix worsening, then recovering.
    for back in range(35):
        red = 2 + (back % 7) // 3
        HealthMixSnapshot.objects.create(
            day=today - dt.timedelta(days=back),
            level=SnapshotLevel.REGION,
            region_id=book.east.pk,
            green=3 + back // 10,
            yellow=YELLOW_MORE + 2 - back // 12,
            red=red,
            unscored=1,
            green_arr=Decimal(185_000 + back * 1000),
            yellow_arr=Decimal(700_000),
            red_arr=Decimal(red * 30_000),
        )
    return book


def open_tab(page, name, url_part):
    page.locator("#health-tabs").get_by_role("link", name=name).click()
    page.wait_for_url(f"**{url_part}")
    page.locator(f"#health-tabs a.active:has-text('{name}')").wait_for()


def test_manager_goes_through_every_tab(page, live_server, health):
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, health.manager)
    page.get_by_role("link", name="Customer health").click()
    page.wait_for_url("**/dashboards/health/")
    assert page.get_by_role("heading", name="Customer health").is_visible()
    # Overview: totals, what they leave out, the two charts (drawn), their figures behind a summary.
    assert page.locator("#health-totals [data-figure=red]").inner_text() == "2"
    assert page.locator("#health-totals [data-figure=yellow]").inner_text() == str(YELLOW_MORE + 2)
    assert "1 will-churn account is out of health reporting" in page.locator("#book-caption").inner_text()
    assert "Far Away Ltd" not in page.content()
    page.wait_for_function("() => document.getElementById('health-mix-chart').chart !== undefined")
    page.wait_for_function("() => document.getElementById('health-trend-chart').chart !== undefined")
    bars = page.evaluate("() => document.getElementById('health-mix-chart').chart.data.labels")
    assert bars == ["Tara Tam", "Theo Tam"]  # by TAM first for a manager
    page.select_option("#health-mix-by", value="segment")
    assert page.evaluate("() => document.getElementById('health-mix-chart').chart.data.labels") == [
        "SMB",
        "Mid-Market",
        "Enterprise",
    ]
    page.locator("#health-trend [data-metric=arr]").click()
    assert page.evaluate("() => document.getElementById('health-trend-chart').chart.data.datasets[2].data[34]") == 60000
    screenshot(page, "dashboard-health-overview")
    overview_height = page.evaluate("() => document.body.scrollHeight")
    assert overview_height < 2000, overview_height

    # Red & Yellow: the lists, a page at a time.
    open_tab(page, "Red & Yellow", "/dashboards/health/red-yellow/")
    red = page.locator("#health-red tbody tr")
    assert red.count() == 2 and "Northwind Traders" in red.first.inner_text()
    assert page.locator("#health-red [data-figure=count]").inner_text() == "2"
    yellow = page.locator("#health-yellow tbody tr")
    assert yellow.count() == LIST_PAGE
    first_page = yellow.first.inner_text()
    pager = page.locator("#health-yellow [data-pager=yellow_page]")
    assert f"page 1 of 2 · {YELLOW_MORE + 2} accounts" in pager.inner_text()
    screenshot(page, "dashboard-health-red-yellow")
    pager.get_by_role("link", name="Next").click()
    page.wait_for_url("**yellow_page=2*")
    page.locator("#health-yellow [data-pager=yellow_page]", has_text="page 2 of 2").wait_for()
    assert page.locator("#health-yellow tbody tr").count() == YELLOW_MORE + 2 - LIST_PAGE
    assert page.locator("#health-yellow tbody tr").first.inner_text() != first_page
    assert page.locator("#health-red tbody tr").count() == 2  # the other list stays on its page
    screenshot(page, "dashboard-health-yellow-page-2")

    # Stale: oldest review first.
    open_tab(page, "Stale", "/dashboards/health/stale/")
    stale = page.locator("#health-stale tbody tr")
    assert (
        stale.count() == 2 and "Contoso Pharma" in stale.first.inner_text() and "Fabrikam" in stale.nth(1).inner_text()
    )
    screenshot(page, "dashboard-health-stale")

    # Measures: each measure's bands as a bar.
    open_tab(page, "Measures", "/dashboards/health/measures/")
    sentiment = page.locator("#health-measures .health-bar-row[data-measure=sentiment]")
    assert sentiment.locator("[data-color=green]").inner_text() == "3"
    screenshot(page, "dashboard-health-measures")

    # Indicators: pick one from the totals; the list keeps only its accounts (URL pushed).
    open_tab(page, "Indicators", "/dashboards/health/indicators/")
    totals = page.locator("#health-indicator-totals")
    stalled = totals.locator("tr[data-indicator-total=stalled_triage]")
    assert stalled.locator("[data-figure=accounts]").inner_text() == "2"  # the two red accounts' overdue cases
    screenshot(page, "dashboard-health-indicators")
    stalled.get_by_role("link", name="Stalled triage case").click()
    page.wait_for_url("**indicator=stalled_triage*")
    page.locator("#health-indicators h2", has_text="Stalled triage case").wait_for()
    rows = page.locator("#health-indicators tbody tr")
    assert rows.count() == 2
    assert "Northwind Traders" in rows.first.inner_text() and "Contoso Pharma" in rows.nth(1).inner_text()
    assert rows.first.locator(".dash-picked[data-indicator=stalled_triage]").is_visible()
    screenshot(page, "dashboard-health-indicator-picked")
    page.locator("[data-action=all-indicators]").click()
    page.wait_for_function("() => !location.search.includes('indicator=')")
    page.locator("#health-indicators [data-pager=page]", has_text="page 1 of 2").wait_for()

    # A filter reloads the tab it is on; the tabs keep it; back goes to the previous tab.
    page.select_option("#id_segment", value="smb")
    page.wait_for_url("**/dashboards/health/indicators/?*segment=smb*")
    page.locator("#health-indicators [data-pager=page]", has_text="2 accounts").wait_for()
    open_tab(page, "Overview", "/dashboards/health/?segment=smb")
    page.locator("#health-totals [data-figure=accounts]", has_text="2").wait_for()
    page.go_back()
    page.wait_for_url("**/dashboards/health/indicators/?*segment=smb*")


def test_tam_sees_their_own_book(page, live_server, health):
    login(page, live_server, health.tam)
    page.goto(f"{live_server.url}/dashboards/health/")
    assert page.locator("#health-totals [data-figure=accounts]").inner_text() == "4"  # 3 above + book.account
    assert page.locator("#id_tam").count() == 0
    assert "Contoso Pharma" not in page.content()
    page.wait_for_function("() => document.getElementById('health-mix-chart').chart !== undefined")
    assert page.evaluate("() => document.getElementById('health-mix-chart').chart.data.labels") == [
        "SMB",
        "Enterprise",
    ]
    screenshot(page, "dashboard-health-tam")
    open_tab(page, "Red & Yellow", "/dashboards/health/red-yellow/")
    assert "Yellow Ltd" not in page.content() and "Fabrikam" in page.locator("#health-yellow").inner_text()
