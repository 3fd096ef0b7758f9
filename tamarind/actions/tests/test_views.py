"""Task pages: the permission trio per route, behaviour (status buttons, snooze, filters, forms), and query counts
that do not grow with the number of tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.actions.models import Task, TaskStatus, TaskType, today
from tamarind.actions.services import task_update
from tamarind.actions.tests.conftest import grow_tasks
from tamarind.audit.models import AuditEvent
from tamarind.testing.factories import AccountFactory

HX = {"HX-Request": "true"}


def count_queries(client: Any, url: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


# --- My tasks -------------------------------------------------------------------------------------------------


def test_my_tasks_lists_only_mine(book: Any, client_for: Any, tam_task: Task, rule_task: Task) -> None:
    body = client_for(book.tam).get("/tasks/").content.decode()
    assert "Kickoff call" in body and "Assign a TAM: Acme" not in body
    body = client_for(book.manager).get("/tasks/").content.decode()
    assert "Assign a TAM: Acme Corp" in body and "Kickoff call" not in body
    assert "rule “Qualifies for a TAM”" in body


def test_my_tasks_requires_login(client: Any) -> None:
    assert client.get("/tasks/").status_code == 302


def test_my_tasks_hides_done_and_snoozed_by_default(book: Any, client_for: Any, tam_task: Task) -> None:
    c = client_for(book.tam)
    task_update(actor=book.tam, task=tam_task, changes={"snoozed_until": today() + dt.timedelta(2)})
    assert "Kickoff call" not in c.get("/tasks/").content.decode()
    assert "Kickoff call" in c.get("/tasks/", {"status": "snoozed"}).content.decode()
    assert "Kickoff call" in c.get("/tasks/", {"status": "all"}).content.decode()
    # the day comes: it is open again
    Task.objects.filter(pk=tam_task.pk).update(snoozed_until=today())
    assert "Kickoff call" in c.get("/tasks/").content.decode()
    assert "Kickoff call" not in c.get("/tasks/", {"status": "snoozed"}).content.decode()


def test_my_tasks_reports_bad_filters_without_failing(book: Any, client_for: Any) -> None:
    response = client_for(book.tam).get("/tasks/", {"status": "lost", "type": "x", "overdue": "maybe"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Unknown status" in body and "Unknown task type" in body


def test_my_tasks_htmx_returns_the_table(book: Any, client_for: Any, tam_task: Task) -> None:
    response = client_for(book.tam).get("/tasks/", headers={**HX, "HX-Target": "task-table"})
    body = response.content.decode()
    assert "<html" not in body and 'id="tasks"' in body


def test_my_tasks_query_count_is_constant(book: Any, client_for: Any, django_assert_num_queries: Any) -> None:
    c = client_for(book.tam)
    grow_tasks(book.tam, book.account, 8)
    small = count_queries(c, "/tasks/", status="all")
    grow_tasks(book.tam, AccountFactory(region=book.east), 300)
    with django_assert_num_queries(small):
        c.get("/tasks/", {"status": "all"})


# --- Team tasks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "other_manager"])
def test_team_tasks_allowed(book: Any, client_for: Any, who: str) -> None:
    assert client_for(getattr(book, who)).get("/tasks/team/").status_code == 200


@pytest.mark.parametrize("who", ["tam", "tam2", "sal", "sa", "other_tam"])
def test_team_tasks_forbidden_without_a_team(book: Any, client_for: Any, who: str) -> None:
    assert client_for(getattr(book, who)).get("/tasks/team/").status_code == 403


def test_team_tasks_scope_and_filters(book: Any, client_for: Any, tam_task: Task, rule_task: Task) -> None:
    other = Task.objects.create(
        title="West work", account=book.other_account, owner=book.other_tam, created_by=book.other_manager
    )
    c = client_for(book.manager)
    body = c.get("/tasks/team/").content.decode()
    assert "Kickoff call" in body and "Assign a TAM: Acme" in body and other.title not in body
    assert "Olga Tam" not in body  # not offered as an owner filter either
    body = c.get("/tasks/team/", {"owner": book.tam.pk}).content.decode()
    assert "Kickoff call" in body and "Assign a TAM: Acme" not in body
    body = c.get("/tasks/team/", {"type": TaskType.ASSIGN_TAM}).content.decode()
    assert "Kickoff call" not in body and "Assign a TAM: Acme" in body
    body = c.get("/tasks/team/", {"q": "acme"}).content.decode()
    assert "Kickoff call" in body
    body = c.get("/tasks/team/", {"q": "globex"}).content.decode()
    assert "Kickoff call" not in body and "No task matches" in body
    Task.objects.filter(pk=tam_task.pk).update(due_on=today() - dt.timedelta(1))
    body = c.get("/tasks/team/", {"overdue": "1"}).content.decode()
    assert "Kickoff call" in body and "Assign a TAM: Acme" not in body and "overdue" in body
    # the director sees the west task too
    assert other.title in client_for(book.director).get("/tasks/team/").content.decode()


def test_director_sees_team_tasks_without_buttons(book: Any, client_for: Any, tam_task: Task) -> None:
    body = client_for(book.director).get("/tasks/team/").content.decode()
    assert "Kickoff call" in body and 'data-status="done"' not in body
    body = client_for(book.manager).get("/tasks/team/").content.decode()
    assert 'data-status="done"' in body


@pytest.mark.parametrize("who", ["manager", "director"])
def test_team_tasks_query_count_is_constant(
    book: Any, client_for: Any, django_assert_num_queries: Any, who: str
) -> None:
    c = client_for(getattr(book, who))
    grow_tasks(book.tam, book.account, 8)
    small = count_queries(c, "/tasks/team/", status="all")
    for owner in (book.tam2, book.tam):
        grow_tasks(owner, AccountFactory(region=book.east), 150)
    with django_assert_num_queries(small):
        c.get("/tasks/team/", {"status": "all"})


# --- Detail ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam"])
def test_detail_allowed(book: Any, client_for: Any, tam_task: Task, who: str) -> None:
    assert client_for(getattr(book, who)).get(f"/tasks/{tam_task.pk}/").status_code == 200


@pytest.mark.parametrize("who", ["tam2", "other_manager", "other_tam", "sal", "sa"])
def test_detail_outsider_gets_404(book: Any, client_for: Any, tam_task: Task, who: str) -> None:
    assert client_for(getattr(book, who)).get(f"/tasks/{tam_task.pk}/").status_code == 404


def test_detail_unknown_is_404(book: Any, client_for: Any) -> None:
    c = client_for(book.admin)
    assert c.get("/tasks/999999/").status_code == 404
    assert c.get(f"/tasks/{2**70}/").status_code == 404


def test_detail_shows_why_of_a_rule_task(book: Any, client_for: Any, rule_task: Task) -> None:
    body = client_for(book.manager).get(f"/tasks/{rule_task.pk}/").content.decode()
    assert "the rule <strong>Qualifies for a TAM</strong>, version 2 of rule set #1" in body
    assert "120000.00" in body and "segment" in body
    assert "the system" in body


def test_detail_query_count_is_constant(
    book: Any, client_for: Any, tam_task: Task, django_assert_num_queries: Any
) -> None:
    c = client_for(book.manager)
    small = count_queries(c, f"/tasks/{tam_task.pk}/")
    for day in range(1, 30):
        task_update(actor=book.manager, task=tam_task, changes={"due_on": today() + dt.timedelta(day)})
    grow_tasks(book.tam, book.account, 100)
    with django_assert_num_queries(small):
        c.get(f"/tasks/{tam_task.pk}/")


# --- Status buttons and snooze --------------------------------------------------------------------------------


def test_owner_changes_status_with_htmx_on_the_page(book: Any, client_for: Any, tam_task: Task) -> None:
    response = client_for(book.tam).post(
        f"/tasks/{tam_task.pk}/status/", {"status": "in_progress"}, headers={**HX, "HX-Target": "task-status"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="task-status"' in body and "In progress" in body and "<html" not in body
    tam_task.refresh_from_db()
    assert tam_task.status == TaskStatus.IN_PROGRESS


def test_status_from_a_list_row_returns_the_row(book: Any, client_for: Any, tam_task: Task) -> None:
    response = client_for(book.manager).post(
        f"/tasks/{tam_task.pk}/status/",
        {"status": "done", "team": "1"},
        headers={**HX, "HX-Target": f"task-row-{tam_task.pk}"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="task-row-{tam_task.pk}"') and "Done" in body
    assert "Tara Tam" in body  # the team list shows the owner column


def test_snooze_and_bad_snooze(book: Any, client_for: Any, tam_task: Task) -> None:
    c = client_for(book.tam)
    url = f"/tasks/{tam_task.pk}/status/"
    until = today() + dt.timedelta(5)
    response = c.post(url, {"status": "snoozed", "snoozed_until": until.isoformat()}, headers=HX)
    assert response.status_code == 200 and "Snoozed" in response.content.decode()
    tam_task.refresh_from_db()
    assert tam_task.snoozed_until == until
    n = AuditEvent.objects.count()
    for data in ({"status": "snoozed"}, {"status": "snoozed", "snoozed_until": today().isoformat()}, {"status": "x"}):
        response = c.post(url, data, headers=HX)
        assert response.status_code == 400, data
        assert "actions-error" in response.content.decode()
    assert AuditEvent.objects.count() == n


def test_status_without_htmx_redirects(book: Any, client_for: Any, tam_task: Task) -> None:
    response = client_for(book.tam).post(f"/tasks/{tam_task.pk}/status/", {"status": "done"})
    assert response.status_code == 302 and response["Location"] == f"/tasks/{tam_task.pk}/"
    response = client_for(book.tam).post(f"/tasks/{tam_task.pk}/status/", {"status": "snoozed"}, follow=True)
    assert "Say until when" in response.content.decode()


def test_director_gets_403_on_status_and_nothing_changes(book: Any, client_for: Any, tam_task: Task) -> None:
    assert client_for(book.director).post(f"/tasks/{tam_task.pk}/status/", {"status": "done"}).status_code == 403
    tam_task.refresh_from_db()
    assert tam_task.status == TaskStatus.OPEN


@pytest.mark.parametrize("who", ["tam2", "other_manager", "sal"])
def test_outsider_gets_404_on_status(book: Any, client_for: Any, tam_task: Task, who: str) -> None:
    assert client_for(getattr(book, who)).post(f"/tasks/{tam_task.pk}/status/", {"status": "done"}).status_code == 404


# --- Edit -----------------------------------------------------------------------------------------------------


def test_manager_edits_and_reassigns(book: Any, client_for: Any, tam_task: Task) -> None:
    c = client_for(book.manager)
    assert c.get(f"/tasks/{tam_task.pk}/edit/").status_code == 200
    due = today() + dt.timedelta(20)
    response = c.post(
        f"/tasks/{tam_task.pk}/edit/",
        {"title": "Kickoff call (moved)", "owner": book.tam2.pk, "due_on": due.isoformat(), "notes": "Customer asked"},
    )
    assert response.status_code == 302
    tam_task.refresh_from_db()
    assert (tam_task.title, tam_task.owner_id, tam_task.due_on, tam_task.notes) == (
        "Kickoff call (moved)",
        book.tam2.pk,
        due,
        "Customer asked",
    )


def test_owner_edit_offers_only_themselves(book: Any, client_for: Any, tam_task: Task) -> None:
    body = client_for(book.tam).get(f"/tasks/{tam_task.pk}/edit/").content.decode()
    assert "Tara Tam" in body and "Theo Tam" not in body
    response = client_for(book.tam).post(f"/tasks/{tam_task.pk}/edit/", {"title": "x", "owner": book.tam2.pk})
    assert response.status_code == 400
    tam_task.refresh_from_db()
    assert tam_task.owner_id == book.tam.pk


def test_edit_bad_input_is_400(book: Any, client_for: Any, tam_task: Task) -> None:
    response = client_for(book.tam).post(
        f"/tasks/{tam_task.pk}/edit/", {"title": "", "owner": book.tam.pk, "due_on": "soon"}
    )
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()


def test_director_gets_403_on_edit(book: Any, client_for: Any, tam_task: Task) -> None:
    assert client_for(book.director).get(f"/tasks/{tam_task.pk}/edit/").status_code == 403
    assert client_for(book.director).post(f"/tasks/{tam_task.pk}/edit/", {"title": "x"}).status_code == 403


def test_outsider_gets_404_on_edit(book: Any, client_for: Any, tam_task: Task) -> None:
    assert client_for(book.other_manager).get(f"/tasks/{tam_task.pk}/edit/").status_code == 404


# --- New task -------------------------------------------------------------------------------------------------


def test_tam_creates_a_task_for_an_account_by_name(book: Any, client_for: Any) -> None:
    c = client_for(book.tam)
    response = c.post(
        "/tasks/new/", {"title": "Send the deck", "type": "follow_up", "account": "acme corp", "owner": book.tam.pk}
    )
    assert response.status_code == 302
    task = Task.objects.get(title="Send the deck")
    assert task.account == book.account and task.owner == book.tam and task.created_by == book.tam


def test_new_task_prefills_the_account(book: Any, client_for: Any) -> None:
    body = client_for(book.tam).get("/tasks/new/", {"account": book.account.pk}).content.decode()
    assert book.account.crm_id in body
    body = client_for(book.tam).get("/tasks/new/", {"account": book.other_account.pk}).content.decode()
    assert book.other_account.crm_id not in body


def test_new_task_for_an_account_i_cannot_see_is_400(book: Any, client_for: Any) -> None:
    response = client_for(book.tam).post(
        "/tasks/new/", {"title": "x", "type": "follow_up", "account": book.other_account.crm_id, "owner": book.tam.pk}
    )
    assert response.status_code == 400 and "No account you can see" in response.content.decode()
    assert not Task.objects.exists()


def test_manager_gives_a_new_task_to_a_tam_who_cannot_see_the_account(book: Any, client_for: Any) -> None:
    west_owned = AccountFactory(region=book.east, name="East only")
    response = client_for(book.admin).post(
        "/tasks/new/", {"title": "x", "type": "follow_up", "account": west_owned.crm_id, "owner": book.other_tam.pk}
    )
    assert response.status_code == 400 and "cannot see" in response.content.decode()


def test_new_task_ambiguous_account(book: Any, client_for: Any) -> None:
    AccountFactory(region=book.east, name="Acme Labs")
    response = client_for(book.manager).post(
        "/tasks/new/", {"title": "x", "type": "follow_up", "account": "acme", "owner": book.manager.pk}
    )
    assert response.status_code == 400 and "Several accounts match" in response.content.decode()


def test_new_task_owner_outside_my_team_is_400(book: Any, client_for: Any) -> None:
    response = client_for(book.manager).post(
        "/tasks/new/", {"title": "x", "type": "follow_up", "owner": book.other_tam.pk}
    )
    assert response.status_code == 400
    assert not Task.objects.exists()


# --- Query counts of the writes and forms ---------------------------------------------------------------------


def _measure(client: Any, method: str, url: str, data: Any, headers: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data, headers=headers)
    assert response.status_code in (200, 302), response.content[:300]
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("method", "path", "data", "headers"),
    [
        ("post", "status/", {"status": "in_progress"}, {**HX, "HX-Target": "task-status"}),
        ("get", "edit/", None, {}),
        ("post", "edit/", {"title": "Kickoff call", "owner": "{tam}", "notes": "n{i}"}, {}),
    ],
)
def test_task_writes_query_count_is_constant(
    book: Any, client_for: Any, tam_task: Task, method: str, path: str, data: Any, headers: Any
) -> None:
    c = client_for(book.manager)
    url = f"/tasks/{tam_task.pk}/{path}"

    def body(i: int) -> Any:
        if data is None:
            return None
        return {k: v.format(tam=book.tam.pk, i=i) for k, v in data.items()}

    def reset() -> None:
        Task.objects.filter(pk=tam_task.pk).update(status=TaskStatus.OPEN)

    c.get("/tasks/")  # the session's first request
    small = _measure(c, method, url, body(1), headers)
    reset()
    grow_tasks(book.tam, book.account, 300)
    for day in range(1, 20):
        task_update(actor=book.manager, task=tam_task, changes={"due_on": today() + dt.timedelta(day)})
    reset()
    assert _measure(c, method, url, body(2), headers) == small


def test_new_task_query_count_is_constant(book: Any, client_for: Any) -> None:
    c = client_for(book.manager)
    c.get("/tasks/")
    data = {"title": "x", "type": "follow_up", "account": book.account.crm_id, "owner": book.tam.pk}
    small_get = _measure(c, "get", "/tasks/new/", None, {})
    small_post = _measure(c, "post", "/tasks/new/", data, {})
    for _ in range(20):
        AccountFactory(region=book.east)
    grow_tasks(book.tam, book.account, 300)
    assert _measure(c, "get", "/tasks/new/", None, {}) == small_get
    assert _measure(c, "post", "/tasks/new/", data, {}) == small_post
