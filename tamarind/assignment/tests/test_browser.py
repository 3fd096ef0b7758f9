"""The rules editor with its dry run, and New accounts to staff, in a real browser, with screenshots."""

from decimal import Decimal

import pytest

from tamarind.accounts.models import LifecycleStage, Segment
from tamarind.assignment import services
from tamarind.assignment.models import RuleSetVersion
from tamarind.onboarding.models import Onboarding
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory, tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def market(book):
    """A spread of accounts around the default rules' edges, evaluated as the services would."""
    specs = [
        ("Northwind Traders", Segment.ENTERPRISE, 420_000, "Gold"),
        ("Contoso Pharma", Segment.MID_MARKET, 64_000, "Silver"),
        ("Fabrikam Edge", Segment.MID_MARKET, 50_000, "Premium"),  # exactly 50,000: does not qualify
        ("Tailspin Toys", Segment.SMB, 90_000, "Premium"),  # SMB: does not qualify
        ("Wide World Importers", Segment.ENTERPRISE, 180_000, "Bronze"),  # below Premium/Silver
    ]
    accounts = [
        AccountFactory(
            name=name,
            region=book.east,
            segment=seg,
            arr=Decimal(arr),
            product_tier=tier(t),
            tam=None,
            lifecycle_stage=LifecycleStage.ONBOARDING,
        )
        for name, seg, arr, t in specs
    ]
    services.qualification_refresh(actor=None, account_ids=[a.pk for a in accounts], source="test")
    return book


def test_rules_editor_dry_run_then_save(page, live_server, market):
    login(page, live_server, market.admin)
    page.goto(f"{live_server.url}/assignment/rules/")
    assert page.locator("#live-rules").get_by_text("ARR is greater than 50000").is_visible()
    screenshot(page, "rules-live")

    page.get_by_role("link", name="Edit rules").click()
    page.wait_for_url("**/assignment/rules/edit/")
    # Lower the bar to 40,000 and let Bronze in: a dry run shows who would start qualifying.
    page.fill("input[name=c-0-value]", "40000")
    page.fill("input[name=c-2-value]", "Bronze")
    page.click("#dry-run-button")
    result = page.locator("#dry-run-result")
    result.wait_for()
    assert result.get_by_text("Dry run over 7 accounts").is_visible()
    gained = page.locator("#dry-run-gained tbody").inner_text()
    assert "Fabrikam Edge" in gained and "Wide World Importers" in gained and "Tailspin Toys" not in gained
    screenshot(page, "rules-dry-run")
    assert RuleSetVersion.objects.count() == 1  # a dry run saves nothing

    page.fill("input[name=note]", "Open the door to Bronze")
    page.get_by_role("button", name="Save as version 2").click()
    page.wait_for_url("**/assignment/rules/")
    assert page.get_by_text("Saved version 2").is_visible()
    assert page.locator("#rule-versions tbody tr").count() == 2
    screenshot(page, "rules-saved")

    page.locator("#rule-versions").get_by_role("link", name="v1").click()  # the history keeps version 1
    page.wait_for_url("**/assignment/rules/v1/")
    assert page.get_by_text("Product tier is at least Premium/Silver").is_visible()
    screenshot(page, "rules-version-1")


def test_rules_editor_shows_errors_on_the_row(page, live_server, market):
    login(page, live_server, market.admin)
    page.goto(f"{live_server.url}/assignment/rules/edit/")
    page.fill("input[name=c-1-value]", "Enterprise, Giant")
    page.get_by_role("button", name="Save as version 2").click()
    assert page.get_by_text("Unknown segment value(s): Giant.").is_visible()
    screenshot(page, "rules-error")
    assert RuleSetVersion.objects.count() == 1


def test_manager_staffs_a_new_account_inline(page, live_server, market):
    login(page, live_server, market.manager)
    page.goto(f"{live_server.url}/assignment/staffing/")
    rows = page.locator("#to-staff tbody tr")
    assert rows.count() == 2  # Northwind and Contoso qualify and have no TAM
    screenshot(page, "staffing")
    row = page.locator("#to-staff tbody tr", has_text="Contoso Pharma")
    row.locator("select[name=tam]").select_option(label="Theo Tam")
    row.get_by_role("button", name="Assign").click()
    page.locator("#to-staff").get_by_text("Assigned to Theo Tam").wait_for()
    screenshot(page, "staffing-assigned")
    onboarding = Onboarding.objects.get(account__name="Contoso Pharma")
    assert onboarding.tam == market.tam2


def test_each_row_says_what_assigning_does_and_it_does_it(page, live_server, market):
    """Issue 9: an Adoption-stage account showed "Assigned" while nothing followed. Each row now says what assigning
    does to the onboarding, and the TAM is notified either way."""
    from tamarind.notifications.models import Notification

    adopted = AccountFactory(
        name="Litware Adoption",
        region=market.east,
        segment=Segment.ENTERPRISE,
        arr=Decimal(150_000),
        product_tier=tier("Gold"),
        tam=None,
        lifecycle_stage=LifecycleStage.ADOPTION,
    )
    services.qualification_refresh(actor=None, account_ids=[adopted.pk], source="test")
    login(page, live_server, market.manager)
    page.goto(f"{live_server.url}/assignment/staffing/")
    onboarding_row = page.locator("#to-staff tbody tr", has_text="Northwind Traders")
    adoption_row = page.locator("#to-staff tbody tr", has_text="Litware Adoption")
    assert "Starts onboarding" in onboarding_row.inner_text()
    assert "Past onboarding (Adoption): no onboarding record; the TAM is notified" in adoption_row.inner_text()
    screenshot(page, "staffing-promises")

    adoption_row.locator("select[name=tam]").select_option(label="Theo Tam")
    adoption_row.get_by_role("button", name="Assign").click()
    adoption_row.get_by_text("Assigned to Theo Tam").wait_for()
    assert "Theo Tam notified · Past onboarding (Adoption): no onboarding record" in adoption_row.inner_text()
    onboarding_row.locator("select[name=tam]").select_option(label="Tara Tam")
    onboarding_row.get_by_role("button", name="Assign").click()
    onboarding_row.get_by_text("Assigned to Tara Tam").wait_for()
    assert "Tara Tam notified · Onboarding started" in onboarding_row.inner_text()
    screenshot(page, "staffing-assigned-both")

    assert not Onboarding.objects.filter(account=adopted).exists()
    assert Onboarding.objects.get(account__name="Northwind Traders").tam == market.tam
    assert Notification.objects.filter(recipient=market.tam2, account=adopted).count() == 1
    assert Notification.objects.filter(recipient=market.tam, account__name="Northwind Traders").count() == 1
