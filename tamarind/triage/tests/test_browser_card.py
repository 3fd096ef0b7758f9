"""Board cards in a real browser (issue 9): badges keep their size when a title wraps, and a card shows the
account's health now with the color at open as history."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.health.models import HealthScore
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_wrapped_title_leaves_the_badges_alone(page, live_server, book):
    long = AccountFactory(
        name="Meridian Quantum Logistics Holdings International GmbH — Europe Platform", region=book.east, tam=book.tam
    )
    HealthScore.objects.create(account=long, score=58, color="yellow", model_version=1)
    case = TriageCaseFactory(
        account=long,
        owner=book.tam,
        health_color="red",
        risk_reason="lack_of_adoption",
        last_update_at=timezone.now() - dt.timedelta(days=40),
    )
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/triage/")
    card = page.locator(f"#case-{case.pk}")
    title = card.locator(".triage-card-head a").bounding_box()
    health = card.locator(".triage-card-head .badge").bounding_box()
    overdue = card.locator(".triage-overdue-badge").bounding_box()
    box = card.bounding_box()
    assert title and health and overdue and box
    assert title["height"] > 2 * health["height"], "the title should wrap in a board column"
    assert health["height"] < 26, f"the health badge stretched to {health['height']}px"
    assert overdue["width"] < box["width"] * 0.75, "the overdue badge stretched across the card"
    # The account is yellow now; the case opened red.
    assert "triage-yellow" in (card.get_attribute("class") or "")
    assert card.locator(".triage-card-head .badge").inner_text() == "Yellow"
    assert "opened Red" in card.inner_text()
    screenshot(page, "triage-board-wrapped-title")
