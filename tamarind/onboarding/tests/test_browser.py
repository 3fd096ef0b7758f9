"""The onboarding record and the onboarding list in a real browser."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


def test_tick_a_step_set_dates_and_complete(page, live_server, book):
    Account.objects.filter(pk=book.account.pk).update(lifecycle_stage="onboarding")
    record = OnboardingFactory(
        account=book.account, tam=book.tam, contract_start=ago(40), onboarding_start=ago(35), handoff_done_on=ago(34)
    )
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/onboarding/{record.pk}/")
    assert "Onboarding of Acme Corp" in page.locator("h1").inner_text()
    # 35 days in without a first engagement: over the 14-day target.
    assert "21 days over" in page.locator("[data-metric=time_to_engage]").inner_text()
    screenshot(page, "onboarding-record")

    # Tick the kickoff call: the checklist, the metrics and the milestone dates update in place.
    page.check("#step-kickoff_call")
    page.wait_for_selector("#onboarding-steps li.done >> text=Kickoff call")
    page.wait_for_function("document.querySelector('#id_first_engagement').value !== ''")
    assert page.locator("#id_first_engagement").input_value() == timezone.localdate().isoformat()
    assert "35 days" in page.locator("[data-metric=time_to_engage]").inner_text()
    record.refresh_from_db()
    assert record.kickoff_call_done_on == timezone.localdate()

    # Set the remaining dates, the notes and the score, and complete.
    page.fill("#id_first_engagement", ago(30).isoformat())
    page.fill("#id_infrastructure_ready", ago(25).isoformat())
    page.fill("#id_first_value", ago(12).isoformat())
    page.fill("#id_onboarding_finish", ago(2).isoformat())
    page.fill("#id_notes", "Kickoff with the CIO; SSO took a week; first dashboards live.")
    page.fill("#id_highlights", "Champion in the data team.")
    page.select_option("#id_experience_score", "4")
    screenshot(page, "onboarding-record-filled")
    page.click("#complete-onboarding")
    page.wait_for_selector(".messages .success")
    assert page.locator("#onboarding-status").inner_text() == "Completed"
    assert "5 days" in page.locator("[data-metric=time_to_engage]").inner_text()
    assert "on target" in page.locator("[data-metric=time_to_first_value]").inner_text() or "under" in (
        page.locator("[data-metric=time_to_first_value]").inner_text()
    )
    screenshot(page, "onboarding-record-completed")
    record.refresh_from_db()
    assert record.status == "completed" and record.experience_score == 4
    assert Account.objects.get(pk=book.account.pk).lifecycle_stage == "adoption"


def test_completing_too_early_shows_what_is_missing(page, live_server, book):
    record = OnboardingFactory(account=book.account, tam=book.tam, onboarding_start=ago(3), contract_start=ago(5))
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/onboarding/{record.pk}/")
    page.click("#complete-onboarding")
    page.wait_for_selector(".errorlist")
    body = page.locator("#onboarding-form").inner_text()
    assert "Set the first value date to complete the onboarding." in body
    assert "Give the onboarding experience score (1-5) to complete it." in body
    screenshot(page, "onboarding-record-cannot-complete")
    assert Onboarding.objects.get(pk=record.pk).status == "not_started"


def test_onboarding_list_for_a_manager(page, live_server, book):
    OnboardingFactory(account=book.account, tam=book.tam, contract_start=ago(20), onboarding_start=ago(18))
    samples = [
        ("Initech", book.tam2, 5, {}),
        ("Umbrella", book.tam2, 50, {"first_engagement": ago(44), "first_value": ago(10)}),
        ("Hooli", book.tam, 10, {"first_engagement": ago(20)}),  # first engagement before the purchase: data error
        ("Stark Industries", None, 2, {}),
    ]
    for name, tam, started, dates in samples:
        account = AccountFactory(name=name, region=book.east, tam=tam)
        OnboardingFactory(
            account=account, tam=tam, contract_start=ago(started + 3), onboarding_start=ago(started), **dates
        )
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/onboarding/")
    assert page.locator("#onboarding-table tbody tr").count() == 5
    assert "data error" in page.locator("#onboarding-table tr:has-text('Hooli')").inner_text()
    screenshot(page, "onboarding-list")
    page.select_option("#id_state", "overdue")
    page.wait_for_url("**state=overdue**")
    names = page.locator("#onboarding-table tbody").inner_text()
    assert "Umbrella" in names and "Acme Corp" in names and "Initech" not in names
    screenshot(page, "onboarding-list-over-target")


def test_admin_changes_the_targets_and_a_tam_reads_them(page, live_server, book):
    from tamarind.onboarding.models import OnboardingTargets

    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/onboarding/targets/")
    assert page.locator("#targets-form").is_visible()
    screenshot(page, "onboarding-targets")
    page.fill("input[name=engage_days]", "10")
    page.get_by_role("button", name="Save targets").click()
    page.wait_for_load_state()
    assert OnboardingTargets.objects.get().engage_days == 10
    screenshot(page, "onboarding-targets-saved")

    page.context.clear_cookies()
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/onboarding/targets/")
    assert "10 days" in page.locator("dl.fields").inner_text()
    assert page.locator("#targets-form").count() == 0
