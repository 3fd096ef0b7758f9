"""Permission-matrix rows for the onboarding routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is an open onboarding of ``book.account`` (region east, TAM ``book.tam``), created by the row.
Its readers are the account's readers; its writers the TAM, the region's manager and admins.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, LOGIN, Row, everyone, only


def onboarding(book: Any, t: dict[str, Any]) -> int:
    if "onboarding" not in t:
        from tamarind.onboarding.tests.factories import OnboardingFactory

        t["onboarding"] = OnboardingFactory(account=book.account, tam=book.tam)
    return t["onboarding"].pk


def writers(ok: int, anonymous: int = LOGIN) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "tam": ok, **ACCOUNT_OUTSIDERS}, 403, anonymous=anonymous)


READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404)
API_READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401)

ROWS: list[Row] = [
    Row("onboarding:list", "get", lambda b, t: "/onboarding/", everyone(200)),
    Row("onboarding:detail", "get", lambda b, t: f"/onboarding/{onboarding(b, t)}/", READERS),
    Row(
        "onboarding:detail",
        "post",
        lambda b, t: f"/onboarding/{onboarding(b, t)}/",
        writers(302),
        data=lambda b, t: {"status": "in_progress", "onboarding_start": "2025-01-20", "notes": "Matrix"},
        json=False,
    ),
    Row(
        "onboarding:step",
        "post",
        lambda b, t: f"/onboarding/{onboarding(b, t)}/steps/welcome_email/",
        writers(200),
        data=lambda b, t: {"done": "on"},
        json=False,
        headers={"HX-Request": "true"},
    ),
    Row(
        "onboarding:targets",
        "post",
        lambda b, t: "/onboarding/targets/",
        only({"admin": 302}, 403),
        data=lambda b, t: {"engage_days": 10, "first_value_days": 30, "onboard_days": 45},
        json=False,
    ),
    # --- API ------------------------------------------------------------------------------------------------------
    Row("api:onboarding_list", "get", lambda b, t: "/api/v1/onboarding/", everyone(200, anonymous=401), api=True),
    Row("api:onboarding_detail", "get", lambda b, t: f"/api/v1/onboarding/{onboarding(b, t)}", API_READERS, api=True),
    Row(
        "api:onboarding_update",
        "patch",
        lambda b, t: f"/api/v1/onboarding/{onboarding(b, t)}",
        writers(200, anonymous=401),
        data=lambda b, t: {"status": "scheduled"},
        api=True,
    ),
    Row(
        "api:onboarding_targets_detail",
        "get",
        lambda b, t: "/api/v1/onboarding/targets",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:onboarding_targets_update",
        "patch",
        lambda b, t: "/api/v1/onboarding/targets",
        only({"admin": 200}, 403, anonymous=401),
        data=lambda b, t: {"engage_days": 10},
        api=True,
    ),
]
