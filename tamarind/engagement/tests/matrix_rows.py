"""Permission-matrix rows for the engagement routes (collected by ``tamarind/tests/test_permission_matrix.py``).

Models are read by everyone signed in and edited by admins; capacity, the what-if planner, iterations and the
comparison are for managers, directors and admins (admins write); an account's placement follows the account
(its readers read it; admins, its manager and its TAM move it; outsiders get 404).
"""

from __future__ import annotations

import json

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, Row, everyone, only

LEADERS = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200}
NEW_MODEL = {
    "name": "Matrix model",
    "precedence": "7",
    "criteria": json.dumps({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "9000000"}]}),
}

ROWS: list[Row] = [
    Row("engagement:models", "get", lambda b, t: "/engagement/", everyone(200)),
    Row("engagement:model_new", "get", lambda b, t: "/engagement/models/new/", only({"admin": 200}, 403)),
    Row(
        "engagement:model_new",
        "post",
        lambda b, t: "/engagement/models/new/",
        only({"admin": 302}, 403),
        data=lambda b, t: NEW_MODEL,
        json=False,
    ),
    Row("engagement:model_edit", "get", lambda b, t: "/engagement/models/named/", only({"admin": 200}, 403)),
    Row(
        "engagement:model_edit",
        "post",
        lambda b, t: "/engagement/models/named/",
        only({"admin": 302}, 403),
        data=lambda b, t: {
            "name": "Named",
            "precedence": "20",
            "criteria": json.dumps({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "150000"}]}),
        },
        json=False,
    ),
    Row(
        "engagement:account",
        "get",
        lambda b, t: f"/engagement/accounts/{b.account.pk}/",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404),
    ),
    Row(
        "engagement:account",
        "post",
        lambda b, t: f"/engagement/accounts/{b.account.pk}/",
        only({"admin": 302, "manager": 302, "tam": 302, **ACCOUNT_OUTSIDERS}, 403),
        data=lambda b, t: {"model": "named", "reason": "Matrix"},
        json=False,
    ),
    Row("engagement:capacity", "get", lambda b, t: "/engagement/capacity/", only(LEADERS, 403)),
    Row(
        "engagement:capacity",
        "post",
        lambda b, t: "/engagement/capacity/",
        only({"admin": 302}, 403),
        data=lambda b, t: {"target_arr_per_tam": "3600000", "target_p1_share": "0.333"},
        json=False,
    ),
    Row("engagement:whatif", "get", lambda b, t: "/engagement/whatif/", only(LEADERS, 403)),
    Row("engagement:iterations", "get", lambda b, t: "/engagement/iterations/", only(LEADERS, 403)),
    Row(
        "engagement:iterations",
        "post",
        lambda b, t: "/engagement/iterations/",
        only({"admin": 302}, 403),
        data=lambda b, t: {"name": "Matrix", "starts_on": "2026-01-01", "ends_on": "2026-03-31"},
        json=False,
    ),
    Row("engagement:compare", "get", lambda b, t: "/engagement/compare/", only(LEADERS, 403)),
]

API_READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401)
API_LEADERS = only(LEADERS, 403, anonymous=401)
ROWS += [
    Row(
        "api:engagement_model_list",
        "get",
        lambda b, t: "/api/v1/engagement/models",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:engagement_model_create",
        "post",
        lambda b, t: "/api/v1/engagement/models",
        only({"admin": 201}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {**NEW_MODEL, "precedence": 7, "criteria": json.loads(NEW_MODEL["criteria"])},
    ),
    Row(
        "api:engagement_model_update",
        "patch",
        lambda b, t: "/api/v1/engagement/models/named",
        only({"admin": 200}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {"services": ["Cadence call"]},
    ),
    Row(
        "api:engagement_account_detail",
        "get",
        lambda b, t: f"/api/v1/engagement/accounts/{b.account.pk}",
        API_READERS,
        api=True,
    ),
    Row(
        "api:engagement_account_place",
        "post",
        lambda b, t: f"/api/v1/engagement/accounts/{b.account.pk}/placement",
        only({"admin": 201, "manager": 201, "tam": 201, **ACCOUNT_OUTSIDERS}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {"model": "named", "reason": "Matrix"},
    ),
    Row("api:engagement_capacity", "get", lambda b, t: "/api/v1/engagement/capacity", API_LEADERS, api=True),
    Row("api:engagement_whatif", "get", lambda b, t: "/api/v1/engagement/whatif", API_LEADERS, api=True),
    Row("api:engagement_iteration_list", "get", lambda b, t: "/api/v1/engagement/iterations", API_LEADERS, api=True),
    Row(
        "api:engagement_iteration_create",
        "post",
        lambda b, t: "/api/v1/engagement/iterations",
        only({"admin": 201}, 403, anonymous=401),
        api=True,
        data=lambda b, t: {"name": "Matrix", "starts_on": "2026-01-01", "ends_on": "2026-03-31"},
    ),
    Row("api:engagement_comparison", "get", lambda b, t: "/api/v1/engagement/comparison", API_LEADERS, api=True),
]
