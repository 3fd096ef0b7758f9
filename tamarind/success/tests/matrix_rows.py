"""Permission-matrix rows for the success routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is an active plan of ``book.account`` (region east, TAM ``book.tam``) with one objective and one task,
created by the row. Its readers are the account's readers; its writers the TAM, the region's manager and admins;
manager reviews are the manager's and admins'; a requested peer review is answered by its reviewer (``tam2``).
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, LOGIN, Row, everyone, only

ANSWERS = {f"q{i}": "yes" for i in range(1, 7)} | {"verdict": "strong", "coaching": "Good"}


def plan(book: Any, t: dict[str, Any]) -> int:
    if "plan" not in t:
        from tamarind.success.tests.factories import ObjectiveFactory, PlanTaskFactory, SuccessPlanFactory

        t["plan"] = SuccessPlanFactory(account=book.account)
        t["objective"] = ObjectiveFactory(plan=t["plan"])
        t["task"] = PlanTaskFactory(objective=t["objective"])
    return t["plan"].pk


def objective(book: Any, t: dict[str, Any]) -> int:
    plan(book, t)
    return t["objective"].pk


def task(book: Any, t: dict[str, Any]) -> int:
    plan(book, t)
    return t["task"].pk


def peer_review(book: Any, t: dict[str, Any]) -> int:
    from tamarind.success.models import PlanReview

    review = PlanReview.objects.create(
        plan_id=plan(book, t), kind="peer", status="requested", reviewer=book.tam2, requested_by=book.tam
    )
    return review.pk


def ebr(book: Any, t: dict[str, Any]) -> int:
    from tamarind.success.tests.factories import EbrFactory

    return EbrFactory(account=book.account).pk


def writers(ok: int, anonymous: int = LOGIN) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "tam": ok, **ACCOUNT_OUTSIDERS}, 403, anonymous=anonymous)


def managers(ok: int, anonymous: int = LOGIN) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, **ACCOUNT_OUTSIDERS}, 403, anonymous=anonymous)


READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404)
API_READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401)

ROWS: list[Row] = [
    Row("success:list", "get", lambda b, t: f"/success/?p={plan(b, t)}", everyone(200)),
    Row("success:settings", "get", lambda b, t: "/success/settings/", everyone(200)),
    Row(
        "success:settings",
        "post",
        lambda b, t: "/success/settings/",
        only({"admin": 302}, 403),
        data=lambda b, t: {"activity_days": 45, "note": "Matrix"},
        json=False,
    ),
    Row("success:picks", "get", lambda b, t: f"/success/picks/?p={plan(b, t)}", everyone(200)),
    Row("success:export", "get", lambda b, t: f"/success/export.csv?p={plan(b, t)}", everyone(200)),
    Row("success:plan_new", "get", lambda b, t: f"/success/accounts/{b.account.pk}/new/", writers(200)),
    Row(
        "success:plan_new",
        "post",
        lambda b, t: f"/success/accounts/{b.account.pk}/new/",
        writers(302),
        data=lambda b, t: {"status": "draft", "strategy": "Grow"},
        json=False,
    ),
    Row("success:plan", "get", lambda b, t: f"/success/plans/{plan(b, t)}/", READERS),
    Row(
        "success:plan",
        "post",
        lambda b, t: f"/success/plans/{plan(b, t)}/",
        writers(302),
        data=lambda b, t: {"strategy": "Grow further"},
        json=False,
    ),
    Row("success:print", "get", lambda b, t: f"/success/plans/{plan(b, t)}/print/", READERS),
    Row("success:archive", "post", lambda b, t: f"/success/plans/{plan(b, t)}/archive/", writers(302), json=False),
    Row(
        "success:objective_add",
        "post",
        lambda b, t: f"/success/plans/{plan(b, t)}/objectives/",
        writers(302),
        data=lambda b, t: {"name": "Expand to EMEA"},
        json=False,
    ),
    Row(
        "success:objective",
        "post",
        lambda b, t: f"/success/objectives/{objective(b, t)}/",
        writers(302),
        data=lambda b, t: {"name": "Renamed"},
        json=False,
    ),
    Row(
        "success:task_add",
        "post",
        lambda b, t: f"/success/objectives/{objective(b, t)}/tasks/",
        writers(302),
        data=lambda b, t: {"name": "Workshop"},
        json=False,
    ),
    Row(
        "success:task",
        "post",
        lambda b, t: f"/success/tasks/{task(b, t)}/",
        writers(302),
        data=lambda b, t: {"progress": 70},
        json=False,
    ),
    Row("success:review_new", "get", lambda b, t: f"/success/plans/{plan(b, t)}/review/", managers(200)),
    Row(
        "success:review_new",
        "post",
        lambda b, t: f"/success/plans/{plan(b, t)}/review/",
        managers(302),
        data=lambda b, t: ANSWERS,
        json=False,
    ),
    Row(
        "success:peer_request",
        "post",
        lambda b, t: f"/success/plans/{plan(b, t)}/peer/",
        writers(302),
        data=lambda b, t: {"reviewer": b.tam2.pk},
        json=False,
    ),
    Row("success:review", "get", lambda b, t: f"/success/reviews/{peer_review(b, t)}/", READERS),
    Row(
        "success:review",
        "post",
        lambda b, t: f"/success/reviews/{peer_review(b, t)}/",
        only({"tam2": 302, **ACCOUNT_OUTSIDERS}, 403),
        data=lambda b, t: ANSWERS,
        json=False,
    ),
    Row("success:ebr_new", "get", lambda b, t: f"/success/accounts/{b.account.pk}/ebrs/new/", writers(200)),
    Row(
        "success:ebr_new",
        "post",
        lambda b, t: f"/success/accounts/{b.account.pk}/ebrs/new/",
        writers(302),
        data=lambda b, t: {"status": "scheduled", "held_on": "2027-03-01"},
        json=False,
    ),
    Row("success:ebr", "get", lambda b, t: f"/success/ebrs/{ebr(b, t)}/", READERS),
    Row(
        "success:ebr",
        "post",
        lambda b, t: f"/success/ebrs/{ebr(b, t)}/",
        writers(302),
        data=lambda b, t: {"outcome": "Roadmap agreed"},
        json=False,
    ),
    # --- API ----------------------------------------------------------------------------------------------------
    Row(
        "api:success_plan_list",
        "get",
        lambda b, t: f"/api/v1/success/plans?account={plan(b, t)}",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:success_plan_create",
        "post",
        lambda b, t: "/api/v1/success/plans",
        writers(201, anonymous=401),
        data=lambda b, t: {"account_id": b.account.pk, "status": "draft"},
        api=True,
    ),
    Row("api:success_plan_detail", "get", lambda b, t: f"/api/v1/success/plans/{plan(b, t)}", API_READERS, api=True),
    Row(
        "api:success_plan_update",
        "patch",
        lambda b, t: f"/api/v1/success/plans/{plan(b, t)}",
        writers(200, anonymous=401),
        data=lambda b, t: {"highlights": "New highlight"},
        api=True,
    ),
    Row(
        "api:success_objective_create",
        "post",
        lambda b, t: f"/api/v1/success/plans/{plan(b, t)}/objectives",
        writers(201, anonymous=401),
        data=lambda b, t: {"name": "Expand"},
        api=True,
    ),
    Row(
        "api:success_objective_update",
        "patch",
        lambda b, t: f"/api/v1/success/objectives/{objective(b, t)}",
        writers(200, anonymous=401),
        data=lambda b, t: {"priority": "high"},
        api=True,
    ),
    Row(
        "api:success_task_create",
        "post",
        lambda b, t: f"/api/v1/success/objectives/{objective(b, t)}/tasks",
        writers(201, anonymous=401),
        data=lambda b, t: {"name": "Workshop", "progress": 10},
        api=True,
    ),
    Row(
        "api:success_task_update",
        "patch",
        lambda b, t: f"/api/v1/success/tasks/{task(b, t)}",
        writers(200, anonymous=401),
        data=lambda b, t: {"progress": 60},
        api=True,
    ),
    Row(
        "api:success_review_list",
        "get",
        lambda b, t: f"/api/v1/success/plans/{plan(b, t)}/reviews",
        API_READERS,
        api=True,
    ),
    Row(
        "api:success_review_create",
        "post",
        lambda b, t: f"/api/v1/success/plans/{plan(b, t)}/reviews",
        managers(201, anonymous=401),
        data=lambda b, t: ANSWERS,
        api=True,
    ),
    Row(
        "api:success_peer_review_request",
        "post",
        lambda b, t: f"/api/v1/success/plans/{plan(b, t)}/peer-reviews",
        writers(201, anonymous=401),
        data=lambda b, t: {"reviewer_id": b.tam2.pk},
        api=True,
    ),
    Row(
        "api:success_peer_review_answer",
        "post",
        lambda b, t: f"/api/v1/success/reviews/{peer_review(b, t)}/answer",
        only({"tam2": 200, **ACCOUNT_OUTSIDERS}, 403, anonymous=401),
        data=lambda b, t: ANSWERS,
        api=True,
    ),
    Row(
        "api:success_ebr_list",
        "get",
        lambda b, t: f"/api/v1/success/ebrs?account={ebr(b, t)}",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:success_ebr_create",
        "post",
        lambda b, t: "/api/v1/success/ebrs",
        writers(201, anonymous=401),
        data=lambda b, t: {"account_id": b.account.pk, "status": "scheduled", "held_on": "2027-03-01"},
        api=True,
    ),
    Row(
        "api:success_ebr_update",
        "patch",
        lambda b, t: f"/api/v1/success/ebrs/{ebr(b, t)}",
        writers(200, anonymous=401),
        data=lambda b, t: {"outcome": "Roadmap agreed"},
        api=True,
    ),
    Row("api:success_coverage", "get", lambda b, t: "/api/v1/success/coverage", everyone(200, anonymous=401), api=True),
]
