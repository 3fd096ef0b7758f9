"""The stuck queue and a case in a real browser: claim from the queue by htmx, log outreach, resolve."""

import pytest

from tamarind.stuck.models import CaseStatus, StuckCase
from tamarind.stuck.tests.factories import case_of, pool_of, pooled
from tamarind.testing.browser import login, screenshot
from tamarind.timeline.models import TimelineEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_queue_claim_outreach_resolve(page, live_server, book):
    pool = pool_of(book)
    case = case_of(pooled(book, name="Stuck Alpha"), pool)
    spike = [{"rule": "ticket-spike", "name": "Support ticket spike", "kind": "ticket_spike", "why": "9 tickets"}]
    case_of(pooled(book, name="Stuck Beta"), pool, reasons=spike)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/stuck/")
    assert "Stuck customers" in page.locator("h1").inner_text()
    assert "9 tickets" in page.locator("#stuck-queue").inner_text()
    screenshot(page, "stuck-queue")

    # Claim from the queue: htmx swaps the row.
    page.locator(f"#stuck-case-{case.pk} button:text('Claim')").click()
    page.wait_for_selector(f"#stuck-case-{case.pk} >> text={book.tam.full_name}")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLAIMED

    # The case: log outreach, then resolve.
    page.click(f"#stuck-case-{case.pk} a")
    page.select_option("#id_kind", "call")
    page.fill("#id_title", "Adoption check-in")
    page.fill("#id_outreach_notes", "They are blocked on runner set-up.")
    page.click("#outreach-form button[type=submit]")
    page.wait_for_selector("#stuck-outreach >> text=Adoption check-in")
    assert TimelineEntry.objects.filter(account=case.account, title="Adoption check-in").exists()
    screenshot(page, "stuck-case-claimed")
    page.select_option("#id_outcome", "unstuck")
    page.fill("#id_notes", "Runners up; pipelines running.")
    page.click("#resolve-form button[type=submit]")
    page.wait_for_selector("#stuck-status >> text=Unstuck: back on track")
    case = StuckCase.objects.get(pk=case.pk)
    assert case.status == CaseStatus.RESOLVED and case.outcome == "unstuck"
    screenshot(page, "stuck-case-resolved")
