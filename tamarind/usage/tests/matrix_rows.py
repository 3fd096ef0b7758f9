"""Permission-matrix rows for the usage routes (collected by ``tamarind/tests/test_permission_matrix.py``).

Pushes and metric definitions are admins' (everyone else signed in: 403, whatever the accounts named); an account's
usage is read by the account's readers (``book.account``: outsiders 404).
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, Row, everyone, only

API_READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401)
ADMIN_ONLY_200 = only({"admin": 200}, 403, anonymous=401)


def _usage(b: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"account": b.account.crm_id, "day": "2026-03-01", "metric": "active_users", "value": 12}]


def _tickets(b: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"account": b.account.crm_id, "external_id": "Z-1", "opened_at": "2026-03-01T10:00:00Z"}]


ROWS: list[Row] = [
    Row("usage:metrics", "get", lambda b, t: "/usage/metrics/", everyone(200)),
    Row(
        "usage:metrics",
        "post",
        lambda b, t: "/usage/metrics/",
        only({"admin": 302}, 403),
        data=lambda b, t: {"key": "pages_users", "label": "Pages users"},
        json=False,
    ),
    Row(
        "usage:account",
        "get",
        lambda b, t: f"/usage/accounts/{b.account.pk}/",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404),
    ),
    Row("api:usage_push_daily", "post", lambda b, t: "/api/v1/usage/daily", ADMIN_ONLY_200, data=_usage, api=True),
    Row(
        "api:usage_push_tickets", "post", lambda b, t: "/api/v1/usage/tickets", ADMIN_ONLY_200, data=_tickets, api=True
    ),
    Row("api:usage_metric_list", "get", lambda b, t: "/api/v1/usage/metrics", everyone(200, anonymous=401), api=True),
    Row(
        "api:usage_metric_create",
        "post",
        lambda b, t: "/api/v1/usage/metrics",
        only({"admin": 201}, 403, anonymous=401),
        data=lambda b, t: {"key": "pages_users", "label": "Pages users"},
        api=True,
    ),
    Row(
        "api:usage_account_detail",
        "get",
        lambda b, t: f"/api/v1/usage/accounts/{b.account.pk}",
        API_READERS,
        api=True,
    ),
    Row(
        "api:usage_account_tickets",
        "get",
        lambda b, t: f"/api/v1/usage/accounts/{b.account.pk}/tickets",
        API_READERS,
        api=True,
    ),
]
