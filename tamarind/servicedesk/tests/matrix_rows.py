"""Permission-matrix rows for the Service Desk routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is a pool managed by ``book.manager`` with ``book.tam`` in it, a pooled account of region east and a
request of it. The queue is for TAMs, managers, directors and admins (each sees their pools' requests); a request
is read by its pool's TAMs and manager, directors and admins (others: 404) and worked by the pool's people and
admins (directors: 403). The request link needs no sign-in. The API routes follow the pages (anonymous: 401).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tamarind.testing.matrix import Row, only

DESK = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200, "tam": 200, "tam2": 200, "other_tam": 200}
NO_SIGN_IN = {
    role: 200
    for role in ("anonymous", "admin", "director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa")
}


def desk(book: Any, t: dict[str, Any]) -> dict[str, Any]:
    if "desk" not in t:
        import datetime as dt

        from django.utils import timezone

        from tamarind.servicedesk import services
        from tamarind.servicedesk.models import (
            InboundEmail,
            Pool,
            PoolMember,
            RequestLink,
            RequestMessage,
            ServiceRequest,
        )
        from tamarind.testing.factories import AccountFactory

        # Made directly (no audit events), so a denied write's "wrote nothing" check sees only its own effects.
        pool = Pool.objects.create(name="Matrix pool", manager=book.manager)
        PoolMember.objects.create(pool=pool, tam=book.tam)
        account = AccountFactory(region=book.east, arr=Decimal("30000"), engagement_model="pooled")
        now = timezone.now()
        req = ServiceRequest.objects.create(
            pool=pool,
            account=account,
            subject="Help",
            channel="api",
            assignee=book.tam,
            created_at=now,
            first_response_due_at=now + dt.timedelta(hours=48),
        )
        RequestMessage.objects.create(request=req, body="Body")
        raw = "matrix-token"
        RequestLink.objects.create(account=account, token_hash=services.token_hash(raw))
        inbound = InboundEmail.objects.create(
            from_email="eve@matrix.example", subject="Hello", body="Hi", raw="Hi", status="unmatched"
        )
        t["desk"] = {"pool": pool, "account": account, "request": req, "token": raw, "inbound": inbound}
    return dict(t["desk"])


# The pool editor: admins create pools; admins and the pool's manager change one (other desk users read it: 403 on
# a write); SAL/AE and SA have no Service Desk (403). The form's fields as an admin posts them, no criteria rows.
POOL_FORM = {
    "name": "Matrix pool",
    "engagement_model": "pooled",
    "first_response_hours": "24",
    "is_active": "on",
    "c-TOTAL_FORMS": "0",
    "c-INITIAL_FORMS": "0",
}
POOL_EDITORS = only({"admin": 200, "manager": 200}, 403, anonymous=401)


def spare_member(book: Any, t: dict[str, Any]) -> Any:
    """A TAM of the matrix pool holding no request (so taking them out is allowed)."""
    if "spare" not in t:
        from tamarind.people.models import Role
        from tamarind.servicedesk.models import PoolMember
        from tamarind.testing.factories import UserFactory

        tam = UserFactory(role=Role.TAM, region=book.east, full_name="Spare Tam")
        PoolMember.objects.create(pool=desk(book, t)["pool"], tam=tam)
        t["spare"] = tam
    return t["spare"]


# SAL/AE and SA have no Service Desk at all (403); other desk users do not see another pool's request (404).
READ_REQUEST = only({"admin": 200, "director": 200, "manager": 200, "tam": 200, "sal": 403, "sa": 403}, 404)
WORK_REQUEST = only({"admin": 302, "director": 403, "manager": 302, "tam": 302, "sal": 403, "sa": 403}, 404)

ROWS: list[Row] = [
    Row("servicedesk:queue", "get", lambda b, t: "/servicedesk/", only(DESK, 403)),
    Row("servicedesk:detail", "get", lambda b, t: f"/servicedesk/{desk(b, t)['request'].pk}/", READ_REQUEST),
    Row(
        "servicedesk:detail",
        "post",
        lambda b, t: f"/servicedesk/{desk(b, t)['request'].pk}/",
        WORK_REQUEST,
        data=lambda b, t: {"body": "Matrix answer"},
        json=False,
    ),
    Row(
        "servicedesk:account",
        "get",
        lambda b, t: f"/servicedesk/accounts/{desk(b, t)['account'].pk}/",
        only(
            {
                "admin": 200,
                "manager": 200,
                "tam": 200,
                "director": 403,
                "tam2": 403,
                "other_manager": 404,
                "other_tam": 404,
            },
            403,
        ),
    ),
    Row(
        "servicedesk:account",
        "post",
        lambda b, t: f"/servicedesk/accounts/{desk(b, t)['account'].pk}/",
        only(
            {
                "admin": 302,
                "manager": 302,
                "tam": 302,
                "director": 403,
                "tam2": 403,
                "other_manager": 404,
                "other_tam": 404,
            },
            403,
        ),
        data=lambda b, t: {"action": "new", "subject": "Matrix", "body": "x"},
        json=False,
    ),
    Row("servicedesk:pools", "get", lambda b, t: "/servicedesk/pools/", only(DESK, 403)),
    Row(
        "servicedesk:pools",
        "post",
        lambda b, t: "/servicedesk/pools/",
        only(
            {
                "admin": 302,
                "manager": 302,
                "tam": 302,
                "director": 403,
                "other_manager": 403,
                "tam2": 403,
                "other_tam": 403,
            },
            403,
        ),
        data=lambda b, t: {"pool": desk(b, t)["pool"].pk, "tam": b.tam.pk, "available": "on"},
        json=False,
    ),
    Row("servicedesk:pool_new", "get", lambda b, t: "/servicedesk/pools/new/", only({"admin": 200}, 403)),
    Row(
        "servicedesk:pool_new",
        "post",
        lambda b, t: "/servicedesk/pools/new/",
        only({"admin": 302}, 403),
        data=lambda b, t: {**POOL_FORM, "name": "Matrix digital pool", "engagement_model": "digital"},
        json=False,
    ),
    Row("servicedesk:pool", "get", lambda b, t: f"/servicedesk/pools/{desk(b, t)['pool'].pk}/", only(DESK, 403)),
    Row(
        "servicedesk:pool",
        "post",
        lambda b, t: f"/servicedesk/pools/{desk(b, t)['pool'].pk}/",
        only({"admin": 302, "manager": 302}, 403),
        data=lambda b, t: {**POOL_FORM, "manager_id": b.manager.pk},
        json=False,
    ),
    Row(
        "servicedesk:pool_members",
        "post",
        lambda b, t: f"/servicedesk/pools/{desk(b, t)['pool'].pk}/members/",
        only({"admin": 302, "manager": 302}, 403),
        data=lambda b, t: {"action": "add", "tam": b.tam2.pk},
        json=False,
    ),
    Row("servicedesk:unmatched", "get", lambda b, t: "/servicedesk/unmatched/", only({"admin": 200}, 403)),
    Row(
        "servicedesk:unmatched",
        "post",
        lambda b, t: "/servicedesk/unmatched/",
        only({"admin": 404}, 403),
        data=lambda b, t: {"inbound": "0", "account": "1"},
        json=False,
    ),
    Row("desk:link", "get", lambda b, t: f"/desk/{desk(b, t)['token']}/", NO_SIGN_IN),
    Row(
        "desk:link",
        "post",
        lambda b, t: f"/desk/{desk(b, t)['token']}/",
        {role: 303 for role in NO_SIGN_IN},
        data=lambda b, t: {"action": "new", "email": "ann@small.example", "subject": "Matrix", "body": "x"},
        json=False,
    ),
]

API = "/api/v1/servicedesk"
API_DESK = only(DESK, 403, anonymous=401)
API_READ_REQUEST = {**READ_REQUEST, "anonymous": 401}


def api_work_request(ok: int) -> dict[str, int]:
    return only({"admin": ok, "director": 403, "manager": ok, "tam": ok, "sal": 403, "sa": 403}, 404, anonymous=401)


def api_account_desk(ok: int) -> dict[str, int]:
    """An account's desk: its pool's people and admins; readers of the account 403; outsiders 404."""
    return only({"admin": ok, "manager": ok, "tam": ok, "other_manager": 404, "other_tam": 404}, 403, anonymous=401)


ROWS += [
    Row("api:servicedesk_pool_list", "get", lambda b, t: f"{API}/pools", API_DESK, api=True),
    Row("api:servicedesk_pool_detail", "get", lambda b, t: f"{API}/pools/{desk(b, t)['pool'].pk}", API_DESK, api=True),
    Row(
        "api:servicedesk_member_set",
        "put",
        lambda b, t: f"{API}/pools/{desk(b, t)['pool'].pk}/members/{b.tam.pk}",
        only({"admin": 200, "manager": 200, "tam": 200}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {"available": False, "away_until": None},
    ),
    Row(
        "api:servicedesk_pool_create",
        "post",
        lambda b, t: f"{API}/pools",
        only({"admin": 201}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {"name": "Matrix digital pool", "engagement_model": "digital"},
    ),
    Row(
        "api:servicedesk_pool_update",
        "patch",
        lambda b, t: f"{API}/pools/{desk(b, t)['pool'].pk}",
        POOL_EDITORS,
        api=True,
        data=lambda b, t: {"first_response_hours": 24},
    ),
    Row(
        "api:servicedesk_pool_member_add",
        "post",
        lambda b, t: f"{API}/pools/{desk(b, t)['pool'].pk}/members",
        only({"admin": 201, "manager": 201}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {"tam_id": b.tam2.pk},
    ),
    Row(
        "api:servicedesk_pool_member_remove",
        "delete",
        lambda b, t: f"{API}/pools/{desk(b, t)['pool'].pk}/members/{spare_member(b, t).pk}",
        only({"admin": 204, "manager": 204}, 403, anonymous=401),
        api=True,
    ),
    Row("api:servicedesk_request_list", "get", lambda b, t: f"{API}/requests", API_DESK, api=True),
    Row(
        "api:servicedesk_request_create",
        "post",
        lambda b, t: f"{API}/requests",
        only(
            {"admin": 201, "manager": 201, "tam": 201, "other_manager": 404, "other_tam": 404},
            403,
            anonymous=401,
        ),
        api=True,
        data=lambda b, t: {"account_id": desk(b, t)["account"].pk, "subject": "Matrix", "body": "x"},
    ),
    Row(
        "api:servicedesk_request_detail",
        "get",
        lambda b, t: f"{API}/requests/{desk(b, t)['request'].pk}",
        API_READ_REQUEST,
        api=True,
    ),
    Row(
        "api:servicedesk_request_update",
        "patch",
        lambda b, t: f"{API}/requests/{desk(b, t)['request'].pk}",
        api_work_request(200),
        api=True,
        data=lambda b, t: {"status": "in_progress"},
    ),
    Row(
        "api:servicedesk_request_reply",
        "post",
        lambda b, t: f"{API}/requests/{desk(b, t)['request'].pk}/reply",
        api_work_request(201),
        api=True,
        data=lambda b, t: {"body": "Matrix answer"},
    ),
    Row("api:servicedesk_metrics", "get", lambda b, t: f"{API}/metrics", API_DESK, api=True),
    Row("api:servicedesk_inbound_list", "get", lambda b, t: f"{API}/inbound", only({"admin": 200}, 403, 401), api=True),
    Row(
        "api:servicedesk_inbound_match",
        "post",
        lambda b, t: f"{API}/inbound/{desk(b, t)['inbound'].pk}/match",
        only({"admin": 201}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {"account_id": desk(b, t)["account"].pk},
    ),
    Row(
        "api:servicedesk_account_detail",
        "get",
        lambda b, t: f"{API}/accounts/{desk(b, t)['account'].pk}",
        api_account_desk(200),
        api=True,
    ),
    Row(
        "api:servicedesk_link_create",
        "post",
        lambda b, t: f"{API}/accounts/{desk(b, t)['account'].pk}/link",
        api_account_desk(201),
        api=True,
    ),
    Row(
        "api:servicedesk_link_revoke",
        "delete",
        lambda b, t: f"{API}/accounts/{desk(b, t)['account'].pk}/link",
        api_account_desk(200),
        api=True,
    ),
]
