"""A program in a real browser: the programs list, a program's steps with their counts, editing a step with a
preview for a sample contact (htmx, nothing saved), an unknown merge field refused, saving, pausing and resuming;
and the account page's Digital journey panel."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.journeys.models import Program
from tamarind.journeys.tests.factories import contact
from tamarind.journeys.tests.test_views import _sends
from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_a_step_with_preview_then_pause(page, live_server, book):
    program = Program.objects.get(key="digital-onboarding")
    account = book.account
    account.customer_since, account.engagement_model = timezone.localdate() - dt.timedelta(days=20), "digital"
    account.save(update_fields=["customer_since", "engagement_model"])
    _sends(program, account, 2)
    ann = contact(account, name="Ann Preview")
    step = program.steps.get(day=7)

    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/journeys/")
    assert "Digital onboarding" in page.locator("#journey-programs").inner_text()
    screenshot(page, "journeys-programs")
    page.click("#journey-programs a:text('Digital onboarding')")
    page.wait_for_selector("#journey-steps")
    assert "14 sent" in page.locator("#journey-totals").inner_text().replace("\n", " ")
    screenshot(page, "journeys-program")

    page.click(f"#step-{step.pk} a")
    page.fill("#id_subject", "{{ account.name }}: your first pipeline")
    page.fill("#id_body", "Hi {{ contact.first_name }},\n\nStart here: https://docs.example.com/ci\n\n{{ tam.name }}")
    page.select_option("#id_contact", str(ann.pk))
    page.click("#preview-button")
    page.wait_for_selector("#preview-subject")
    assert page.locator("#preview-subject").inner_text() == f"{account.name}: your first pipeline"
    assert "Hi Ann," in page.locator("#preview-body").inner_text()
    assert page.locator("#preview-body a").first.get_attribute("href") == "https://docs.example.com/ci"
    step.refresh_from_db()
    assert step.subject == "Your first pipeline in 10 minutes"  # the preview saved nothing
    screenshot(page, "journeys-step-preview")

    page.fill("#id_body", "Hi {{ contact.nickname }}")
    page.click("#preview-button")
    page.wait_for_selector("#preview-error")
    assert "contact.nickname" in page.locator("#preview-error").inner_text()
    page.fill("#id_body", "Hi {{ contact.first_name }},\n\nStart here: https://docs.example.com/ci")
    page.click("#save-button")
    page.wait_for_selector("#journey-steps")
    step.refresh_from_db()
    assert step.subject == "{{ account.name }}: your first pipeline" and "docs.example.com/ci" in step.body

    page.click("#pause-button")
    page.wait_for_selector("#resume-button")
    program.refresh_from_db()
    assert program.status == "paused"
    screenshot(page, "journeys-program-paused")
    page.click("#resume-button")
    page.wait_for_selector("#pause-button")
    program.refresh_from_db()
    assert program.status == "active"

    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#journey-panel").inner_text()
    assert "14 sent" in panel.replace("\n", " ") and "Next:" in panel
    page.locator("#journey-panel").scroll_into_view_if_needed()
    screenshot(page, "journeys-account-panel")


def test_create_a_program_and_add_a_previewed_step(page, live_server, book):
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/journeys/")
    page.click("#new-program")
    page.fill("#id_name", "Mid-market onboarding")
    page.fill("#id_key", "mid-market")
    page.fill("#id_min_arr", "5000")
    page.fill("#id_max_arr", "20000")
    page.check("#program-personas input[value='admin']")
    page.click("#program-save")
    page.wait_for_selector("#add-step")
    program = Program.objects.get(key="mid-market")
    assert (program.min_arr, program.max_arr, program.status) == (5000, 20000, "active")

    page.click("#add-step")
    page.fill("#id_name", "Welcome")
    page.fill("#id_day", "0")
    page.fill("#id_subject", "Welcome to {{ account.name }}")
    page.fill("#id_body", "Hi {{ contact.first_name }},\n\nStart here: https://docs.example.com/start")
    page.click("#preview-button")
    page.wait_for_selector("#preview-subject")
    assert page.locator("#preview-subject").inner_text() == "Welcome to Example Corp"
    assert "Hi Alex," in page.locator("#preview-body").inner_text()
    assert not program.steps.exists()  # previewing saved nothing

    page.fill("#id_body", "Hi {{ contact.favourite_colour }}")
    page.click("#preview-button")
    page.wait_for_selector("#preview-error")
    assert "contact.favourite_colour" in page.locator("#preview-error").inner_text()
    screenshot(page, "journeys-step-refused")
    page.click("#save-button")
    page.wait_for_selector("#step-error")
    assert "Unknown merge field" in page.locator("#step-error").inner_text()
    assert not program.steps.exists()

    page.fill("#id_body", "Hi {{ contact.first_name }},\n\nStart here: https://docs.example.com/start")
    page.click("#save-button")
    page.wait_for_selector("#journey-steps")
    step = program.steps.get()
    assert step.subject == "Welcome to {{ account.name }}"
    assert "Welcome" in page.locator(f"#step-{step.pk}").inner_text()
    screenshot(page, "journeys-program-created")
