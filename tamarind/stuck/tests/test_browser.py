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


def test_admin_changes_a_rule_threshold(page, live_server, book):
    from tamarind.stuck.models import StuckRule

    rule = StuckRule.objects.get(key="no-activity")
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/stuck/")
    page.click("#stuck-rules a")
    assert "Stuck-customer rules" in page.locator("h1").inner_text()
    card = f"#stuck-rule-{rule.pk}"
    page.fill(f"#rule-{rule.pk}-days", "999")
    page.click(f"{card} button[type=submit]")
    page.wait_for_selector(f"{card} .errorlist")
    assert "from 1 to 730" in page.locator(card).inner_text()
    page.fill(f"#rule-{rule.pk}-days", "21")
    page.click(f"{card} button[type=submit]")
    page.wait_for_selector(f"{card} >> text=Saved.")
    screenshot(page, "stuck-rules")
    rule.refresh_from_db()
    assert rule.params == {"days": 21} and rule.enabled
