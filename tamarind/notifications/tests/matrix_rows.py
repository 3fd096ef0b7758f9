"""Permission-matrix rows of the notifications routes (collected by ``tamarind/tests/test_permission_matrix.py``).

A notification belongs to ``book.tam``: only they read or mark it; everyone else, admins included, gets 404.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import Row, everyone, only


def mine(book: Any, t: dict[str, Any]) -> int:
    """A notification of book.tam, created once per test and kept in ``t``."""
    if "notification" not in t:
        from tamarind.notifications.services import notify

        (t["notification"],) = notify(recipients=[book.tam], kind="general", title="Matrix notification", url="/")
    return int(t["notification"].pk)


ROWS: list[Row] = [
    # --- web -----------------------------------------------------------------------------------------------------
    Row("notifications:list", "get", lambda b, t: "/notifications/", everyone(200)),
    Row("notifications:bell", "get", lambda b, t: "/notifications/bell/", everyone(200)),
    Row("notifications:settings", "get", lambda b, t: "/notifications/settings/", everyone(200)),
    Row("notifications:mark_all_read", "post", lambda b, t: "/notifications/read-all/", everyone(302), json=False),
    Row(
        "notifications:mark_read",
        "post",
        lambda b, t: f"/notifications/{mine(b, t)}/read/",
        only({"tam": 302}, 404),
        json=False,
    ),
    Row(
        "notifications:open",
        "post",
        lambda b, t: f"/notifications/{mine(b, t)}/open/",
        only({"tam": 302}, 404),
        json=False,
    ),
    # --- API -----------------------------------------------------------------------------------------------------
    Row("api:notification_list", "get", lambda b, t: "/api/v1/notifications/", everyone(200, anonymous=401), api=True),
    Row(
        "api:notification_read_all",
        "post",
        lambda b, t: "/api/v1/notifications/read-all",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:notification_settings",
        "get",
        lambda b, t: "/api/v1/notifications/settings",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:notification_settings_update",
        "put",
        lambda b, t: "/api/v1/notifications/settings",
        everyone(200, anonymous=401),
        data=lambda b, t: {"email_notifications": "digest"},
        api=True,
    ),
    Row(
        "api:notification_detail",
        "get",
        lambda b, t: f"/api/v1/notifications/{mine(b, t)}",
        only({"tam": 200}, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api:notification_read",
        "post",
        lambda b, t: f"/api/v1/notifications/{mine(b, t)}/read",
        only({"tam": 200}, 404, anonymous=401),
        api=True,
    ),
]
