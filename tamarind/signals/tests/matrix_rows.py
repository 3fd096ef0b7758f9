"""Permission-matrix rows for the Signals routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The back-test pages are for admins, directors, managers and TAMs (each over what they see; SAL/AE and SA: 403);
trust labels and the back-test settings are set by admins only (every other signed-in role: 403; the settings
are read by whoever reads the back-test). An account's signal history follows the
account's visibility (west's people: 404) for those who may see signals at all (SAL/AE, SA: 403).
"""

from __future__ import annotations

from tamarind.testing.matrix import ACCOUNT_READERS, Row, only

VIEW = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200, "tam": 200, "tam2": 200, "other_tam": 200}
ADMIN_ONLY = only({"admin": 302}, 403)
API_VIEW = {**only(VIEW, 403), "anonymous": 401}
ACCOUNT = {**only({**ACCOUNT_READERS, "sal": 403, "sa": 403}, 404), "anonymous": 401}

ROWS: list[Row] = [
    Row("signals:index", "get", lambda b, t: "/signals/", only(VIEW, 403)),
    Row("signals:detail", "get", lambda b, t: "/signals/no_call/", only(VIEW, 403)),
    Row(
        "signals:trust",
        "post",
        lambda b, t: "/signals/no_call/trust/",
        ADMIN_ONLY,
        data=lambda b, t: {"trusted": "0", "note": "Matrix"},
        json=False,
    ),
    Row("signals:settings", "get", lambda b, t: "/signals/settings/", only(VIEW, 403)),
    Row(
        "signals:settings",
        "post",
        lambda b, t: "/signals/settings/",
        ADMIN_ONLY,
        data=lambda b, t: {
            "min_outcomes": 10,
            "horizons": "90, 180, 365",
            "contraction_share": "0.1",
            "auc_months": 3,
            "trust_min_lift": "2",
            "trust_min_outcomes": 30,
        },
        json=False,
    ),
    Row("api:signal_backtest", "get", lambda b, t: "/api/v1/signals/backtest", API_VIEW, api=True),
    Row("api:signal_trust_list", "get", lambda b, t: "/api/v1/signals/trust", API_VIEW, api=True),
    Row(
        "api:signal_account_history",
        "get",
        lambda b, t: f"/api/v1/signals/accounts/{b.account.pk}/history",
        ACCOUNT,
        api=True,
    ),
    Row(
        "api:signal_trust_set",
        "post",
        lambda b, t: "/api/v1/signals/trust",
        {**only({"admin": 201}, 403), "anonymous": 401},
        data=lambda b, t: {"key": "no_call", "trusted": False, "note": "Matrix"},
        api=True,
    ),
]

# Suggested weights: read like the back-test; the draft is an admin's (the matrix book has no outcomes, so the
# admin's page POST is sent back to the page with the reason (302) and the API answers 422 with it).
ROWS += [
    Row("signals:weights", "get", lambda b, t: "/signals/weights/", only(VIEW, 403)),
    Row(
        "signals:weights_draft",
        "post",
        lambda b, t: "/signals/weights/draft/",
        ADMIN_ONLY,
        data=lambda b, t: {},
        json=False,
    ),
    Row("api:signal_weights", "get", lambda b, t: "/api/v1/signals/weights", API_VIEW, api=True),
    Row(
        "api:signal_weights_draft",
        "post",
        lambda b, t: "/api/v1/signals/weights/draft",
        {**only({"admin": 422}, 403), "anonymous": 401},
        data=lambda b, t: {},
        api=True,
    ),
]
