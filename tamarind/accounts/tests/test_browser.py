"""The account list and an account page in a real browser."""

from decimal import Decimal

import pytest

from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_the_account_list(page, live_server, book):
    for i in range(30):
        AccountFactory(name=f"Northwind {i:02d}", region=book.east, arr=Decimal(20000 + i * 10000), tam=book.tam)
    AccountFactory(name="Unstaffed Ltd", region=book.east, arr=Decimal("80000"), tam=None)
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/accounts/")
    assert page.locator("#accounts tbody tr").count() == 32
    screenshot(page, "accounts-list")

    page.select_option("#id_tam", "none")
    page.wait_for_function("document.querySelectorAll('#accounts tbody tr').length === 1")
    assert "Unstaffed Ltd" in page.locator("#accounts").inner_text()
    assert "tam=none" in page.url  # the filter is in the address, so the view can be shared

    page.select_option("#id_tam", "")
    page.fill("#id_arr_min", "250000")
    page.locator("#id_arr_min").dispatch_event("change")
    page.wait_for_function("document.querySelectorAll('#accounts tbody tr').length === 7")
    page.click("#accounts th >> text=ARR")
    page.wait_for_url("**sort=arr**")
    page.wait_for_function("document.querySelector('#accounts tbody tr').innerText.includes('Northwind 23')")
    assert page.locator("#accounts tbody tr").count() == 7
    screenshot(page, "accounts-list-filtered")


def test_account_detail_edit_and_assign(page, live_server, book):
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/")
    assert page.locator("h1").inner_text() == "Acme Corp"
    screenshot(page, "account-detail")

    page.select_option("#id_tam_assign", str(book.tam2.pk))
    page.click("text=Save TAM")
    page.wait_for_selector("#owners .badge.green")
    assert "Theo Tam" in page.locator("#owners").inner_text()

    page.click("text=Edit")
    page.fill("#id_licenses", "400")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".messages .success")
    history = page.locator("#history").inner_text()
    assert "number of licenses" in history and "400" in history
    assert "TAM" in history and "Theo Tam" in history
    screenshot(page, "account-detail-after-edit")
