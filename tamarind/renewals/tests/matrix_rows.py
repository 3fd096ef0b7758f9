"""Permission-matrix rows for the renewals routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is a renewal of ``book.account`` (region east; TAM ``book.tam``, SAL/AE ``book.sal``). Its readers are
the account's readers; its writers the TAM, the SAL/AE, the region's manager and admins.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, LOGIN, Row, everyone, only


def renewal(book: Any, t: dict[str, Any]) -> int:
    if "renewal" not in t:
        from tamarind.renewals.tests.factories import RenewalFactory

        t["renewal"] = RenewalFactory(account=book.account, tam=book.tam, owner=book.sal)
    return t["renewal"].pk


def step(book: Any, t: dict[str, Any]) -> str:
    from tamarind.renewals.models import RenewalStep

    pk = renewal(book, t)
    s = RenewalStep.objects.create(renewal_id=pk, text="Send the quote")
    return f"/renewals/{pk}/steps/{s.pk}/"


def review(book: Any, t: dict[str, Any]) -> int:
    import datetime as dt

    from tamarind.renewals.models import RenewalReview

    return RenewalReview.objects.create(region=book.east, held_on=dt.date(2026, 1, 5), recorded_by=book.manager).pk


def writers(ok: int, anonymous: int = LOGIN) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "tam": ok, "sal": ok, **ACCOUNT_OUTSIDERS}, 403, anonymous=anonymous)


READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404)
OVERSEERS = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200}
REVIEW_READERS = only(
    {"admin": 200, "director": 200, "manager": 200, "tam": 200, "tam2": 200, "sal": 200, "sa": 200}, 404
)

ROWS: list[Row] = [
    Row("renewals:review", "get", lambda b, t: "/renewals/", everyone(200)),
    Row("renewals:review_export", "get", lambda b, t: "/renewals/export.csv", everyone(200)),
    Row("renewals:settings", "get", lambda b, t: "/renewals/settings/", everyone(200)),
    Row(
        "renewals:settings",
        "post",
        lambda b, t: "/renewals/settings/",
        only({"admin": 302}, 403),
        data=lambda b, t: {
            "fiscal_start_month": 1,
            "task_lead_months": 6,
            "review_due_days": 60,
            "term_months": 12,
            "reviews_per_month": 2,
            "gross_target_pct": "90",
            "net_target_pct": "130",
        },
        json=False,
    ),
    Row("renewals:reviews", "get", lambda b, t: "/renewals/reviews/", everyone(200)),
    Row(
        "renewals:reviews",
        "post",
        lambda b, t: "/renewals/reviews/",
        only({"admin": 302, "manager": 302}, 403),
        data=lambda b, t: {"region": b.east.pk, "held_on": "2026-01-05", "notes": "Matrix"},
        json=False,
    ),
    Row("renewals:review_detail", "get", lambda b, t: f"/renewals/reviews/{review(b, t)}/", REVIEW_READERS),
    Row("renewals:retention", "get", lambda b, t: "/renewals/retention/", only(OVERSEERS, 403)),
    Row("renewals:retention_export", "get", lambda b, t: "/renewals/retention/export.csv", only(OVERSEERS, 403)),
    Row("renewals:create", "get", lambda b, t: f"/renewals/new/{b.account.pk}/", writers(200)),
    Row(
        "renewals:create",
        "post",
        lambda b, t: f"/renewals/new/{b.account.pk}/",
        writers(302),
        data=lambda b, t: {"renewal_date": "2027-08-01", "arr": "1000"},
        json=False,
    ),
    Row("renewals:detail", "get", lambda b, t: f"/renewals/{renewal(b, t)}/", READERS),
    Row(
        "renewals:detail",
        "post",
        lambda b, t: f"/renewals/{renewal(b, t)}/",
        writers(302),
        data=lambda b, t: {"forecast": "commit", "forecast_reason": "Signed order form"},
        json=False,
    ),
    Row(
        "renewals:close",
        "post",
        lambda b, t: f"/renewals/{renewal(b, t)}/close/",
        writers(302),
        data=lambda b, t: {"outcome": "renewed_flat", "new_arr": "120000"},
        json=False,
    ),
    Row(
        "renewals:step_add",
        "post",
        lambda b, t: f"/renewals/{renewal(b, t)}/steps/",
        writers(302),
        data=lambda b, t: {"text": "Send the quote", "due_on": "2027-01-10"},
        json=False,
    ),
    Row("renewals:step_toggle", "post", step, writers(302), data=lambda b, t: {"done": "on"}, json=False),
]


API_READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401)


def api_writers(ok: int) -> dict[str, int]:
    return writers(ok, anonymous=401)


ROWS += [
    Row("api:renewals_list", "get", lambda b, t: "/api/v1/renewals/", everyone(200, anonymous=401), api=True),
    Row(
        "api:renewals_create",
        "post",
        lambda b, t: "/api/v1/renewals/",
        api_writers(201),
        data=lambda b, t: {"account_id": b.account.pk, "renewal_date": "2027-08-01"},
        api=True,
    ),
    Row(
        "api:renewals_review_summary",
        "get",
        lambda b, t: "/api/v1/renewals/review",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:renewals_review_list",
        "get",
        lambda b, t: "/api/v1/renewals/reviews",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:renewals_review_create",
        "post",
        lambda b, t: "/api/v1/renewals/reviews",
        only({"admin": 201, "manager": 201}, 403, anonymous=401),
        data=lambda b, t: {"region_id": b.east.pk, "held_on": "2026-01-05"},
        api=True,
    ),
    Row(
        "api:renewals_review_detail",
        "get",
        lambda b, t: f"/api/v1/renewals/reviews/{review(b, t)}",
        only({**{k: v for k, v in REVIEW_READERS.items() if v == 200}}, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api:renewals_retention",
        "get",
        lambda b, t: "/api/v1/renewals/retention",
        only(OVERSEERS, 403, anonymous=401),
        api=True,
    ),
    Row(
        "api:renewals_settings_get",
        "get",
        lambda b, t: "/api/v1/renewals/settings",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:renewals_settings_update",
        "patch",
        lambda b, t: "/api/v1/renewals/settings",
        only({"admin": 200}, 403, anonymous=401),
        data=lambda b, t: {"term_months": 24},
        api=True,
    ),
    Row("api:renewals_detail", "get", lambda b, t: f"/api/v1/renewals/{renewal(b, t)}", API_READERS, api=True),
    Row(
        "api:renewals_update",
        "patch",
        lambda b, t: f"/api/v1/renewals/{renewal(b, t)}",
        api_writers(200),
        data=lambda b, t: {"forecast": "commit"},
        api=True,
    ),
    Row(
        "api:renewals_close",
        "post",
        lambda b, t: f"/api/v1/renewals/{renewal(b, t)}/close",
        api_writers(200),
        data=lambda b, t: {"outcome": "renewed_flat", "new_arr": "120000"},
        api=True,
    ),
    Row(
        "api:renewals_step_create",
        "post",
        lambda b, t: f"/api/v1/renewals/{renewal(b, t)}/steps",
        api_writers(201),
        data=lambda b, t: {"text": "Quote"},
        api=True,
    ),
]
