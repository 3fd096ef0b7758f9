"""Contacts on the account page in a real browser: add a contact by htmx, edit it to hold the Admin persona and
see the *No Admin contact* flag go, then the list of accounts with no Admin."""

import pytest

from tamarind.contacts.models import Contact
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_and_edit_a_contact_clears_the_admin_flag(page, live_server, book):
    ContactFactory(account=book.account, name="Bill Payer", email="bill@acme.example", personas=["billing"])
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/")
    assert page.locator("#no-admin-flag").is_visible()
    assert "Bill Payer" in page.locator("#contacts-panel").inner_text()
    screenshot(page, "contacts-account-no-admin")

    # Add by htmx: the form appears in the panel, posting swaps the panel.
    page.click("#contact-add")
    page.wait_for_selector("#contact-form")
    page.fill("#contact-form input[name=name]", "Grace Hopper")
    page.fill("#contact-form input[name=email]", "Grace.Hopper@Acme.example")
    page.fill("#contact-form input[name=title]", "Head of Platform")
    page.check("#contact-form input[name=personas][value=development-lead]")
    screenshot(page, "contacts-add-form")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#contacts-table >> text=grace.hopper@acme.example")
    assert page.locator("#contact-form").count() == 0
    assert page.locator("#no-admin-flag").is_visible()  # a development lead is not an Admin
    grace = Contact.objects.get(email="grace.hopper@acme.example")

    # Edit by htmx: give her the Admin persona; the flag disappears.
    page.click(f"tr[data-contact='{grace.pk}'] [data-action=edit]")
    page.wait_for_selector("#contact-form")
    assert page.input_value("#contact-form input[name=email]") == "grace.hopper@acme.example"
    page.check("#contact-form input[name=personas][value=admin]")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector(f"tr[data-contact='{grace.pk}'] >> text=Admin")
    assert page.locator("#no-admin-flag").count() == 0
    assert sorted(p.key for p in grace.personas.all()) == ["admin", "development-lead"]
    screenshot(page, "contacts-admin-added")

    # The account drops off the list of accounts with no Admin contact.
    page.goto(f"{live_server.url}/contacts/missing-admin/")
    assert "Acme Corp" not in page.locator("main").inner_text()
    screenshot(page, "contacts-missing-admin")
