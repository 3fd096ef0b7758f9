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
    page.select_option("#id_severity", "critical")
    page.select_option("#id_overdue", "1")
    page.click("#escalation-filters button")
    page.wait_for_selector("text=No open escalations.")
    page.select_option("#id_overdue", "")
    page.click("#escalation-filters button")
    page.wait_for_selector("#escalations >> text=Pipeline outage")
    assert "severity=critical" in page.url
    screenshot(page, "triage-escalations")
    page.goto(f"{live_server.url}/triage/{case.pk}/")
    page.select_option("#id_outcome", "lost_contraction")
    page.click("#close-form button")
    page.wait_for_selector("#case-outcome")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome == "lost_contraction"
    screenshot(page, "triage-case-closed")


def test_escalate_from_account_post_update_close_and_change_owner(page, live_server, book):
    from tamarind.notifications.models import Notification
    from tamarind.triage.models import Escalation

    case = TriageCaseFactory(account=book.account, owner=book.tam, risk_reason="product_quality")
    login(page, live_server, book.tam)
    # From the account page: Escalate, a critical escalation owned by Theo (its cadence in the severity list).
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/")
    page.click(f"a[href='/triage/escalations/new/{book.account.pk}/']")
    assert "Critical: update daily" in page.locator("#id_severity").inner_text()
    page.fill("#id_title", "Runner fleet down")
    page.select_option("#id_severity", "critical")
    page.fill("#id_description", "All CI runners offline since 06:00.")
    page.select_option("#id_owner", str(book.tam2.pk))
    screenshot(page, "triage-escalation-open")
    page.click("button:text('Open escalation')")
    page.wait_for_selector("#esc-cadence")
    esc = Escalation.objects.get()
    assert esc.case_id == case.pk and esc.owner == book.tam2
    assert Notification.objects.filter(recipient=book.tam2).exists()
    assert "updated daily" in page.locator("#esc-cadence").inner_text()

    # A late update is highlighted; posting one clears it.
    Escalation.objects.filter(pk=esc.pk).update(last_update_at=timezone.now() - dt.timedelta(days=2))
    page.reload()
    assert page.locator(".triage-overdue-badge").count() == 1
    screenshot(page, "triage-escalation-overdue")
    page.fill("#upd_note", "Vendor engaged; failover in progress.")
    page.click("#esc-post")
    page.wait_for_selector("#esc-history >> text=Vendor engaged")
    assert page.locator(".triage-overdue-badge").count() == 0

    # On the case page: the escalation row with its cadence; post an update from there, then change the owner.
    page.goto(f"{live_server.url}/triage/{case.pk}/")
    row = page.locator(f"#escalation-{esc.pk}")
    assert "daily" in row.inner_text()
    row.locator("input[name=note]").fill("Half the fleet is back.")
    row.locator(f"button[data-esc-post='{esc.pk}']").click()
    page.wait_for_selector(".messages .success")
    page.select_option("#owner_owner", str(book.manager.pk))
    page.click("#owner-form button")
    page.wait_for_selector("#case-owner >> text=Mia Manager is notified")
    assert page.locator("#case-owner-name").inner_text() == "Mia Manager"
    case.refresh_from_db()
    assert case.owner == book.manager
    assert Notification.objects.filter(recipient=book.manager, url=f"/triage/{case.pk}/").exists()
    screenshot(page, "triage-case-owner-changed")

    # Close the escalation from its page.
    page.goto(f"{live_server.url}/triage/escalations/{esc.pk}/")
    page.fill("#upd_note", "All runners back; root cause written up.")
    page.click("#esc-resolve")
    page.wait_for_selector("#esc-reopen")
    esc.refresh_from_db()
    assert esc.status == "resolved"
    assert "Half the fleet is back." in page.locator("#esc-history").inner_text()
    screenshot(page, "triage-escalation-closed")


def test_change_owner_from_a_board_card(page, live_server, book):
    acme = TriageCaseFactory(account=book.account, owner=book.tam, risk_reason="competition")
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/triage/")
    card = page.locator(f"#case-{acme.pk}")
    card.locator(".triage-card-reassign summary").click()
    card.locator("select[name=owner]").select_option(str(book.tam2.pk))
    card.locator(".triage-card-reassign button").click()
    page.wait_for_selector(f"#case-{acme.pk} >> text=Owner Theo Tam")
    acme.refresh_from_db()
    assert acme.owner == book.tam2
    screenshot(page, "triage-board-owner-changed")


def test_settings_page_change_and_save(page, live_server, book):
    from tamarind.audit.models import AuditEvent
    from tamarind.triage.selectors import triage_settings

    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/triage/settings/")
    assert page.locator("#id_red_update_days").input_value() == "14"
    assert page.locator("#id_yellow_update_days").input_value() == "30"
    page.fill("#id_red_update_days", "10")
    page.fill("#id_critical_update_days", "1")
    page.fill("#id_high_update_days", "3")
    page.click("button:text('Save')")
    page.wait_for_selector(".messages .success")
    assert page.locator("#id_red_update_days").input_value() == "10"
    row = triage_settings()
    assert (row.red_update_days, row.yellow_update_days, row.high_update_days) == (10, 30, 3)
    assert AuditEvent.objects.filter(object_type="triage.triagesettings").count() == 1
    screenshot(page, "triage-settings-saved")
    # A bad value is refused with its reason: by the browser, and by the server when the browser lets it through.
    page.fill("#id_yellow_update_days", "0")
    assert page.locator("#id_yellow_update_days").evaluate("e => e.validity.valid") is False
    page.locator("#id_yellow_update_days").evaluate("e => e.removeAttribute('min')")
    page.click("button:text('Save')")
    page.wait_for_selector(".errorlist")
    assert "greater than or equal to 1" in page.locator(".errorlist").inner_text()
    assert triage_settings().yellow_update_days == 30
    # The board states the new cadence.
    page.goto(f"{live_server.url}/triage/")
    assert "every 10 days" in page.locator(".page-head").inner_text()


def test_board_region_tam_and_overdue_filters(page, live_server, book):
    now = timezone.now()
    acme = TriageCaseFactory(account=book.account, owner=book.tam, last_update_at=now - dt.timedelta(days=15))
    zenith = AccountFactory(name="Zenith", region=book.east, tam=book.tam2)
    TriageCaseFactory(
        account=zenith, owner=book.tam2, health_color="yellow", last_update_at=now - dt.timedelta(days=20)
    )
    globex = TriageCaseFactory(
        account=book.other_account,
        owner=book.other_tam,
        health_color="yellow",
        last_update_at=now - dt.timedelta(days=31),
    )
    from tamarind.triage.models import Escalation

    Escalation.objects.create(
        account=book.other_account,
        case=globex,
        title="Data loss",
        severity="critical",
        owner=book.other_tam,
        last_update_at=now - dt.timedelta(days=2),
    )
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/triage/")
    board = page.locator("#triage-board")
    # The card shows its escalation, and that its update is late.
    assert "Escalated: Critical" in page.locator(f"#case-{globex.pk}").inner_text()
    assert page.locator(f"#case-{globex.pk} .triage-escalation-overdue").count() == 1
    # Red late after 14 days, yellow after 30: Acme and Globex are highlighted, Zenith (yellow, 20 days) is not.
    assert page.locator(".triage-card.triage-overdue").count() == 2
    assert "update overdue" not in page.locator(".triage-card", has_text="Zenith").inner_text()

    page.select_option("#id_region", str(book.west.pk))
    page.wait_for_function(f"!document.querySelector('#case-{acme.pk}')")
    assert "Globex" in board.inner_text() and "Zenith" not in board.inner_text()
    assert f"region={book.west.pk}" in page.url
    page.select_option("#id_region", "")
    page.select_option("#id_tam", str(book.tam2.pk))
    page.wait_for_function(f"!document.querySelector('#case-{globex.pk}')")
    assert "Zenith" in board.inner_text() and "Acme" not in board.inner_text()
    page.select_option("#id_tam", "")
    page.select_option("#id_overdue", "1")
    page.wait_for_function("!document.body.innerText.includes('Zenith')")
    assert "Acme Corp" in board.inner_text() and "Globex" in board.inner_text()
    screenshot(page, "triage-board-overdue-only")
    # A move keeps the filter: Acme moves on, the board stays "overdue only" and Acme (just updated) leaves it.
    page.locator(f"#case-{acme.pk} button[data-move=investigating]").click()
    page.wait_for_function(f"!document.querySelector('#case-{acme.pk}')")
    assert "Globex" in board.inner_text()
