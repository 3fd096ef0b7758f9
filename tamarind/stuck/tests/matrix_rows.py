"""Permission-matrix rows for the stuck-customer routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target: a pool managed by ``book.manager`` with ``book.tam`` in it, a pooled account of region east and an open
stuck case of it. The queue is for TAMs, managers, directors and admins (SAL/AE, SA: 403); a case is read by its
pool's TAMs and manager, the region's manager, directors and admins (other TAMs and managers: 404) and worked by
all of them but directors (403). The API answers the same, with 401 for no credentials.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tamarind.testing.matrix import Row, only

QUEUE = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200, "tam": 200, "tam2": 200, "other_tam": 200}
READ = only({"admin": 200, "director": 200, "manager": 200, "tam": 200, "sal": 403, "sa": 403}, 404)


def work(ok: int) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "tam": ok, "director": 403, "sal": 403, "sa": 403}, 404)


def stuck(book: Any, t: dict[str, Any]) -> dict[str, Any]:
    if "stuck" not in t:
        from tamarind.servicedesk.models import Pool, PoolMember
        from tamarind.stuck.models import StuckCase
        from tamarind.testing.factories import AccountFactory

        # Made directly (no audit events), so a denied write's "wrote nothing" check sees only its own effects.
        pool = Pool.objects.create(name="Stuck matrix pool", manager=book.manager)
        PoolMember.objects.create(pool=pool, tam=book.tam)
        account = AccountFactory(region=book.east, arr=Decimal("20000"), engagement_model="pooled", tam=None)
        reasons = [{"rule": "no-activity", "name": "No activity in 30 days", "kind": "no_activity", "why": "40 days"}]
        case = StuckCase.objects.create(account=account, pool=pool, reasons=reasons)
        t["stuck"] = {"pool": pool, "account": account, "case": case}
    return dict(t["stuck"])


def _case(b: Any, t: dict[str, Any]) -> int:
    return int(stuck(b, t)["case"].pk)


API_QUEUE = {**QUEUE, "anonymous": 401, "sal": 403, "sa": 403}


def _rule(b: Any, t: dict[str, Any]) -> int:
    from tamarind.stuck.models import StuckRule

    return int(StuckRule.objects.get(key="no-activity").pk)


# Rules: read by everyone who sees the queue, changed by admins only (everyone else 403, as for any setting).
EDIT_RULE = only({"admin": 302}, 403)


def api(cells: dict[str, int]) -> dict[str, int]:
    return {**cells, "anonymous": 401}


ROWS: list[Row] = [
    Row("stuck:queue", "get", lambda b, t: "/stuck/", only(QUEUE, 403)),
    Row("stuck:case", "get", lambda b, t: f"/stuck/{_case(b, t)}/", READ),
    Row(
        "stuck:case",
        "post",
        lambda b, t: f"/stuck/{_case(b, t)}/",
        work(302),
        data=lambda b, t: {"action": "outreach", "kind": "email", "notes": "Matrix outreach"},
        json=False,
    ),
    Row("stuck:rules", "get", lambda b, t: "/stuck/rules/", only(QUEUE, 403)),
    Row(
        "stuck:rule_edit",
        "post",
        lambda b, t: f"/stuck/rules/{_rule(b, t)}/",
        EDIT_RULE,
        data=lambda b, t: {"days": "21", "enabled": "on"},
        json=False,
    ),
    Row(
        "api:stuck_rule_update",
        "patch",
        lambda b, t: f"/api/v1/stuck/rules/{_rule(b, t)}",
        only({"admin": 200}, 403, anonymous=401),
        data=lambda b, t: {"params": {"days": 21}},
        api=True,
    ),
    Row("stuck:claim", "post", lambda b, t: f"/stuck/{_case(b, t)}/claim/", work(302), json=False),
    Row("api:stuck_case_list", "get", lambda b, t: "/api/v1/stuck/cases", API_QUEUE, api=True),
    Row("api:stuck_rule_list", "get", lambda b, t: "/api/v1/stuck/rules", API_QUEUE, api=True),
    Row("api:stuck_case_detail", "get", lambda b, t: f"/api/v1/stuck/cases/{_case(b, t)}", api(READ), api=True),
    Row(
        "api:stuck_case_claim",
        "post",
        lambda b, t: f"/api/v1/stuck/cases/{_case(b, t)}/claim",
        api(work(200)),
        api=True,
    ),
    Row(
        "api:stuck_case_outreach",
        "post",
        lambda b, t: f"/api/v1/stuck/cases/{_case(b, t)}/outreach",
        api(work(201)),
        data=lambda b, t: {"kind": "call", "notes": "Matrix call"},
        api=True,
    ),
    Row(
        "api:stuck_case_resolve",
        "post",
        lambda b, t: f"/api/v1/stuck/cases/{_case(b, t)}/resolve",
        api(work(200)),
        data=lambda b, t: {"outcome": "unstuck", "notes": "Matrix"},
        api=True,
    ),
]
