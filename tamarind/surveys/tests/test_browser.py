"""A customer answers a survey through the link without signing in, then changes the answer; a TAM sees it on the
results page."""

import pytest

from tamarind.surveys.models import SurveyAnswer
from tamarind.surveys.services import survey_invitation_create
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_answers_then_edits_and_staff_sees_it(page, live_server, book):
    contact = ContactFactory(account=book.account, name="Robin Client")
    inv = survey_invitation_create(contact=contact, kind="nps")
    page.goto(f"{live_server.url}{inv.path}")
    assert "Hello Robin" in page.locator("h1").inner_text()
    page.click("label[for=score-3]")
    page.fill("#id_comment", "Onboarding was slow.")
    screenshot(page, "survey-answer")
    page.click("#survey-submit")
    page.wait_for_selector("#survey-saved")
    assert SurveyAnswer.objects.get(invitation=inv).score == 3
    # Change it (within the week).
    page.click("label[for=score-7]")
    page.fill("#id_comment", "Onboarding was slow, but the TAM sorted it out.")
    page.click("#survey-submit")
    page.wait_for_selector("#survey-saved")
    assert "You answered 7" in page.locator("#survey-editable").inner_text()
    screenshot(page, "survey-answer-edited")
    answer = SurveyAnswer.objects.get(invitation=inv)
    assert (answer.score, answer.edits) == (7, 1)

    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/surveys/")
    assert page.locator("#total-nps").inner_text() == "0"  # one passive
    assert "the TAM sorted it out" in page.locator("#survey-answer-list").inner_text()
    screenshot(page, "survey-results")
