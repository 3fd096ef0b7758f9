"""Permission-matrix rows for the assignment routes (collected by ``tamarind/tests/test_permission_matrix.py``).

Everyone signed in reads the rules; only admins edit and dry-run them. "New accounts to staff" is for managers,
directors and admins; assigning from it follows setting the TAM (``book.account``: admin and east's manager).
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import Row, everyone, only

STAFFING_READERS = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200}
DRAFT = {"match": "any", "conditions": [{"field": "arr", "op": "gt", "value": "1000"}]}


def editor_form(book: Any, t: dict[str, Any]) -> dict[str, str]:
    return {
        "match": "all",
        "note": "matrix",
        "c-TOTAL_FORMS": "1",
        "c-INITIAL_FORMS": "0",
        "c-0-field": "arr",
        "c-0-op": "gt",
        "c-0-value": "1000",
    }


ROWS: list[Row] = [
    Row("assignment:rules", "get", lambda b, t: "/assignment/rules/", everyone(200)),
    Row("assignment:rule_version", "get", lambda b, t: "/assignment/rules/v1/", everyone(200)),
    Row("assignment:rules_edit", "get", lambda b, t: "/assignment/rules/edit/", only({"admin": 200}, 403)),
    Row(
        "assignment:rules_dry_run",
        "post",
        lambda b, t: "/assignment/rules/dry-run/",
        only({"admin": 200}, 403),
        data=editor_form,
        json=False,
    ),
    Row("assignment:staffing", "get", lambda b, t: "/assignment/staffing/", only(STAFFING_READERS, 403)),
    Row(
        "assignment:staffing_assign",
        "post",
        lambda b, t: f"/assignment/staffing/{b.account.pk}/assign/",
        only({"admin": 302, "manager": 302, "other_manager": 404, "other_tam": 404}, 403),
        data=lambda b, t: {"tam": b.tam2.pk},
        json=False,
    ),
    # --- API -------------------------------------------------------------------------------------------------
    Row("api:rule_list", "get", lambda b, t: "/api/v1/rules/", everyone(200, anonymous=401), api=True),
    Row("api:rule_live", "get", lambda b, t: "/api/v1/rules/live", everyone(200, anonymous=401), api=True),
    Row("api:rule_detail", "get", lambda b, t: "/api/v1/rules/v1", everyone(200, anonymous=401), api=True),
    Row(
        "api:rule_save",
        "post",
        lambda b, t: "/api/v1/rules/",
        only({"admin": 201}, 403, anonymous=401),
        data=lambda b, t: DRAFT,
        api=True,
    ),
    Row(
        "api:rule_dry_run",
        "post",
        lambda b, t: "/api/v1/rules/dry-run",
        only({"admin": 200}, 403, anonymous=401),
        data=lambda b, t: DRAFT,
        api=True,
    ),
    Row(
        "api:staffing_list",
        "get",
        lambda b, t: "/api/v1/rules/staffing",
        only(STAFFING_READERS, 403, anonymous=401),
        api=True,
    ),
]
