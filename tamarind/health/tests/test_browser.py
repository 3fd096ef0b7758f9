"""The health panel on the account page in a real browser: the breakdown, the history chart, and the TAM's
two-click sentiment (a reason, then a color) turning the account Red."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.health.models import HealthHistory
from tamarind.health.services import sentiment_set
from tamarind.testing.browser import login, screenshot
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
