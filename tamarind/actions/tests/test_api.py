"""Task API: the permission trio per route, filters and 422s for bad input, and constant query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.actions.models import Task, TaskStatus, today
from tamarind.actions.tests.conftest import WHY, grow_tasks
from tamarind.audit.models import AuditEvent
from tamarind.testing.factories import AccountFactory

MINE = "/api/v1/tasks/"
TEAM = "/api/v1/tasks/team"


def detail(task: Task) -> str:
    return f"/api/v1/tasks/{task.pk}"


def patch(client: Any, url: str, data: Any) -> Any:
    return client.patch(url, data=data, content_type="application/json")


def post(client: Any, url: str, data: Any) -> Any:
    return client.post(url, data=data, content_type="application/json")


# --- lists ----------------------------------------------------------------------------------------------------


def test_list_mine(book: Any, api_for: Any, tam_task: Task, rule_task: Task) -> None:
    data = api_for(book.tam).get(MINE).json()
    assert data["count"] == 1
    [item] = data["results"]
    assert item["title"] == "Kickoff call" and item["owner"]["id"] == book.tam.pk
    assert item["account"] == {"id": book.account.pk, "name": "Acme Corp", "crm_id": book.account.crm_id}
    assert item["effective_status"] == "open" and item["overdue"] is False
    assert item["created_by"]["id"] == book.manager.pk
    [mine] = api_for(book.manager).get(MINE).json()["results"]
    assert mine["origin"] == "rule" and mine["why"] == WHY and mine["created_by"] is None


def test_list_filters(book: Any, api_for: Any, tam_task: Task) -> None:
    c = api_for(book.tam)
    Task.objects.filter(pk=tam_task.pk).update(due_on=today() - dt.timedelta(1))
    [item] = c.get(MINE, {"overdue": "true"}).json()["results"]
    assert item["overdue"] is True
    assert c.get(MINE, {"status": "done"}).json()["count"] == 0
    assert c.get(MINE, {"status": "all", "type": "follow_up"}).json()["count"] == 1
    assert c.get(MINE, {"q": "globex"}).json()["count"] == 0
    assert c.get(MINE, {"account": book.account.pk}).json()["count"] == 1


@pytest.mark.parametrize(
    "params",
    [{"status": "lost"}, {"type": "x"}, {"overdue": "maybe"}, {"account": "abc"}, {"page": 0}, {"page_size": 10**6}],
)
def test_list_bad_filters_are_422(book: Any, api_for: Any, params: dict[str, Any]) -> None:
    response = api_for(book.tam).get(MINE, params)
    assert response.status_code == 422
    assert "detail" in response.json()


def test_team_list_scope(book: Any, api_for: Any, tam_task: Task, rule_task: Task) -> None:
    west = Task.objects.create(title="West", account=book.other_account, owner=book.other_tam)
    ids = {t["id"] for t in api_for(book.manager).get(TEAM).json()["results"]}
    assert ids == {tam_task.pk, rule_task.pk}
    ids = {t["id"] for t in api_for(book.director).get(TEAM).json()["results"]}
    assert ids == {tam_task.pk, rule_task.pk, west.pk}
    ids = {t["id"] for t in api_for(book.manager).get(TEAM, {"owner": book.tam.pk}).json()["results"]}
    assert ids == {tam_task.pk}


@pytest.mark.parametrize("who", ["tam", "sal", "sa"])
def test_team_list_forbidden(book: Any, api_for: Any, who: str) -> None:
    response = api_for(getattr(book, who)).get(TEAM)
    assert response.status_code == 403 and "detail" in response.json()


def test_anonymous_gets_401(client: Any, book: Any, tam_task: Task) -> None:
    assert client.get(MINE).status_code == 401
    assert client.get(detail(tam_task)).status_code == 401


def _count(client: Any, url: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("who", "url"), [("tam", MINE), ("manager", TEAM), ("admin", TEAM)])
def test_list_query_count_does_not_grow(
    book: Any, api_for: Any, django_assert_num_queries: Any, who: str, url: str
) -> None:
    c = api_for(getattr(book, who))
    c.get(MINE)  # the token's first use stamps last_used_at; measure steady state
    grow_tasks(book.tam, book.account, 8)
    small = _count(c, url, status="all", page_size=500)
    grow_tasks(book.tam, AccountFactory(region=book.east), 400)
    with django_assert_num_queries(small):
        c.get(url, {"status": "all", "page_size": 500})


# --- detail ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam"])
def test_detail_allowed(book: Any, api_for: Any, tam_task: Task, who: str) -> None:
    assert api_for(getattr(book, who)).get(detail(tam_task)).json()["id"] == tam_task.pk


@pytest.mark.parametrize("who", ["tam2", "other_manager", "other_tam", "sal", "sa"])
def test_detail_outsider_404(book: Any, api_for: Any, tam_task: Task, who: str) -> None:
    response = api_for(getattr(book, who)).get(detail(tam_task))
    assert response.status_code == 404 and response.json()["detail"] == "No such task."


def test_detail_query_count_does_not_grow(
    book: Any, api_for: Any, tam_task: Task, django_assert_num_queries: Any
) -> None:
    c = api_for(book.manager)
    c.get(MINE)
    small = _count(c, detail(tam_task))
    grow_tasks(book.tam, book.account, 200)
    with django_assert_num_queries(small):
        c.get(detail(tam_task))


# --- create ---------------------------------------------------------------------------------------------------


def test_create_for_myself(book: Any, api_for: Any) -> None:
    response = post(api_for(book.sal), MINE, {"title": "Renewal prep", "account_id": book.account.pk})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["owner"]["id"] == book.sal.pk and data["origin"] == "manual" and data["type"] == "follow_up"
    assert AuditEvent.objects.filter(object_type="actions.task", object_id=str(data["id"]), source="api").exists()


def test_manager_creates_for_a_tam(book: Any, api_for: Any) -> None:
    response = post(
        api_for(book.manager),
        MINE,
        {"title": "Kickoff", "owner_id": book.tam2.pk, "account_id": book.account.pk, "due_on": "2030-01-31"},
    )
    assert response.status_code == 201
    assert response.json()["owner"]["id"] == book.tam2.pk and response.json()["due_on"] == "2030-01-31"


@pytest.mark.parametrize("who", ["director", "tam2", "sal", "other_manager"])
def test_create_for_someone_else_is_403(book: Any, api_for: Any, who: str) -> None:
    response = post(api_for(getattr(book, who)), MINE, {"title": "x", "owner_id": book.tam.pk})
    assert response.status_code == 403
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "x", "type": "bogus"},
        {"title": "x", "due_on": "tomorrow"},
        {"title": "x", "account_id": 0},
        {"title": "x", "account_id": 2**70},
        {"title": "x", "owner_id": 999999},
        {"title": "x", "colour": "red"},
        {"title": "x\x00"},
        {"title": "x", "account_id": "GLOBEX"},
    ],
)
def test_create_bad_input_is_422(book: Any, api_for: Any, body: dict[str, Any]) -> None:
    response = post(api_for(book.tam), MINE, body)
    assert response.status_code == 422, response.content
    assert "detail" in response.json()
    assert not Task.objects.exists()


def test_create_for_an_account_i_cannot_read_is_422(book: Any, api_for: Any) -> None:
    response = post(api_for(book.tam), MINE, {"title": "x", "account_id": book.other_account.pk})
    assert response.status_code == 422
    assert response.json()["errors"] == {"account": ["No such account."]}


def test_create_bad_json_is_4xx(book: Any, api_for: Any) -> None:
    response = api_for(book.tam).post(MINE, data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


# --- patch ----------------------------------------------------------------------------------------------------


def test_owner_patches_status_and_snoozes(book: Any, api_for: Any, tam_task: Task) -> None:
    c = api_for(book.tam)
    response = patch(c, detail(tam_task), {"status": "in_progress", "notes": "Called, no answer"})
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress" and response.json()["notes"] == "Called, no answer"
    until = (today() + dt.timedelta(4)).isoformat()
    data = patch(c, detail(tam_task), {"snoozed_until": until}).json()
    assert data["status"] == "snoozed" and data["effective_status"] == "snoozed" and data["snoozed_until"] == until
    data = patch(c, detail(tam_task), {"status": "done"}).json()
    assert data["status"] == "done" and data["snoozed_until"] is None and data["completed_at"]


def test_a_woken_task_reads_open(book: Any, api_for: Any, tam_task: Task) -> None:
    Task.objects.filter(pk=tam_task.pk).update(status=TaskStatus.SNOOZED, snoozed_until=today())
    data = api_for(book.tam).get(detail(tam_task)).json()
    assert data["status"] == "snoozed" and data["effective_status"] == "open"
    assert api_for(book.tam).get(MINE).json()["count"] == 1


def test_manager_reassigns(book: Any, api_for: Any, tam_task: Task) -> None:
    response = patch(api_for(book.manager), detail(tam_task), {"owner_id": book.tam2.pk})
    assert response.status_code == 200 and response.json()["owner"]["id"] == book.tam2.pk


def test_director_patch_is_403_and_changes_nothing(book: Any, api_for: Any, tam_task: Task) -> None:
    c = api_for(book.director)
    n = AuditEvent.objects.count()
    assert patch(c, detail(tam_task), {"status": "done"}).status_code == 403
    assert AuditEvent.objects.count() == n


@pytest.mark.parametrize("who", ["tam2", "other_manager", "sal"])
def test_outsider_patch_is_404(book: Any, api_for: Any, tam_task: Task, who: str) -> None:
    assert patch(api_for(getattr(book, who)), detail(tam_task), {"status": "done"}).status_code == 404


def test_owner_cannot_give_the_task_away(book: Any, api_for: Any, tam_task: Task) -> None:
    assert patch(api_for(book.tam), detail(tam_task), {"owner_id": book.tam2.pk}).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"status": None},
        {"status": "lost"},
        {"status": "snoozed"},
        {"snoozed_until": "2000-01-01"},
        {"status": "open", "snoozed_until": "2100-01-01"},
        {"title": ""},
        {"title": None},
        {"due_on": "31.12.2030"},
        {"owner_id": None},
        {"type": "assign_tam"},
    ],
)
def test_patch_bad_input_is_422(book: Any, api_for: Any, tam_task: Task, body: dict[str, Any]) -> None:
    c = api_for(book.tam)
    n = AuditEvent.objects.count()
    response = patch(c, detail(tam_task), body)
    assert response.status_code == 422, response.content
    assert AuditEvent.objects.count() == n


def test_reopening_against_the_constraint_is_422(book: Any, api_for: Any, rule_task: Task) -> None:
    from tamarind.actions.services import task_raise

    c = api_for(book.manager)
    assert patch(c, detail(rule_task), {"status": "done"}).status_code == 200
    assert task_raise(type="assign_tam", account=book.account, owner=book.manager, reason="qualified", why={})
    response = patch(c, detail(rule_task), {"status": "open"})
    assert response.status_code == 422 and "status" in response.json()["errors"]


def test_unknown_task_is_404(book: Any, api_for: Any) -> None:
    assert api_for(book.admin).get("/api/v1/tasks/999999").status_code == 404
    assert patch(api_for(book.admin), "/api/v1/tasks/999999", {"status": "done"}).status_code == 404
    assert api_for(book.admin).get(f"/api/v1/tasks/{2**70}").status_code in (404, 422)


def test_openapi_lists_the_task_routes(book: Any, api_for: Any) -> None:
    paths = api_for(book.tam).get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/tasks/", "/api/v1/tasks/team", "/api/v1/tasks/{task_id}"} <= set(paths)


def test_create_and_patch_query_counts_are_constant(book: Any, api_for: Any, tam_task: Task) -> None:
    c = api_for(book.manager)
    c.get(MINE)

    def measure(call: Any) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = call()
        assert response.status_code in (200, 201), response.content
        return len(ctx.captured_queries)

    create = {"title": "x", "owner_id": book.tam.pk, "account_id": book.account.pk}
    small_create = measure(lambda: post(c, MINE, create))
    small_patch = measure(lambda: patch(c, detail(tam_task), {"status": "in_progress", "notes": "a"}))
    grow_tasks(book.tam, book.account, 300)
    patch(c, detail(tam_task), {"status": "open"})
    assert measure(lambda: post(c, MINE, create)) == small_create
    assert measure(lambda: patch(c, detail(tam_task), {"status": "in_progress", "notes": "b"})) == small_patch
