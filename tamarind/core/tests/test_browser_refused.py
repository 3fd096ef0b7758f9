"""The refusal page in a real browser: a form post over the upload limit (413) and a NUL in an address (400)."""

import pytest

from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_form_post_over_the_limit_shows_the_413_page_and_goes_back(page, live_server, book, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/edit/")
    # What someone pasting a whole document into a field sends; the field's maxlength is no server check.
    page.eval_on_selector("#id_name", "el => { el.removeAttribute('maxlength'); el.value = 'x'.repeat(5000); }")
    page.click("form.panel button[type=submit]")
    page.wait_for_selector("#refused")
    assert page.title() == "Too much at once · Tamarind"
    text = page.locator("#refused").inner_text()
    assert "larger than the 4,096 bytes this server accepts" in text and "Nothing was saved" in text
    screenshot(page, "refused-413")
    page.click("#go-back")
    page.wait_for_selector("#id_name")
    assert f"/accounts/{book.account.pk}/edit/" in page.url
    book.account.refresh_from_db()
    assert book.account.name == "Acme Corp"


def test_a_nul_in_the_address_shows_the_400_page_and_leads_home(page, live_server, book):
    login(page, live_server, book.manager)
    response = page.goto(f"{live_server.url}/accounts/?q=a%00b")
    assert response.status == 400
    assert page.locator("#refused .messages").inner_text() == "q: Must not contain NUL characters."
    screenshot(page, "refused-400")
    page.click("#refused >> text=Home")
    # Home is the person's landing page: a TAM Manager's is My week.
    from django.urls import reverse

    from tamarind import policy

    page.wait_for_url(f"{live_server.url}{reverse(policy.home_url_name(book.manager))}")
