"""Suggested weights in a real browser: the page with the fitted weights beside the current ones and their effect,
then the admin's draft, which lands in the health model editor with its preview."""

import pytest

from tamarind.health.models import HealthModelDraft, HealthModelVersion
from tamarind.signals.tests.test_weights import seed_book
from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_weights_page_and_make_a_draft(page, live_server, book):
    seed_book(book.east, 150)
    versions = HealthModelVersion.objects.count()
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/signals/")
    page.click("#signals-weights-link")
    page.wait_for_selector("#weights-table")
    assert "Suggested weights" in page.locator("h1").inner_text()
    assert "Fitted in" in page.locator("#weights-status").inner_text()
    engagement = page.locator('#weights-table tr[data-measure="engagement"] td[data-suggested]')
    support = page.locator('#weights-table tr[data-measure="support"] td[data-suggested]')
    assert int(engagement.get_attribute("data-suggested")) > int(support.get_attribute("data-suggested"))
    assert page.locator("#weights-effect-table tbody tr").count() == 6
    screenshot(page, "signals-weights")
    page.click("#weights-draft-button")
    page.wait_for_url("**/health/model/edit/?draft=*")
    draft = HealthModelDraft.objects.get()
    assert f"Draft {draft.pk}" in page.locator("#health-model-draft").inner_text()
    page.wait_for_selector("#health-preview-counts", timeout=15000)  # the preview runs on load
    assert page.locator("#id_weight_engagement").input_value() == str(
        draft.definition["measures"]["engagement"]["weight"]
    )
    assert HealthModelVersion.objects.count() == versions  # a draft, not a version
    screenshot(page, "signals-weights-draft-preview")
