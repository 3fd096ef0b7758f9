"""The health panel on the account page in a real browser: the breakdown, the history chart, and the TAM's
two-click sentiment (a reason, then a color) turning the account Red; the admin's health model editor with its
preview, and a version's changes."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.health.models import HealthHistory, HealthModelVersion, Sentiment
from tamarind.health.services import health_recompute_all, sentiment_set
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import EntryKind, TimelineEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_score_breakdown_history_and_two_click_sentiment(page, live_server, book):
    today = timezone.localdate()
    TimelineEntry.objects.create(
        account=book.account,
        kind=EntryKind.CALL,
        title="Cadence call",
        occurred_at=timezone.now() - dt.timedelta(days=40),
    )
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Rollout on track")
    HealthHistory.objects.bulk_create(
        HealthHistory(account=book.account, day=today - dt.timedelta(days=i), score=s, color=c)
        for i, s, c in [(30, 88, "green"), (20, 72, "yellow"), (10, 64, "yellow"), (5, 90, "green")]
    )
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/")
    panel = page.locator("#health")
    assert "94 · Green" in panel.locator(".health-score").inner_text()
    assert page.locator("#health-breakdown tbody tr").count() == 5
    assert "Engagement" in page.locator("#health-drag").inner_text()
    page.wait_for_function("document.getElementById('health-chart').chart !== undefined")
    assert page.evaluate("document.getElementById('health-chart').chart.data.datasets[0].data.length") == 5
    panel.scroll_into_view_if_needed()
    screenshot(page, "account-health-breakdown")

    # Two clicks: the reason, then the color.
    page.fill("#health textarea[name=reason]", "Exec sponsor left; renewal at risk")
    page.click("#health button.health-set-red")
    page.wait_for_selector("#health-saved")
    assert "Red" in page.locator("#health .health-score").inner_text()
    assert page.locator("#health-override").is_visible()
    assert "Exec sponsor left" in page.locator("#health-sentiments").inner_text()
    page.locator("#health").scroll_into_view_if_needed()
    screenshot(page, "account-health-after-red-sentiment")


def test_model_editor_changes_a_weight_and_a_cell_previews_and_saves(page, live_server, book):
    """The admin's editor: the weights' total follows typing, a utilization cell changes color, the preview
    scores every account beside the live model over htmx, and saving writes version 2."""
    long_ago = timezone.now() - dt.timedelta(days=70)
    for i in range(4):
        account = AccountFactory(name=f"Northwind {i}", region=book.east, tam=book.tam)
        # Green sentiment, last call 70 days ago (engagement red): 88 Green live; 63 Yellow at engagement 50%.
        Sentiment.objects.create(account=account, color="green", reason="Happy")
        TimelineEntry.objects.create(account=account, kind=EntryKind.CALL, title="Call", occurred_at=long_ago)
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/health/model/")
    page.click("#health-model-edit")
    page.wait_for_selector("#health-model-form")
    assert page.locator("#hm-weight-sum").inner_text() == "100"
    page.fill("input[name=weight_engagement]", "50")
    assert page.locator("#hm-weight-sum").inner_text() == "140"
    assert page.locator("[data-share-for=weight_engagement]").inner_text() == "35.7%"
    page.select_option("select[name=u_1_c_1]", "green")
    assert "green" in (page.locator("select[name=u_1_c_1]").get_attribute("class") or "")
    page.fill("input[name=note]", "Engagement counts more")
    screenshot(page, "health-model-editor")

    page.click("#health-preview-button")
    page.wait_for_selector("#health-preview-result")
    assert page.locator("#health-preview-changed").inner_text() == "4"
    changes = page.locator("#health-preview-changes tbody tr")
    assert changes.count() == 4
    assert "88 · Green" in changes.first.inner_text() and "63 · Yellow" in changes.first.inner_text()
    page.locator("#health-preview-result").scroll_into_view_if_needed()
    screenshot(page, "health-model-preview")
    assert HealthModelVersion.objects.count() == 1  # a preview saves nothing

    health_recompute_all(source="scheduler")  # a run for the page's "Recent recomputes"
    page.click("#health-model-save")
    page.wait_for_url(f"{live_server.url}/health/model/")
    assert "Saved version 2" in page.locator(".messages").inner_text()
    live = HealthModelVersion.objects.live()
    assert live is not None and live.version == 2
    assert live.definition["measures"]["engagement"]["weight"] == 50
    assert live.definition["measures"]["product_usage"]["utilization"][1]["colors"][1] == "green"
    assert "35.7%" in page.locator("#hm-weights").inner_text()
    assert "Full" in page.locator("#health-runs").inner_text()
    screenshot(page, "health-model-page")
    page.click("#health-model-versions a >> text=v2")
    page.wait_for_selector("#health-version-changes")
    assert "Weight: Engagement" in page.locator("#health-version-changes").inner_text()
    screenshot(page, "health-model-version-diff")


def test_model_editor_places_an_error_on_its_field(page, live_server, book):
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/health/model/edit/")
    page.fill("input[name=band_yellow]", "80")
    page.click("#health-model-save")
    page.wait_for_selector("[data-field=band_yellow] .errorlist")
    assert "Yellow starts below Green" in page.locator("[data-field=band_yellow] .errorlist").inner_text()
    assert HealthModelVersion.objects.count() == 1
