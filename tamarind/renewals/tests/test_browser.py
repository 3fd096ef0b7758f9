"""Renewals in a real browser: the review page (filter, page on), a renewal (forecast to at risk, a next step,
closing with the outcome), recording a review, and the retention chart with its drill-down."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tamarind.renewals.models import Renewal, RenewalReview
from tamarind.renewals.tests.factories import RenewalFactory, snap
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _book(book):
    today = timezone.localdate()
    made = []
    for i in range(30):
        account = AccountFactory(name=f"Renewco {i:02d}", region=book.east, tam=book.tam, sal=book.sal)
        made.append(
            RenewalFactory(
                account=account,
                renewal_date=today + dt.timedelta(days=(i * 11) % 330),
                tam=book.tam,
                owner=book.sal,
                forecast=["commit", "likely", "at_risk", "will_churn"][i % 4],
                arr=Decimal(50_000 + i * 1000),
            )
        )
    return made


def test_review_page_filter_and_record_a_review(page, live_server, book):
    _book(book)
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/renewals/")
    assert "Renewal review" in page.locator("h1").inner_text()
    assert page.locator(".renewals-quarter").count() == 4
    assert "review overdue" in page.locator("#renewals-cadence").inner_text()
    screenshot(page, "renewals-review")
    page.select_option("#id_forecast", "at_risk")
    page.click("#renewals-filters button[type=submit]")
    page.wait_for_url("**forecast=at_risk**")
    badges = page.locator(".renewals-rows .badge.forecast-at_risk")
    assert badges.count() > 0 and page.locator(".renewals-rows .badge.forecast-commit").count() == 0
    screenshot(page, "renewals-review-at-risk")

    page.goto(f"{live_server.url}/renewals/reviews/")
    page.fill("#id_notes", "Walked the quarter")
    first = page.locator("#review-form input[name^=decision-]").first
    first.fill("Push for commit")
    screenshot(page, "renewals-record-review")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#review-decisions")
    assert RenewalReview.objects.get().decisions.count() == 1
    page.goto(f"{live_server.url}/renewals/")
    assert "on cadence" in page.locator("#renewals-cadence").inner_text()


def test_a_renewal_forecast_step_and_close(page, live_server, book):
    r = RenewalFactory(
        account=book.account, renewal_date=book.account.next_renewal_date, tam=book.tam, arr=Decimal(120000)
    )
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/renewals/{r.pk}/")
    page.select_option("#id_forecast", "at_risk")
    page.fill("#id_forecast_reason", "Sponsor left")
    page.click("#renewal-fields button[type=submit]")
    page.wait_for_selector("#renewal-forecast.forecast-at_risk")
    page.fill("#step_text", "Meet the new sponsor")
    page.fill("#step_due_on", (timezone.localdate() + dt.timedelta(days=7)).isoformat())
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("#renewal-steps >> text=Meet the new sponsor")
    screenshot(page, "renewals-detail")
    page.select_option("#id_outcome", "contracted")
    page.fill("#id_new_arr", "90000")
    page.select_option("#id_outcome_reason", "downgrade")
    page.click("#close-renewal")
    page.wait_for_selector("#renewal-outcome")
    assert "Contracted" in page.locator("#renewal-outcome").inner_text()
    screenshot(page, "renewals-detail-closed")
    assert Renewal.objects.filter(account=book.account, status="open").count() == 1


def test_retention_chart_and_drill_down(page, live_server, book):
    month = timezone.localdate().replace(day=1)
    start = month.replace(year=month.year - 1)
    for i in range(12):
        account = AccountFactory(name=f"Retained {i:02d}", region=book.east)
        for k in range(13):
            m = start.replace(year=start.year + (start.month - 1 + k) // 12, month=(start.month - 1 + k) % 12 + 1)
            value = 100_000 if k < 6 else [0, 80_000, 150_000, 100_000][i % 4]
            snap(account.pk, m, value)
    login(page, live_server, book.director)
    page.goto(f"{live_server.url}/renewals/retention/")
    page.wait_for_function("document.getElementById('retention-chart').chart !== undefined")
    assert "%" in page.locator("#gross-figure").inner_text()
    screenshot(page, "renewals-retention")
    page.click("#drill-contracted summary")
    assert page.locator("#drill-contracted tbody tr").count() == 3
    page.click("#drill-expanded summary")
    screenshot(page, "renewals-retention-drill-down")
    assert page.locator("#drill-churned tbody tr").count() == 3
