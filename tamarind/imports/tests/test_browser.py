"""Uploading a CRM file through the web form, in a real browser, and reading the result."""

from __future__ import annotations

import pytest

from tamarind.accounts.models import Account
from tamarind.imports.models import ImportJob
from tamarind.imports.tests.conftest import GOOD_ROWS, csv_text
from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


MORE_ROWS = [
    f"B-{i},Customer {i},A-2,Enterprise,AMER East,{50_000 + i * 1_000},Premium,Tara Tam,sal@example.com,,2025-01-15,2027-01-15,{100 + i}"
    for i in range(1, 9)
]


def test_upload_a_crm_file_and_see_the_result(page, live_server, book, tmp_path):
    path = tmp_path / "salesforce-accounts.csv"
    path.write_text(csv_text(*GOOD_ROWS, *MORE_ROWS))
    login(page, live_server, book.admin)

    page.goto(f"{live_server.url}/imports/")
    assert "No imports yet" in page.locator(".empty").inner_text()
    page.click("text=Import a CRM file")
    page.wait_for_url("**/imports/new/")
    page.set_input_files("input[type=file]", str(path))
    screenshot(page, "import-upload")

    page.click("text=Upload and import")
    page.wait_for_selector("#job-body[data-status=succeeded]")
    assert "Import complete: 10 accounts changed." in page.locator(".imp-outcome").inner_text()
    screenshot(page, "import-result")
    assert Account.objects.filter(crm_id__startswith="B-").count() == 8

    page.click("text=All imports")
    assert "salesforce-accounts.csv" in page.locator("table.data").inner_text()
    screenshot(page, "import-list")


def test_rejected_file_shows_the_errors(page, live_server, book, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(
        csv_text(
            GOOD_ROWS[1],
            "A-3,Three,,Enterprise,AMER East,lots,Premium,,,,,,",
            "A-4,Four,,Enterprise,AMER East,10,Premium,Jane Nobody,,,,2026-02-30,",
            GOOD_ROWS[1],
        )
    )
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/imports/new/")
    page.set_input_files("input[type=file]", str(path))
    page.check("input[name=dry_run]")
    page.click("text=Upload and import")
    page.wait_for_selector("#job-body[data-status=failed]")
    errors = page.locator("#errors").inner_text()
    assert 'line 3: CARR (This Account) "lots" is not a number' in errors
    assert 'line 4: Technical Account Manager "Jane Nobody" is not a known person' in errors
    assert 'line 5: Account ID "A-2" repeats line 2' in errors
    screenshot(page, "import-errors")
    with page.expect_download() as download:
        page.click("text=Download error report (CSV)")
    assert download.value.suggested_filename == "broken-errors.csv"
    assert ImportJob.objects.get().error_count == 4


def test_mappings_page(page, live_server, book):
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/imports/mappings/")
    page.click("text=Salesforce account report")
    page.fill("textarea[name=synonyms_product_tier]", "Platinum = Ultimate")
    screenshot(page, "import-mapping-edit")
    page.click("text=Save mapping")
    page.wait_for_url("**/imports/mappings/")
    assert "Platinum = Ultimate" in page.locator("table.data").inner_text()
    screenshot(page, "import-mappings")


def test_mapping_tabs_for_usage_and_ticket_files(page, live_server, book):
    """An admin opens a mapping, switches to its Product usage tab, names the headers their telemetry export uses,
    is told off for a header another column already answers to, saves, and finds them under the tab's count."""
    from tamarind.imports.models import ImportMapping

    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/imports/mappings/")
    page.click("text=Salesforce account report")
    page.locator("#mapping-tabs").get_by_role("link", name="Product usage").click()
    page.wait_for_url("**/usage/")
    assert page.locator("#mapping-tabs a.active").inner_text().strip() == "Product usage"
    page.fill("textarea[name=day]", "Account ID")
    page.click("text=Save product usage headers")
    assert "“Account ID” is already a header of Account (CRM id)." in page.locator("[data-field=day]").inner_text()
    page.fill("textarea[name=account]", "Customer\nTenant")
    page.fill("textarea[name=day]", "When")
    page.click("text=Save product usage headers")
    page.get_by_text("saved (version 2)").wait_for()
    assert page.locator("#mapping-tabs a[data-kind=usage] .badge").inner_text() == "3"
    screenshot(page, "import-mapping-usage-tab")
    page.locator("#mapping-tabs").get_by_role("link", name="Support tickets").click()
    page.fill("textarea[name=external_id]", "Case Number")
    page.click("text=Save support tickets headers")
    page.get_by_text("saved (version 3)").wait_for()
    mapping = ImportMapping.objects.get()
    assert mapping.headers["usage.account"] == ["Customer", "Tenant"]
    assert mapping.headers["tickets.external_id"] == ["Case Number"]
    page.locator("#mapping-tabs").get_by_role("link", name="Accounts").click()
    page.locator("textarea[name=headers_name]").wait_for()
    page.wait_for_load_state("networkidle")


FRESH_EXPORT = [
    "N-1,Nile Logistics,,Enterprise,APAC,90000,Premium,jane.new@example.com,Sid Sales,,2025-02-01,2027-02-01,300",
    "N-2,Niger Foods,,Enterprise,APAC,120000,Ultimate,jane.new@example.com,,,2025-03-01,2027-03-01,800",
    "N-3,Congo Mining,,Mid-Market,LATAM,60000,Premium,,sal@example.com,,2024-11-15,2026-11-15,150",
    "N-4,Zambezi Power,,Enterprise,Public Sector,75000,Premium,Tara Tam,,Nina Nobody,2025-01-10,2027-01-10,200",
    "N-5,Volga Retail,,Mid-Market,AMER East,55000,Premium,,,,2025-05-01,2027-05-01,90",
]


def test_dry_run_lists_unknown_regions_and_owners_then_creates_the_regions_and_imports(
    page, live_server, book, tmp_path
):
    """A CRM export into an install that lacks its regions and some of its people: the dry run lists them once, with
    how many lines name each; the admin ticks "without these owners" and creates the regions and imports in one step."""
    from tamarind.people.models import Region

    path = tmp_path / "crm-export.csv"
    path.write_text(csv_text(*FRESH_EXPORT))
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/imports/new/")
    page.set_input_files("input[type=file]", str(path))
    page.check("input[name=dry_run]")
    page.click("text=Upload and import")
    page.wait_for_selector("#job-body[data-status=failed]")

    regions = page.locator("#unknown-regions").inner_text()
    assert "APAC\t2\t2" in regions and "LATAM\t1\t4" in regions and "Public Sector\t1\t5" in regions
    owners = page.locator("#unknown-owners").inner_text()
    assert "TAM\tjane.new@example.com\t2\t2" in owners and "SAL / AE\tSid Sales\t1\t2" in owners
    assert "Solutions Architect\tNina Nobody\t1\t5" in owners
    add = page.get_by_role("link", name="Add as TAM")
    assert add.get_attribute("href").endswith("/people/new/?role=tam&email=jane.new%40example.com")
    assert "3 regions and 3 owners Tamarind does not know" in page.locator(".imp-outcome").inner_text()
    screenshot(page, "import-unknown-regions-owners")

    # The missing TAM: the link opens the add-person form with what the file says about her.
    with page.context.expect_page() as popup:
        add.click()
    person_page = popup.value
    person_page.wait_for_load_state()
    assert person_page.input_value("input[name=email]") == "jane.new@example.com"
    assert person_page.input_value("select[name=role]") == "tam"
    person_page.fill("input[name=full_name]", "Jane New")
    screenshot(person_page, "import-unknown-add-person")
    person_page.click("button:has-text('Add person')")
    person_page.wait_for_url("**/people/*/")
    person_page.close()

    page.check("input[name=skip_unknown_owners]")
    page.click("text=Create these regions and import")
    page.wait_for_selector("#job-body[data-status=succeeded]")
    assert "Import complete: 5 accounts changed." in page.locator(".imp-outcome").inner_text()
    assert "Created with this import" in page.locator("#unknown-regions").inner_text()
    assert page.locator("#unknown-regions").get_by_role("link", name="Set TAM Manager").count() == 3
    assert "were imported without these owners" in page.locator("#unknown-owners").inner_text()
    screenshot(page, "import-unknown-regions-created")
    assert set(Region.objects.values_list("name", flat=True)) >= {"APAC", "LATAM", "Public Sector"}
    assert Account.objects.get(crm_id="N-2").region.name == "APAC"
    assert Account.objects.get(crm_id="N-2").tam.full_name == "Jane New"  # added in between: she is no longer unknown
    assert "jane.new@example.com" not in page.locator("#unknown-owners").inner_text()

    page.locator("#unknown-regions").get_by_role("link", name="Set TAM Manager").first.click()
    page.wait_for_url("**/people/regions/*/edit/")
