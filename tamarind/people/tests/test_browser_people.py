"""People, regions and API tokens in a real browser, with screenshots."""

from decimal import Decimal

import pytest

from tamarind.accounts.models import Segment
from tamarind.people import services
from tamarind.people.models import ApiToken, Role, User
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory, RegionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(book):
    """The standard cast plus a realistic spread of TAM books (one over target, one near, one light)."""
    apac = RegionFactory(name="APAC")
    RegionFactory(name="LATAM")
    lead = UserFactory(email="priya@example.com", full_name="Priya Raman", role=Role.MANAGER)
    services.region_set_manager(actor=None, region=apac, manager=lead, source="demo")
    services.user_update(actor=None, user=book.tam, changes={"capacity_arr": Decimal("3000000")}, source="demo")
    for i, arr in enumerate([900_000, 850_000, 700_000, 420_000, 310_000]):
        AccountFactory(name=f"Northwind {i + 1}", region=book.east, tam=book.tam, sal=book.sal, arr=Decimal(arr))
    for i, arr in enumerate([1_400_000, 980_000, 640_000]):
        AccountFactory(name=f"Contoso {i + 1}", region=book.west, tam=book.other_tam, arr=Decimal(arr))
    kenji = UserFactory(email="kenji@example.com", full_name="Kenji Watanabe", role=Role.TAM, region=apac)
    for i, arr in enumerate([2_100_000, 1_300_000]):
        AccountFactory(name=f"Umbrella {i + 1}", region=apac, tam=kenji, segment=Segment.MID_MARKET, arr=Decimal(arr))
    return book


def test_people_list_filter_by_role(page, live_server, team):
    login(page, live_server, team.manager)
    page.goto(f"{live_server.url}/people/")
    rows = page.locator("#people tbody tr")
    assert rows.count() == 11
    assert page.locator("#people").get_by_text("Kenji Watanabe").is_visible()
    screenshot(page, "people-list")

    page.select_option("select[name=role]", "tam")  # htmx swaps the table in place
    page.wait_for_url("**/people/?*role=tam*")
    page.wait_for_function("document.querySelectorAll('#people tbody tr').length === 4")
    names = page.locator("#people tbody tr td:first-child a").all_inner_texts()
    assert names == ["Kenji Watanabe", "Olga Tam", "Tara Tam", "Theo Tam"]

    def capacity_state(name):
        return page.locator("#people tbody tr", has_text=name).locator(".capacity").get_attribute("class")

    assert "capacity-over" in capacity_state("Tara Tam") and "capacity-near" in capacity_state("Kenji Watanabe")
    screenshot(page, "people-list-tams")

    page.fill("input[name=q]", "nobody at all")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("text=No one matches these filters.")
    screenshot(page, "people-list-empty")


def test_admin_creates_a_person(page, live_server, team):
    login(page, live_server, team.admin)
    page.goto(f"{live_server.url}/people/")
    page.click("text=Add person")
    page.wait_for_url("**/people/new/")
    page.fill("input[name=full_name]", "Nina Novak")
    page.fill("input[name=email]", "nina.novak@example.com")
    page.select_option("select[name=role]", "tam")
    page.select_option("select[name=region]", label="APAC")
    page.fill("input[name=capacity_arr]", "2500000")
    page.fill("input[name=password]", "a-long-enough-passphrase")
    screenshot(page, "person-form")
    page.fill("input[name=password]", "short")
    page.click("form.form-panel button[type=submit]")
    assert "too short" in page.locator(".errorlist").inner_text()  # the form says so, and keeps the input
    assert page.input_value("input[name=full_name]") == "Nina Novak"
    screenshot(page, "person-form-errors")
    page.fill("input[name=password]", "a-long-enough-passphrase")
    page.click("form.form-panel button[type=submit]")
    page.wait_for_selector("h1:has-text('Nina Novak')")
    assert "Added Nina Novak." in page.locator(".messages").inner_text()
    person = User.objects.get(email="nina.novak@example.com")
    assert person.region.name == "APAC" and person.capacity_arr == Decimal("2500000")

    page.goto(f"{live_server.url}/people/{team.tam.pk}/")
    assert page.locator("#capacity").is_visible()
    assert page.locator("#owned-accounts tbody tr").count() == 6
    screenshot(page, "person-detail")


def test_regions_page(page, live_server, team):
    login(page, live_server, team.tam)
    page.goto(f"{live_server.url}/people/regions/")
    rows = page.locator("#regions tbody tr")
    assert rows.all_inner_texts()[0].startswith("AMER East")
    assert rows.count() == 4
    assert page.locator("#regions tbody tr", has_text="LATAM").get_by_text("No manager").is_visible()
    screenshot(page, "regions")
    page.click("#regions >> text=AMER East")
    page.wait_for_selector("h1:has-text('AMER East')")
    assert page.locator("#region-tams tbody tr").count() == 2
    screenshot(page, "region-detail")


def test_api_tokens_create_and_revoke(page, live_server, team):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, team.tam)
    page.goto(f"{live_server.url}/people/tokens/")
    assert page.get_by_text("No API tokens yet.").is_visible()
    page.fill("input[name=name]", "Salesforce sync")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#new-token")
    secret = page.input_value("#token-secret")
    token = ApiToken.objects.get(user=team.tam, name="Salesforce sync")
    assert secret.startswith(token.prefix) and services.token_authenticate(secret) == team.tam
    assert "only time it is shown" in page.locator("#new-token").inner_text()
    screenshot(page, "tokens")

    page.click("#tokens button:has-text('Revoke')")
    page.wait_for_selector("text=Revoked “Salesforce sync”")
    assert page.locator("#new-token").count() == 0  # the secret is not shown again
    assert page.locator("#tokens .badge.red").is_visible()
    assert services.token_authenticate(secret) is None
    screenshot(page, "tokens-revoked")


def test_admin_changes_a_regions_manager(page, live_server, team):
    login(page, live_server, team.admin)
    latam = team.east.__class__.objects.get(name="LATAM")
    page.goto(f"{live_server.url}/people/regions/{latam.pk}/edit/")
    options = page.locator("select[name=manager] option").all_inner_texts()
    assert "Otto Manager (leads EMEA)" in options
    page.select_option("select[name=manager]", label="Otto Manager (leads EMEA)")
    page.click("form.form-panel button[type=submit]")
    assert "already leads EMEA" in page.locator(".errorlist").inner_text()  # one region per manager
    screenshot(page, "region-form")
    page.select_option("select[name=manager]", label="— No manager —")
    page.fill("input[name=name]", "LATAM South")
    page.click("form.form-panel button[type=submit]")
    page.wait_for_selector("h1:has-text('LATAM South')")
