"""The success API: a plan's life through it, bad input as 422 on its field with nothing written, the permission
trio, and query counts that do not grow with the data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.success.models import PlanReview
from tamarind.success.tests.factories import EbrFactory, ObjectiveFactory, PlanTaskFactory, SuccessPlanFactory
from tamarind.testing.factories import AccountFactory

J = "application/json"
ANSWERS = {f"q{i}": "yes" for i in range(1, 7)} | {"verdict": "strong"}


def test_plan_life_through_the_api(book, api_for) -> None:  # type: ignore[no-untyped-def]
    c = api_for(book.tam)
    r = c.post(
        "/api/v1/success/plans",
        {"account_id": book.account.pk, "status": "active", "strategy": "S", "highlights": "H"},
        content_type=J,
    )
    assert r.status_code == 201, r.content
    plan = r.json()
    assert plan["color"] == "red" and "no objectives" in plan["color_reasons"]
    r = c.post(f"/api/v1/success/plans/{plan['id']}/objectives", {"name": "Adopt"}, content_type=J)
    assert r.status_code == 201
    objective = r.json()
    r = c.post(f"/api/v1/success/objectives/{objective['id']}/tasks", {"name": "Pilot", "progress": 20}, content_type=J)
    assert r.status_code == 201
    detail = c.get(f"/api/v1/success/plans/{plan['id']}").json()
    assert detail["color"] == "green" and detail["objectives"][0]["tasks"][0]["progress"] == 20
    # Bad input: 422 naming the field, nothing written.
    before = AuditEvent.objects.count()
    r = c.patch(f"/api/v1/success/objectives/{objective['id']}", {"status": "closed"}, content_type=J)
    assert r.status_code == 422 and "outcome" in r.json()["errors"]
    r = c.post("/api/v1/success/plans", {"account_id": book.account.pk}, content_type=J)
    assert r.status_code == 422 and "status" in r.json()["errors"]
    r = c.post(f"/api/v1/success/plans/{plan['id']}/objectives", {"name": "X", "due_on": "1999-01-01"}, content_type=J)
    assert r.status_code == 422 and "due_on" in r.json()["errors"]
    r = c.post(f"/api/v1/success/plans/{plan['id']}/peer-reviews", {"reviewer_id": book.other_tam.pk}, content_type=J)
    assert r.status_code == 422 and "reviewer" in r.json()["errors"]
    r = c.post(f"/api/v1/success/objectives/{objective['id']}/tasks", {"name": "T", "progress": 101}, content_type=J)
    assert r.status_code == 422
    r = c.post("/api/v1/success/plans", {"account_id": book.account.pk, "colour": "x"}, content_type=J)
    assert r.status_code == 422
    assert AuditEvent.objects.count() == before


def test_trio(book, api_for) -> None:  # type: ignore[no-untyped-def]
    plan = SuccessPlanFactory(account=book.account)
    assert api_for(book.sal).get(f"/api/v1/success/plans/{plan.pk}").status_code == 200
    assert (
        api_for(book.sal).patch(f"/api/v1/success/plans/{plan.pk}", {"strategy": "x"}, content_type=J).status_code
        == 403
    )
    assert api_for(book.other_tam).get(f"/api/v1/success/plans/{plan.pk}").status_code == 404
    assert (
        api_for(book.tam).post(f"/api/v1/success/plans/{plan.pk}/reviews", ANSWERS, content_type=J).status_code == 403
    )


def _grow(book, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        account = AccountFactory(region=book.east, tam=book.tam)
        plan = SuccessPlanFactory(account=account)
        for _ in range(2):
            PlanTaskFactory(objective=ObjectiveFactory(plan=plan))
        EbrFactory(account=account)
        PlanReview.objects.create(
            plan=plan,
            kind="manager",
            reviewer=book.manager,
            completed_at=timezone.now(),
            verdict="strong",
            **{f"q{i}": "yes" for i in range(1, 7)},
        )


@pytest.mark.parametrize("route", ["plans", "plan", "reviews", "ebrs", "coverage"])
def test_query_counts_do_not_grow(book, api_for, django_assert_num_queries, route) -> None:  # type: ignore[no-untyped-def]
    plan = SuccessPlanFactory(account=book.account)
    PlanTaskFactory(objective=ObjectiveFactory(plan=plan))
    EbrFactory(account=book.account)
    client = api_for(book.manager)
    path = {
        "plans": "/api/v1/success/plans",
        "plan": f"/api/v1/success/plans/{plan.pk}",
        "reviews": f"/api/v1/success/plans/{plan.pk}/reviews",
        "ebrs": "/api/v1/success/ebrs",
        "coverage": "/api/v1/success/coverage",
    }[route]
    client.get(path)
    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    _grow(book, 3)
    for _ in range(3):
        PlanTaskFactory(objective=ObjectiveFactory(plan=plan))
        PlanReview.objects.create(
            plan=plan,
            kind="manager",
            reviewer=book.manager,
            completed_at=timezone.now(),
            verdict="weak",
            **{f"q{i}": "no" for i in range(1, 7)},
        )
    with django_assert_num_queries(len(small)):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("route", ["plan", "objective_add", "objective", "task_add", "task", "ebr"])
def test_write_query_counts_do_not_grow(book, api_for, route) -> None:  # type: ignore[no-untyped-def]
    """Each write answers with the same number of queries whatever the plan and the book hold."""
    plan = SuccessPlanFactory(account=book.account, status="active")
    objective = ObjectiveFactory(plan=plan)
    task = PlanTaskFactory(objective=objective)
    ebr = EbrFactory(account=book.account, status="scheduled")
    client = api_for(book.manager)
    counter = iter(range(1000))

    def hit() -> int:
        n = next(counter)
        method, path, body = {
            "plan": ("patch", f"/api/v1/success/plans/{plan.pk}", {"highlights": f"H{n}"}),
            "objective_add": ("post", f"/api/v1/success/plans/{plan.pk}/objectives", {"name": f"O{n}"}),
            "objective": ("patch", f"/api/v1/success/objectives/{objective.pk}", {"name": f"O{n}"}),
            "task_add": ("post", f"/api/v1/success/objectives/{objective.pk}/tasks", {"name": f"T{n}"}),
            "task": ("patch", f"/api/v1/success/tasks/{task.pk}", {"progress": n % 100}),
            "ebr": ("patch", f"/api/v1/success/ebrs/{ebr.pk}", {"outcome": f"Outcome {n}"}),
        }[route]
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(path, body, content_type="application/json")
        assert response.status_code in (200, 201), response.content[:300]
        return len(queries)

    hit()
    small = hit()
    _grow(book, 3)
    for _ in range(3):
        PlanTaskFactory(objective=ObjectiveFactory(plan=plan))
        PlanTaskFactory(objective=objective)
    # Not more (a first write may recolor the plan and raise or close its task once; later ones do not).
    assert hit() <= small
