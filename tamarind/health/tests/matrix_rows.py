"""Permission-matrix rows for the health routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is ``book.account``: its TAM, its region's manager and admins set the sentiment; its other readers get
403; the other region's people are outsiders (404). Everyone signed in reads the health model and its versions; admins
edit it (the editor, its preview, saving).
"""

from __future__ import annotations

import copy
import json

from tamarind.health.spec import DEFAULT_DEFINITION
from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, Row, everyone, only


def _edited() -> dict[str, str]:
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["staleness_days"] = 60
    return {"mode": "json", "definition": json.dumps(definition), "note": "Matrix"}


ROWS: list[Row] = [
    Row(
        "health:sentiment",
        "post",
        lambda b, t: f"/health/accounts/{b.account.pk}/sentiment/",
        only({"admin": 200, "manager": 200, "tam": 200, **ACCOUNT_OUTSIDERS}, 403),
        data=lambda b, t: {"color": "yellow", "reason": "Matrix review"},
        json=False,
        headers={"HX-Request": "true"},
    ),
    Row("health:model", "get", lambda b, t: "/health/model/", everyone(200)),
    Row("health:model_version", "get", lambda b, t: "/health/model/v1/", everyone(200)),
    Row("health:model_edit", "get", lambda b, t: "/health/model/edit/", only({"admin": 200}, 403)),
    Row(
        "health:model_edit",
        "post",
        lambda b, t: "/health/model/edit/",
        only({"admin": 302}, 403),
        data=lambda b, t: _edited(),
        json=False,
    ),
    Row(
        "health:model_preview",
        "post",
        lambda b, t: "/health/model/preview/",
        only({"admin": 200}, 403),
        data=lambda b, t: _edited(),
        json=False,
        headers={"HX-Request": "true"},
    ),
]

ROWS += [
    Row(
        "api:health_detail",
        "get",
        lambda b, t: f"/api/v1/health/accounts/{b.account.pk}",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api:sentiment_create",
        "post",
        lambda b, t: f"/api/v1/health/accounts/{b.account.pk}/sentiment",
        only({"admin": 201, "manager": 201, "tam": 201, **ACCOUNT_OUTSIDERS}, 403, anonymous=401),
        data=lambda b, t: {"color": "green", "reason": "Matrix review"},
        api=True,
    ),
    Row("api:model_version_list", "get", lambda b, t: "/api/v1/health/model", everyone(200, anonymous=401), api=True),
    Row(
        "api:model_version_create",
        "post",
        lambda b, t: "/api/v1/health/model",
        only({"admin": 201}, 403, anonymous=401),
        data=lambda b, t: {"definition": json.loads(_edited()["definition"]), "note": "Matrix"},
        api=True,
    ),
]
