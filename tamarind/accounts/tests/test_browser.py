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


def test_tam_lands_on_my_accounts_and_filters_by_health_and_renewal(page, live_server, book):
    import datetime as dt

    from tamarind.health.models import HealthScore

    today = dt.date.today()
    colors = ["red", "yellow", "green", "green"]
    for i in range(8):
        account = AccountFactory(
            name=f"Contoso {i}", region=book.east, tam=book.tam, next_renewal_date=today + dt.timedelta(days=30 * i)
        )
        HealthScore.objects.create(account=account, score=[25, 60, 90, 95][i % 4], color=colors[i % 4], model_version=1)
    AccountFactory(name="Colleague Co", region=book.east, tam=book.tam2)
    login(page, live_server, book.tam)
    assert page.locator("h1").inner_text() == "My accounts"  # where a TAM lands after signing in
    assert page.locator("#accounts tbody tr").count() == 9  # Acme Corp and the eight, not the colleague's
    assert "Colleague Co" not in page.locator("#accounts").inner_text()
    screenshot(page, "accounts-my-accounts")

    page.select_option("#id_health", "red")
    page.wait_for_function("document.querySelectorAll('#accounts tbody tr').length === 2")
    assert "health=red" in page.url
    page.fill("#id_renewal_to", (today + dt.timedelta(days=100)).isoformat())
    page.locator("#id_renewal_to").dispatch_event("change")
    page.wait_for_function("document.querySelectorAll('#accounts tbody tr').length === 1")
    row = page.locator("#accounts tbody tr").first.inner_text()
    assert "Contoso 0" in row and "Red" in row
    screenshot(page, "accounts-health-and-renewal-filters")

    page.fill("#id_renewal_from", (today + dt.timedelta(days=200)).isoformat())
    page.locator("#id_renewal_from").dispatch_event("change")
    page.wait_for_selector("text=is before renewal_from")
    screenshot(page, "accounts-renewal-range-error")

    page.click("#account-scope >> text=All accounts I can see")  # keeps the filters
    page.wait_for_url("**scope=all**")
    assert page.locator("h1").inner_text() == "Accounts" and "health=red" in page.url
    page.click("text=Clear")
    page.wait_for_function("document.querySelector('#accounts').innerText.includes('Colleague Co')")
    assert page.locator("#accounts tbody tr").count() == 10
    # The TAM filter lists the TAMs whose accounts this TAM can read, not every TAM.
    assert page.locator("#id_tam option").all_inner_texts() == ["Any TAM", "— No TAM —", "Tara Tam", "Theo Tam"]
    page.click("#account-scope >> text=My accounts")
    page.wait_for_url("**scope=mine**")
    assert page.locator("h1").inner_text() == "My accounts"


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
