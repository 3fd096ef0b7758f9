"""The Customer Onboarding Dashboard in a real browser: load, filter, assign inline, the chart drawn (screenshots)."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from tamarind.accounts.models import LifecycleStage
from tamarind.assignment.models import Qualification
from tamarind.onboarding.models import Onboarding, OnboardingStatus
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = [
    "Northwind Traders", "Contoso Pharma", "Fabrikam", "Tailspin Toys", "Wide World Importers", "Adventure Works",
    "Litware", "Proseware", "Lucerne Publishing", "Margie's Travel", "Trey Research", "Coho Winery",
    "Alpine Ski House", "Blue Yonder Airlines", "Humongous Insurance", "Woodgrove Bank", "Datum Corp",
    "Fourth Coffee", "Graphic Design Institute", "Southridge Video",
]  # fmt: skip


def onboarding_account(name, region, tam):
    return AccountFactory(name=name, region=region, tam=tam, lifecycle_stage=LifecycleStage.ONBOARDING)


@pytest.fixture
def team(book):
    """A year of onboarding in both regions: completed records with their figures, open ones (some late), an
    unassigned record in the east and a qualifying account there waiting for a TAM."""
    rng = random.Random(7)
    today = timezone.localdate()
    for i, name in enumerate(NAMES):
        region, tam = (book.east, [book.tam, book.tam2][i % 2]) if i % 4 else (book.west, book.other_tam)
        contract = today - dt.timedelta(days=20 + i * 17)
        start = contract + dt.timedelta(days=rng.randint(1, 6))
        dates = {
            "contract_start": contract,
            "onboarding_start": start,
            "first_engagement": start + dt.timedelta(days=rng.randint(3, 20)),
            "infrastructure_ready": start + dt.timedelta(days=rng.randint(8, 25)),
        }
        if i % 3:  # first value reached
            dates["first_value"] = contract + dt.timedelta(days=rng.randint(14, 50))
        values = {"status": OnboardingStatus.IN_PROGRESS}
        if i % 3 and i > 6:  # old enough: completed
            dates["onboarding_finish"] = start + dt.timedelta(days=rng.randint(30, 60))
            values = {"status": OnboardingStatus.COMPLETED, "notes": "Kickoff went well.", "experience_score": 4}
        for key, day in list(dates.items()):
            if day > today:
                dates.pop(key)
        if values["status"] == OnboardingStatus.COMPLETED and len(dates) < 6:
            values = {"status": OnboardingStatus.IN_PROGRESS}
            dates.pop("onboarding_finish", None)
        OnboardingFactory(account=onboarding_account(name, region, tam), tam=tam, **dates, **values)
    lost = onboarding_account("Orphaned Onboarding Ltd", book.east, None)
    OnboardingFactory(
        account=lost, tam=None, contract_start=today - dt.timedelta(days=40), onboarding_start=today - dt.timedelta(30)
    )
    waiting = onboarding_account("Bright Future Inc", book.east, None)
    Qualification.objects.create(account=waiting, qualifies=True, rule_version=1, qualified_at=timezone.now())
    return book


def chart_bars(page):
    """How many bars Chart.js drew for the medians (0 until the chart exists)."""
    return page.evaluate(
        "() => { const c = document.getElementById('ttfv-chart'); "
        "return c && c.chart ? c.chart.getDatasetMeta(0).data.length : 0; }"
    )


def test_manager_reviews_filters_and_assigns(page, live_server, team):
    login(page, live_server, team.manager)
    page.get_by_role("link", name="Customer onboarding").click()
    page.wait_for_url("**/dashboards/onboarding/")
    assert page.get_by_role("heading", name="Customer onboarding").is_visible()
    canvas = page.locator("#ttfv-chart")
    assert canvas.is_visible()
    page.wait_for_function("() => { const c = document.getElementById('ttfv-chart'); return c && c.chart; }")
    assert chart_bars(page) == 12
    tams = page.locator("#dashboard-tams tbody")
    assert "Tara Tam" in tams.inner_text() and "Olga Tam" not in tams.inner_text()
    unassigned = page.locator("#dashboard-unassigned tbody tr")
    assert unassigned.count() == 2
    assert page.locator("#dashboard-over-target tbody tr").count() >= 1
    screenshot(page, "dashboard-onboarding-manager")

    # Filter to one TAM: the per-TAM table narrows; the figures follow.
    page.select_option("#id_tam", label="Theo Tam")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**tam=*")
    assert page.locator("#dashboard-tams tbody tr").count() == 1
    assert "Theo Tam" in page.locator("#dashboard-tams tbody").inner_text()
    theo_open = Onboarding.objects.filter(tam=team.tam2).exclude(status="completed").count()
    assert page.locator("#dashboard-totals [data-figure=open]").inner_text() == str(theo_open)
    page.get_by_role("link", name="Reset").click()
    page.wait_for_url("**/dashboards/onboarding/")

    # Assign the orphaned record inline.
    row = page.locator("#dashboard-unassigned tbody tr", has_text="Orphaned Onboarding Ltd")
    picker = row.locator("select[name=tam]")
    assert picker.locator("option").count() == 1  # the region's TAMs are copied in when the picker is first used
    picker.focus()
    assert picker.locator("option").all_inner_texts() == ["— choose a TAM —", "Tara Tam", "Theo Tam"]
    picker.select_option(label="Theo Tam")
    row.get_by_role("button", name="Assign").click()
    done = page.locator("#dashboard-unassigned tbody tr", has_text="Orphaned Onboarding Ltd")
    done.get_by_text("Assigned to Theo Tam").wait_for()
    screenshot(page, "dashboard-onboarding-assigned")
    record = Onboarding.objects.get(account__name="Orphaned Onboarding Ltd")
    assert record.tam == team.tam2 and record.account.tam == team.tam2

    # And the qualifying account: its onboarding starts for the TAM.
    row = page.locator("#dashboard-unassigned tbody tr", has_text="Bright Future Inc")
    row.locator("select[name=tam]").focus()
    row.locator("select[name=tam]").select_option(label="Tara Tam")
    row.get_by_role("button", name="Assign").click()
    page.locator("#dashboard-unassigned tbody tr", has_text="Bright Future Inc").get_by_text(
        "Assigned to Tara Tam"
    ).wait_for()
    assert Onboarding.objects.filter(account__name="Bright Future Inc", tam=team.tam).exists()
    page.reload()
    assert page.locator("#dashboard-unassigned .empty").is_visible()


def test_director_filters_by_region_and_period(page, live_server, team):
    login(page, live_server, team.director)
    page.goto(f"{live_server.url}/dashboards/onboarding/")
    regions = page.locator("#dashboard-regions tbody tr")
    assert regions.count() == 2
    page.wait_for_function("() => { const c = document.getElementById('ttfv-chart'); return c && c.chart; }")
    # A director reads; assigning is the region manager's.
    assert page.locator("#dashboard-unassigned tbody tr").count() == 2
    assert page.locator("#dashboard-unassigned .dash-assign").count() == 0
    screenshot(page, "dashboard-onboarding-director")
    page.select_option("#id_region", label="EMEA")
    page.select_option("#id_period", value="6m")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**region=*")
    assert page.locator("#dashboard-regions tbody tr").count() == 1
    assert "Olga Tam" in page.locator("#dashboard-tams tbody").inner_text()
    assert "last 6 months" in page.locator(".page-head p:not(.book-caption)").inner_text()
    page.wait_for_function("() => { const c = document.getElementById('ttfv-chart'); return c && c.chart; }")
    assert chart_bars(page) == 6
    screenshot(page, "dashboard-onboarding-director-emea")


def test_tam_sees_their_own_dashboard(page, live_server, team):
    login(page, live_server, team.tam)
    page.goto(f"{live_server.url}/dashboards/onboarding/")
    assert page.get_by_role("heading", name="Your figures").is_visible()
    assert page.locator("#dashboard-unassigned").count() == 0 and page.locator("#id_tam").count() == 0
    screenshot(page, "dashboard-onboarding-tam")


def test_manager_pages_through_the_by_tam_table(page, live_server, team):
    """A region with more TAMs than a page holds: Unassigned first, then the TAMs by name, 25 lines a page."""
    from tamarind.people.models import Role
    from tamarind.testing.factories import UserFactory

    for i in range(30):
        tam = UserFactory(full_name=f"Zed Tam {i:02d}", role=Role.TAM, region=team.east)
        OnboardingFactory(account=onboarding_account(f"Zed Account {i:02d}", team.east, tam), tam=tam)
    login(page, live_server, team.manager)
    page.goto(f"{live_server.url}/dashboards/onboarding/")
    lines = page.locator("#dashboard-tams tbody tr")
    assert lines.count() == 25 and lines.first.inner_text().startswith("Unassigned")
    pager = page.locator("#dashboard-tams-pages")
    assert "1–25 of 33 lines" in pager.inner_text() and "Page 1 of 2" in pager.inner_text()
    open_before = page.locator("#dashboard-totals [data-figure=open]").inner_text()
    pager.get_by_role("link", name="Next →").click()
    page.wait_for_url("**tam_page=2**")
    assert page.locator("#dashboard-tams tbody tr").count() == 8
    assert page.locator("#dashboard-tams tbody tr").last.inner_text().startswith("Zed Tam 29")
    assert page.locator("#dashboard-totals [data-figure=open]").inner_text() == open_before  # the whole book still
    screenshot(page, "dashboard-onboarding-tams-page-2")
