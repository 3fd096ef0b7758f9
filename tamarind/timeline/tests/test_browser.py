"""The timeline on the account page: the quick entry in a real browser."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.browser import login, screenshot
from tamarind.timeline.models import TimelineEntry
from tamarind.timeline.services import timeline_entry_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_a_kickoff_call_from_the_account_page(page, live_server, book):
    today = timezone.localdate()
    record = OnboardingFactory(
        account=book.account,
        tam=book.tam,
        contract_start=today - dt.timedelta(days=6),
        onboarding_start=today - dt.timedelta(days=4),
    )
    timeline_entry_create(
        actor=book.sal,
        account=book.account,
        data={
            "kind": "meeting",
            "title": "Internal handoff",
            "occurred_at": timezone.now() - dt.timedelta(days=3),
            "internal_attendees": [book.sal.pk, book.sa.pk, book.tam.pk],
            "notes": "SAL walked through the deal; SSO and data residency matter most.",
        },
    )
    timeline_entry_create(
        actor=book.tam,
        account=book.account,
        data={"kind": "email", "title": "Welcome email", "occurred_at": timezone.now() - dt.timedelta(days=2)},
    )
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/")
    assert page.locator("#onboarding-first-engagement").inner_text() == "—"
    screenshot(page, "account-timeline")

    page.select_option("#id_kind", "call")
    page.fill("#id_title", "Kickoff call")
    page.fill("#id_external_attendees", "Jane Doe (CIO), Raj Patel")
    page.check(f"#timeline input[name=internal_attendees][value='{book.sal.pk}']")
    page.fill("#id_notes", "Agreed the success criteria and the first cadence call.")
    page.click("#timeline button:has-text('Log entry')")
    page.wait_for_selector("#timeline-saved")
    first = page.locator("#timeline .timeline-entry").first.inner_text()
    assert "Kickoff call" in first and "Jane Doe (CIO)" in first and "Sam Sal" in first
    # The call set the onboarding's first engagement; the panel updated without a reload.
    page.wait_for_function(
        f"document.querySelector('#onboarding-first-engagement').innerText === '{today.isoformat()}'"
    )
    screenshot(page, "account-timeline-after-entry")
    record.refresh_from_db()
    assert record.first_engagement == today and record.status == "in_progress"
    assert TimelineEntry.objects.count() == 3

    page.click("#timeline a:has-text('See all')")
    page.wait_for_selector("#timeline-all")
    assert page.locator("#timeline-all .timeline-entry").count() == 3
    screenshot(page, "account-timeline-all")
