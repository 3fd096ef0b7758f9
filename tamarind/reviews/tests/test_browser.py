"""The manager's cockpit in a real browser: My week, a review from open to complete (htmx decisions), a 1:1
agenda the TAM adds to, the regional dashboard and the burn-down chart."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.health.models import HealthScore
from tamarind.reviews.burndown import burndown_snapshot
from tamarind.reviews.models import BurndownCount, ReviewKind, ReviewOccurrence
from tamarind.reviews.tests.factories import occurrence
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _book(book):
    today = timezone.localdate()
    HealthScore.objects.create(
        account=book.account, score=30, color="red", model_version=1, engaged_on=today - dt.timedelta(days=45)
    )
    other = AccountFactory(name="Yellowstone", region=book.east, tam=book.tam2)
    HealthScore.objects.create(account=other, score=60, color="yellow", stale=True, model_version=1)
    AccountFactory(name="Nobody Renews", region=book.east, tam=None, next_renewal_date=today + dt.timedelta(days=30))


def test_my_week_and_a_review_from_open_to_complete(page, live_server, book):
    _book(book)
    today = timezone.localdate()
    late = occurrence(book.east, ReviewKind.TRIAGE_HEALTH, due_on=today - dt.timedelta(days=3))
    occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam, due_on=today)
    login(page, live_server, book.manager)
    assert page.url.endswith("/reviews/my-week/")
    assert "Triage and health review" in page.locator("#overdue-reviews").inner_text()
    assert "1:1 with Tara Tam" in page.locator("#todays-one-on-ones").inner_text()
    assert "Nobody Renews" in page.locator("#to-staff").inner_text() or page.locator("#to-staff").count() == 1
    screenshot(page, "reviews-my-week")

    page.click(f"#overdue-reviews a[href='/reviews/{late.pk}/']")
    page.click("#open-review")
    page.wait_for_selector("#section-red")
    assert "Acme Corp" in page.locator("#section-red").inner_text()
    assert "Yellowstone" in page.locator("#section-yellow").inner_text()
    screenshot(page, "reviews-review-open")

    # Completing with undecided items is refused and says why.
    page.click("#complete-review")
    assert "carried over" in page.locator("#complete-error").inner_text()

    # Decide each item with htmx: a task for Tara on the red one, the others carried over.
    rows = page.locator("tbody.review-item.undecided")
    first = rows.first
    item_id = first.get_attribute("id")
    first.locator("select[name=decision]").select_option("task")
    first.locator("select[name=owner]").select_option(label="Tara Tam")
    first.locator("input[name=note]").fill("Call the sponsor this week")
    first.locator("button[type=submit]").click()
    page.wait_for_selector(f"#{item_id} .badge.green")
    assert "Call the sponsor this week" in page.locator(f"#{item_id}").inner_text()
    while page.locator("tbody.review-item.undecided").count():
        row = page.locator("tbody.review-item.undecided").first
        rid = row.get_attribute("id")
        row.locator("select[name=decision]").select_option("carried_over")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(f"#{rid}:not(.undecided)")
    page.evaluate("window.scrollTo(0, 0)")  # sticky table headers shift in a full-page shot taken scrolled
    screenshot(page, "reviews-review-decided")
    page.click("#complete-review")
    page.wait_for_selector("#review-status:has-text('Completed')")
    assert ReviewOccurrence.objects.get(pk=late.pk).status == "completed"
    screenshot(page, "reviews-review-completed")


def test_one_on_one_agenda_the_tam_adds_to(page, live_server, book):
    _book(book)
    one = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/reviews/{one.pk}/")
    page.fill("#agenda-add input[name=label]", "Training budget for Q1")
    page.click("#agenda-add button")
    page.wait_for_selector("#section-added")
    page.fill("#id_subject_notes", "Acme wants an exec sponsor call.")
    page.click("text=Save your notes")
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/reviews/{one.pk}/")
    page.click("#open-review")
    page.wait_for_selector("#section-red")
    body = page.locator("main").inner_text() if page.locator("main").count() else page.content()
    assert "Training budget for Q1" in body and "Acme wants an exec sponsor call." in body
    assert "Yellowstone" not in page.locator("#section-yellow").inner_text()  # Theo's account, not Tara's
    # Success plans are installed: Tara's priority 1 account without a plan is on her agenda.
    assert "Acme Corp: no success plan" in page.locator("#section-plans_not_green").inner_text()
    screenshot(page, "reviews-one-on-one-agenda")


def test_regional_dashboard_and_burndown_chart(page, live_server, book):
    _book(book)
    today = timezone.localdate()
    burndown_snapshot(today=today)
    for back in (7, 14, 21):
        for row in BurndownCount.objects.filter(day=today):
            BurndownCount.objects.create(
                day=today - dt.timedelta(days=back),
                exception=row.exception,
                region_id=row.region_id,
                tam_id=row.tam_id,
                count=row.count + back // 7,
            )
    login(page, live_server, book.director)
    page.goto(f"{live_server.url}/reviews/dashboard/")
    assert "AMER East" in page.locator("#regions-side-by-side").inner_text()
    assert "EMEA" in page.locator("#regions-side-by-side").inner_text()
    screenshot(page, "reviews-regional-dashboard")
    page.select_option("select[name=region]", str(book.east.pk))
    page.click("#scope-filters button")
    page.wait_for_selector(f"#tam-{book.tam.pk}")
    assert "Nobody Renews" in page.locator("#unassigned-renewing").inner_text()
    page.click(f"#tam-{book.tam.pk} a.fig-accounts")
    page.wait_for_selector("#accounts")
    assert "Acme Corp" in page.locator("#accounts").inner_text()

    page.goto(f"{live_server.url}/reviews/burndown/")
    page.wait_for_function("document.getElementById('burndown-chart').dataset.points === '4'")
    assert "▼" in page.locator("#line-p1_no_call").inner_text()
    screenshot(page, "reviews-burndown-chart")
