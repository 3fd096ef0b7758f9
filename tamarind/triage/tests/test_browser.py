"""The triage board and a case in a real browser: drag a card, move by button, close with an outcome."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory
from tamarind.triage.models import CaseStatus, TriageCase
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_board_drag_buttons_filters_and_close(page, live_server, book):
    old = timezone.now() - dt.timedelta(days=20)
    acme = TriageCaseFactory(
        account=book.account, owner=book.tam, risk_reason="lack_of_adoption", risk_type="seat_churn", last_update_at=old
    )
    zenith = AccountFactory(name="Zenith", region=book.east, tam=book.tam2)
    TriageCaseFactory(
        account=zenith, owner=book.tam2, status="action_plan", health_color="yellow", risk_reason="competition"
    )
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/triage/")
    assert "Triage board" in page.locator("h1").inner_text()
    card = page.locator(f"#case-{acme.pk}")
    assert "update overdue" in card.inner_text()
    screenshot(page, "triage-board")

    # Drag Acme from New to Investigating: htmx posts the move and swaps the board.
    card.drag_to(page.locator("#column-investigating"))
    page.wait_for_selector(f"#column-investigating #case-{acme.pk}")
    acme.refresh_from_db()
    assert acme.status == CaseStatus.INVESTIGATING
    assert "update overdue" not in page.locator(f"#case-{acme.pk}").inner_text()
    screenshot(page, "triage-board-after-drag")

    # The → button moves it on to Action plan.
    page.locator(f"#case-{acme.pk} button[data-move=action_plan]").click()
    page.wait_for_selector(f"#column-action_plan #case-{acme.pk}")

    # Filter by risk reason: only Zenith stays.
    page.select_option("#id_risk_reason", "competition")
    page.wait_for_function(f"!document.querySelector('#case-{acme.pk}')")
    assert page.locator("#triage-board").inner_text().count("Zenith") == 1
    screenshot(page, "triage-board-filtered")
    page.select_option("#id_risk_reason", "")
    page.wait_for_selector(f"#case-{acme.pk}")

    # Drag onto Closed asks for the outcome.
    page.locator(f"#case-{acme.pk}").drag_to(page.locator("#column-closed"))
    page.wait_for_selector("#triage-close-dialog[open]")
    page.select_option("#triage-close-outcome", "won_back")
    screenshot(page, "triage-board-close-dialog")
    page.click("#triage-close-dialog button[value=close]")
    page.wait_for_selector(f"#column-closed #case-{acme.pk}")
    acme.refresh_from_db()
    assert acme.status == CaseStatus.CLOSED and acme.outcome == "won_back"


def test_case_page_steps_updates_and_close(page, live_server, book):
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/")
    page.click(f"a[href='/triage/open/{book.account.pk}/']")
    page.select_option("#id_risk_reason", "product_quality")
    page.select_option("#id_risk_type", "customer_churn")
    page.click("button:text('Open case')")
    page.wait_for_selector(".messages .success")
    case = TriageCase.objects.get(account=book.account)
    page.fill("#step_text", "Executive sponsor call")
    page.fill("#step_due_on", "2027-01-15")
    page.click("button:text('Add step')")
    page.wait_for_selector("#case-steps >> text=Executive sponsor call")
    step = case.steps.get()
    page.check(f"#step-{step.pk} input[type=checkbox]")
    page.wait_for_function(f"document.querySelector('#step-{step.pk}').classList.contains('muted')")
    page.fill("#note_text", "Sponsor agreed to a recovery plan.")
    page.click("button:text('Post update')")
    page.wait_for_selector("#case-updates >> text=Sponsor agreed")
    screenshot(page, "triage-case")
    # An escalation from the case, then the escalations list.
    page.click("#case-escalations summary")
    page.fill("#esc_title", "Pipeline outage")
    page.select_option("#esc_severity", "critical")
    page.click("button:text('Open escalation')")
    page.wait_for_selector("#case-escalations >> text=Pipeline outage")
    page.goto(f"{live_server.url}/triage/escalations/")
    assert "Pipeline outage" in page.locator("#escalations").inner_text()
    screenshot(page, "triage-escalations")
    page.goto(f"{live_server.url}/triage/{case.pk}/")
    page.select_option("#id_outcome", "lost_contraction")
    page.click("#close-form button")
    page.wait_for_selector("#case-outcome")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome == "lost_contraction"
    screenshot(page, "triage-case-closed")
