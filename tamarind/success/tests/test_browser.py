"""Success plans in a real browser: the plan page edited in place, a manager review, the list with its coverage,
and a peer review answered by the TAM asked."""

import pytest

from tamarind.success import services
from tamarind.success.models import Objective, PlanReview
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _plan(book):  # type: ignore[no-untyped-def]
    plan = services.success_plan_create(
        actor=book.tam,
        account=book.account,
        data={
            "status": "active",
            "why_bought": "Consolidate their toolchain.",
            "strategy": "**Standardize** delivery:\n\n1. pilot\n2. roll out",
            "highlights": "Pilot team ships weekly.",
            "start_on": "2026-01-01",
        },
    )
    objective = services.objective_create(actor=book.tam, plan=plan, data={"name": "Roll out CI"})
    services.plan_task_create(actor=book.tam, objective=objective, data={"name": "Pilot", "progress": 40})
    return plan, objective


def test_plan_page_edit_objective_and_task_in_place(page, live_server, book):  # type: ignore[no-untyped-def]
    plan, objective = _plan(book)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/success/plans/{plan.pk}/")
    assert "Standardize" in page.locator("#plan-strategy strong").inner_text()
    assert page.locator(".success-color").first.get_attribute("data-color") == "green"
    screenshot(page, "success-plan")

    # Closing without an outcome is refused on the field, in place.
    card = page.locator(f"#objective-{objective.pk}")
    card.locator("summary").click()
    card.locator(".success-edit select[name=status]").select_option("closed")
    card.locator("button", has_text="Save objective").click()
    page.wait_for_selector(f"#objective-{objective.pk} [data-field=outcome]")
    objective.refresh_from_db()
    assert objective.status != "closed"

    # A task's progress saved in place moves the objective's progress bar.
    row = page.locator(f"#objective-{objective.pk} .success-task-row").first
    row.locator("input[name=progress]").fill("90")
    row.locator("button", has_text="Save").click()
    page.wait_for_selector(f"#objective-{objective.pk} .progress span[style='width: 90%']")

    # Add a task in place.
    page.locator(f"#objective-{objective.pk} .success-task-add input[name=name]").fill("Executive readout")
    page.locator(f"#objective-{objective.pk} .success-task-add button").click()
    page.wait_for_selector(f"#objective-{objective.pk} input[value='Executive readout']")
    screenshot(page, "success-plan-edited")


def test_manager_review(page, live_server, book):  # type: ignore[no-untyped-def]
    plan, _ = _plan(book)
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/success/plans/{plan.pk}/review/")
    for i in range(1, 7):
        page.locator(f"[data-question='{i}'] input[value={'yes' if i != 4 else 'partly'}]").check()
    page.locator("textarea[name=q4_notes]").fill("Outcome 2 is an activity, not a number.")
    page.select_option("#id_verdict", "needs_work")
    page.fill("#id_coaching", "Turn each objective into a number the sponsor tracks.")
    screenshot(page, "success-review-form")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#plan-reviews .success-answers")
    assert "Needs work" in page.locator("#plan-reviews").inner_text()
    assert PlanReview.objects.get().q4 == "partly"
    screenshot(page, "success-review-on-plan")


def test_list_with_coverage(page, live_server, book):  # type: ignore[no-untyped-def]
    _plan(book)
    AccountFactory(name="Zenith", region=book.east, tam=book.tam2)
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/success/")
    assert page.locator("#cov-green").inner_text().replace(" ", "") == "1/2"
    screenshot(page, "success-list-coverage")
    # The denominator links to its list: both priority 1 accounts.
    page.locator("#cov-green a").nth(1).click()
    page.wait_for_selector("#success-count")
    assert page.locator("#success-count").inner_text().startswith("2 accounts")
    page.select_option("select[name=color]", "none")
    page.click("#success-filters button[type=submit]")
    page.wait_for_selector("#success-count")
    assert page.locator("#success-count").inner_text().startswith("1 account")
    assert "Zenith" in page.locator("#success-table").inner_text()
    screenshot(page, "success-list-filtered")


def test_peer_review_requested_and_answered(page, live_server, book):  # type: ignore[no-untyped-def]
    plan, _ = _plan(book)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/success/plans/{plan.pk}/")
    page.select_option("#peer-request select[name=reviewer]", str(book.tam2.pk))
    page.click("#peer-request button")
    page.wait_for_selector("text=Asked Theo Tam for a peer review")
    review = PlanReview.objects.get(kind="peer")
    page.context.clear_cookies()
    login(page, live_server, book.tam2)
    page.goto(f"{live_server.url}/success/reviews/{review.pk}/")
    for i in range(1, 7):
        page.locator(f"[data-question='{i}'] input[value=yes]").check()
    page.select_option("#id_verdict", "strong")
    screenshot(page, "success-peer-review-form")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#review-status:has-text('Completed')")
    screenshot(page, "success-peer-review-done")
    assert Objective.objects.filter(plan=plan).exists()
