"""The count captions in a real browser (issue 9): a manager reads the same book on Accounts, the region's page,
the onboarding dashboard and the health dashboard, and each says what it leaves out."""

import pytest

from tamarind.accounts.models import LifecycleStage
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory, evaluated

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_page_says_what_its_count_leaves_out(page, live_server, book):
    evaluated(
        AccountFactory(name="Initech", region=book.east),
        AccountFactory(name="Hooli", region=book.east, lifecycle_stage=LifecycleStage.WILL_CHURN),
    )
    login(page, live_server, book.manager)

    page.goto(f"{live_server.url}/accounts/")
    caption = page.locator("#book-caption").inner_text()
    assert caption == "AMER East's book: 3 accounts · 2 without a TAM · 1 will churn (out of health reporting)"
    assert "of 3 accounts" in page.locator(".pagination").inner_text()
    screenshot(page, "counts-accounts")

    page.goto(f"{live_server.url}/people/regions/{book.east.pk}/")
    assert page.locator("#book-caption").inner_text().startswith("3 accounts · 2 without a TAM · 1 will churn")
    screenshot(page, "counts-region")

    page.goto(f"{live_server.url}/dashboards/health/")
    caption = page.locator("#book-caption").inner_text()
    assert caption.startswith("AMER East's book: 2 accounts in health reporting · 1 without a TAM")
    assert "1 will-churn account is out of health reporting (3 in this book)" in caption
    assert page.locator("[data-figure=accounts]").first.inner_text() == "2"
    screenshot(page, "counts-health")

    page.goto(f"{live_server.url}/dashboards/onboarding/")
    assert page.locator("#book-caption").inner_text() == (
        "AMER East's book: 3 accounts · 2 without a TAM, 2 of them qualify for one (Accounts to staff)"
    )
    screenshot(page, "counts-onboarding")
