"""The audit log in a real browser: filter it, follow a row, screenshot it."""

from decimal import Decimal

import pytest

from tamarind.accounts import services as account_services
from tamarind.core.context import request_id_scope
from tamarind.people import services as people_services
from tamarind.people.models import Role
from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trail(book):
    with request_id_scope("9f1c2e7a4b3d4c0e8a1b2c3d4e5f6a7b"):
        account_services.account_set_tam(actor=book.manager, account=book.account, tam=book.tam2)
    account_services.account_update(
        actor=book.admin, account=book.other_account, changes={"arr": Decimal("185000.00"), "priority": 2}
    )
    people_services.user_create(
        actor=book.admin, email="nina@example.com", full_name="Nina Novak", role=Role.TAM, region=book.east
    )
    people_services.region_update(actor=book.admin, region=book.west, name="EMEA North")
    people_services.token_create(actor=book.tam, user=book.tam, name="CI pipeline")
    return book


def test_audit_log_filter(page, live_server, trail):
    login(page, live_server, trail.admin)
    page.goto(f"{live_server.url}/audit/")
    rows = page.locator("#audit-log tbody tr")
    assert rows.count() == 5
    screenshot(page, "audit-log")

    page.select_option("select[name=object_type]", "accounts.account")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**/audit/?*object_type=accounts.account*")
    assert rows.count() == 2
    assert rows.first.locator("a", has_text="Globex").get_attribute("href") == f"/accounts/{trail.other_account.pk}/"
    assert "185000.00" in rows.first.inner_text()

    page.select_option("select[name=actor]", label="Mia Manager")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**actor=*")
    assert rows.count() == 1 and "Acme Corp" in rows.first.inner_text()
    screenshot(page, "audit-log-filtered")

    page.click("text=Clear")
    page.fill("input[name=q]", "no such thing")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_selector("text=No change matches these filters.")


def test_audit_log_is_admin_only(page, live_server, trail):
    login(page, live_server, trail.director)
    response = page.goto(f"{live_server.url}/audit/")
    assert response.status == 403
    assert page.locator("nav >> text=Audit log").count() == 0
