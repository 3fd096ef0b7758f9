"""Permission-matrix rows for the dashboards (collected by ``tamarind/tests/test_permission_matrix.py``).

The Customer Onboarding Dashboard is for admins, directors, TAM Managers and TAMs (each sees their own scope);
SAL/AE and SA get 403. The Customer Health Dashboard (each of its tabs) has the same viewers. Assigning from it follows setting the TAM of the account (``book.account``: east's manager
and admins; its other readers 403; west's people 404).
"""

from __future__ import annotations

from tamarind.testing.matrix import Row, only

VIEWERS = {
    "admin": 200,
    "director": 200,
    "manager": 200,
    "other_manager": 200,
    "tam": 200,
    "tam2": 200,
    "other_tam": 200,
}

ROWS: list[Row] = [
    Row("dashboards:onboarding", "get", lambda b, t: "/dashboards/onboarding/", only(VIEWERS, 403)),
    Row(
        "dashboards:onboarding_assign",
        "post",
        lambda b, t: f"/dashboards/onboarding/assign/{b.account.pk}/",
        only({"admin": 302, "manager": 302, "other_manager": 404, "other_tam": 404}, 403),
        data=lambda b, t: {"tam": b.tam2.pk},
        json=False,
    ),
    Row("dashboards:health", "get", lambda b, t: "/dashboards/health/", only(VIEWERS, 403)),
    Row("dashboards:health_lists", "get", lambda b, t: "/dashboards/health/red-yellow/", only(VIEWERS, 403)),
    Row("dashboards:health_stale", "get", lambda b, t: "/dashboards/health/stale/", only(VIEWERS, 403)),
    Row("dashboards:health_measures", "get", lambda b, t: "/dashboards/health/measures/", only(VIEWERS, 403)),
    Row("dashboards:health_indicators", "get", lambda b, t: "/dashboards/health/indicators/", only(VIEWERS, 403)),
    # --- API -------------------------------------------------------------------------------------------------
    Row(
        "api:onboarding_dashboard",
        "get",
        lambda b, t: "/api/v1/dashboards/onboarding",
        only(VIEWERS, 403, anonymous=401),
        api=True,
    ),
    Row(
        "api:health_dashboard",
        "get",
        lambda b, t: "/api/v1/dashboards/health",
        only(VIEWERS, 403, anonymous=401),
        api=True,
    ),
]
