"""My tasks and Team tasks in a real browser: change a status, snooze, filter, and the task page's "why"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tamarind.actions.models import Task, TaskStatus, TaskType, today
from tamarind.actions.services import task_create, task_raise
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHY = {
    "rule_set": 1,
    "rule_version": 3,
    "rule": "Qualifies for a TAM",
    "data": {"arr": "120000.00", "segment": "enterprise", "product_tier": "Premium"},
}


def seed(book: Any) -> dict[str, Task]:
    northwind = AccountFactory(name="Northwind Traders", region=book.east, tam=book.tam)
    initech = AccountFactory(name="Initech", region=book.east, tam=book.tam2)
    tasks = {
        "kickoff": task_create(
            actor=book.manager,
            data={
                "title": "Kickoff call with Acme",
                "account": book.account,
                "owner": book.tam,
                "due_on": today() - dt.timedelta(2),
            },
        ),
        "deck": task_create(
            actor=book.tam,
            data={"title": "Send the success plan draft", "account": northwind, "due_on": today() + dt.timedelta(5)},
        ),
        "overdue": task_raise(
            type=TaskType.ONBOARDING_OVERDUE,
            account=northwind,
            owner=book.tam,
            reason="time_to_engage",
            why={**WHY, "rule": "Time to engage over target", "data": {"onboarding_start": "2026-10-01"}},
            due_on=today() + dt.timedelta(1),
        ),
        "initech": task_create(
            actor=book.manager, data={"title": "Review Initech usage", "account": initech, "owner": book.tam2}
        ),
        "assign": task_raise(
            type=TaskType.ASSIGN_TAM, account=initech, owner=book.manager, reason="qualified", why=WHY
        ),
    }
    assert all(tasks.values())
    return tasks  # type: ignore[return-value]


def test_my_tasks_change_status_and_snooze(page: Any, live_server: Any, book: Any) -> None:
    tasks = seed(book)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/tasks/")
    rows = page.locator("#tasks tbody tr")
    assert rows.count() == 3
    assert "overdue" in page.locator(f"#task-row-{tasks['kickoff'].pk}").inner_text()
    assert page.locator("nav a.active").inner_text() == "My tasks"
    screenshot(page, "tasks-mine")

    # Start the kickoff: the row swaps in place.
    row = page.locator(f"#task-row-{tasks['kickoff'].pk}")
    row.locator("button[data-status=in_progress]").click()
    page.wait_for_selector(f"#task-row-{tasks['kickoff'].pk} .actions-saved")
    assert "In progress" in page.locator(f"#task-row-{tasks['kickoff'].pk}").inner_text()

    # Snooze the deck until next week.
    until = today() + dt.timedelta(7)
    row = page.locator(f"#task-row-{tasks['deck'].pk}")
    row.locator("summary").click()
    row.locator("input[name=snoozed_until]").fill(until.isoformat())
    screenshot(page, "tasks-mine-snoozing")
    row.locator("form:has(input[name=snoozed_until]) button[type=submit]").click()
    page.wait_for_selector(f"#task-row-{tasks['deck'].pk} .actions-saved")
    assert "Snoozed" in page.locator(f"#task-row-{tasks['deck'].pk}").inner_text()
    screenshot(page, "tasks-mine-after-changes")

    deck = Task.objects.get(pk=tasks["deck"].pk)
    assert deck.status == TaskStatus.SNOOZED and deck.snoozed_until == until
    assert Task.objects.get(pk=tasks["kickoff"].pk).status == TaskStatus.IN_PROGRESS

    # Reloaded, the snoozed task is gone from "To do" and shows under "Snoozed".
    page.reload()
    assert page.locator("#tasks tbody tr").count() == 2
    page.select_option("#id_status", "snoozed")
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 1")
    assert "Send the success plan draft" in page.locator("#tasks").inner_text()
    assert "status=snoozed" in page.url


def test_task_page_why_status_and_snooze(page: Any, live_server: Any, book: Any) -> None:
    tasks = seed(book)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/tasks/{tasks['overdue'].pk}/")
    why = page.locator("#task-why").inner_text()
    assert "Time to engage over target" in why and "version 3" in why and "onboarding_start" in why
    screenshot(page, "task-detail")

    page.locator("#task-status button[data-status=done]").click()
    page.wait_for_selector("#task-status .actions-saved")
    assert "Done" in page.locator("#task-status").inner_text()
    page.locator("#task-status button[data-status=open]").click()
    page.wait_for_selector("#task-status button[data-status=in_progress]")

    # A snooze date in the past is refused with a message; nothing changes.
    page.locator("#task-status summary").click()
    page.locator("#task-status input[name=snoozed_until]").evaluate("el => el.removeAttribute('min')")
    page.locator("#task-status input[name=snoozed_until]").fill((today() - dt.timedelta(1)).isoformat())
    page.locator("#task-status form:has(input[name=snoozed_until]) button[type=submit]").click()
    page.wait_for_selector("#task-status .actions-error")
    assert "after today" in page.locator("#task-status").inner_text()
    assert Task.objects.get(pk=tasks["overdue"].pk).status == TaskStatus.OPEN
    screenshot(page, "task-detail-bad-snooze")


def test_team_tasks_filter(page: Any, live_server: Any, book: Any) -> None:
    tasks = seed(book)
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/tasks/team/")
    assert page.locator("#tasks tbody tr").count() == 5
    screenshot(page, "tasks-team")

    page.select_option("#id_owner", str(book.tam2.pk))
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 1")
    assert "Review Initech usage" in page.locator("#tasks").inner_text()
    assert f"owner={book.tam2.pk}" in page.url

    page.select_option("#id_owner", "")
    page.select_option("#id_overdue", "1")
    # The table had one row before too (owner filter): wait for the overdue one, then count.
    page.wait_for_url("**overdue=1*")
    page.locator("#tasks").get_by_text("Kickoff call with Acme").wait_for()
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 1")
    assert "Review Initech usage" not in page.locator("#tasks").inner_text()

    page.select_option("#id_overdue", "")
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 5")
    page.locator("#id_q").press_sequentially("initech")  # typing filters as you go
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 2")
    page.select_option("#id_type", TaskType.ASSIGN_TAM)
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 1")
    assert "Assign a TAM: Initech" in page.locator("#tasks").inner_text()
    screenshot(page, "tasks-team-filtered")

    # The manager closes a TAM's task from the team list.
    page.goto(f"{live_server.url}/tasks/team/?owner={book.tam2.pk}")
    page.locator(f"#task-row-{tasks['initech'].pk} button[data-status=done]").click()
    page.wait_for_selector(f"#task-row-{tasks['initech'].pk} .actions-saved")
    assert "Theo Tam" in page.locator(f"#task-row-{tasks['initech'].pk}").inner_text()
    assert Task.objects.get(pk=tasks["initech"].pk).status == TaskStatus.DONE


def test_new_task_form(page: Any, live_server: Any, book: Any) -> None:
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/tasks/new/?account={book.account.pk}")
    assert page.locator("#id_account").input_value() == book.account.crm_id
    page.fill("#id_title", "Prepare the EBR deck")
    page.select_option("#id_owner", str(book.tam2.pk))
    page.fill("#id_due_on", (today() + dt.timedelta(10)).isoformat())
    screenshot(page, "task-new")
    page.click("button:has-text('Create task')")
    page.wait_for_selector(".messages .success")
    assert page.locator("h1").inner_text() == "Prepare the EBR deck"
    task = Task.objects.get(title="Prepare the EBR deck")
    assert task.owner == book.tam2 and task.account == book.account

    # Edit it from its page: a new due date and a note.
    page.get_by_role("link", name="Edit").click()
    page.wait_for_url(f"**/tasks/{task.pk}/edit/")
    page.fill("#id_due_on", (today() + dt.timedelta(20)).isoformat())
    page.fill("#id_notes", "Customer asked for a usage section.")
    screenshot(page, "task-edit")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/tasks/{task.pk}/")
    task.refresh_from_db()
    assert task.due_on == today() + dt.timedelta(20) and task.notes == "Customer asked for a usage section."
