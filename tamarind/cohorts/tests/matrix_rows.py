"""Permission-matrix rows for the cohort routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target: a cohort of region east owned by ``book.tam``, with ``book.account`` as a member and one member
contact. Cohorts are for TAMs, managers, directors and admins (SAL/AE, SA: 403). The east cohort is read by
admins, directors, east's manager and east's TAMs (west's people: 404) and managed by admins, east's manager and
its owner ``tam`` (director and ``tam2``: 403). Admins and managers create cohorts. The API answers the same, with
401 for no credentials.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tamarind.testing.matrix import Row, only

LIST = {"admin": 200, "director": 200, "manager": 200, "other_manager": 200, "tam": 200, "tam2": 200, "other_tam": 200}
READ = only({"admin": 200, "director": 200, "manager": 200, "tam": 200, "tam2": 200, "sal": 403, "sa": 403}, 404)


def manage(ok: int) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "tam": ok, "director": 403, "tam2": 403, "sal": 403, "sa": 403}, 404)


def api(cells: dict[str, int]) -> dict[str, int]:
    return {**cells, "anonymous": 401}


def target(book: Any, t: dict[str, Any]) -> dict[str, Any]:
    if "cohort" not in t:
        from tamarind.cohorts.models import Cohort, CohortContact, CohortMember
        from tamarind.testing.factories import AccountFactory, ContactFactory

        # Made directly (no audit events), so a denied write's "wrote nothing" check sees only its own effects.
        cohort = Cohort.objects.create(name="Matrix cohort", starts_on=dt.date(2026, 1, 1), region=book.east)
        cohort.owners.add(book.tam)
        member = CohortMember.objects.create(cohort=cohort, account=book.account, joined_on=dt.date(2026, 1, 2))
        contact = ContactFactory(account=book.account, email="ana@matrix.example")
        spare = ContactFactory(account=book.account, email="ben@matrix.example")
        link = CohortContact.objects.create(member=member, contact=contact)
        newcomer = AccountFactory(name="Matrix newcomer", region=book.east)
        t["cohort"] = {"cohort": cohort, "member": member, "link": link, "spare": spare, "newcomer": newcomer}
    return dict(t["cohort"])


def _c(b: Any, t: dict[str, Any]) -> int:
    return int(target(b, t)["cohort"].pk)


def _csv(b: Any, t: dict[str, Any]) -> dict[str, Any]:
    body = f"Account ID,Contact Email,Kind,Date,Count\n{b.account.crm_id},,post,2026-02-01,2\n".encode()
    return {"file": SimpleUploadedFile("activity.csv", body, content_type="text/csv")}


ROWS: list[Row] = [
    Row("cohorts:list", "get", lambda b, t: "/cohorts/", only(LIST, 403)),
    Row(
        "cohorts:new",
        "get",
        lambda b, t: "/cohorts/new/",
        only({"admin": 200, "manager": 200, "other_manager": 200}, 403),
    ),
    Row(
        "cohorts:new",
        "post",
        lambda b, t: "/cohorts/new/",
        only({"admin": 302, "manager": 302, "other_manager": 302}, 403),
        data=lambda b, t: {"name": "New pilot", "starts_on": "2026-03-01", "status": "planned"},
        json=False,
    ),
    Row("cohorts:detail", "get", lambda b, t: f"/cohorts/{_c(b, t)}/", READ),
    Row("cohorts:report", "get", lambda b, t: f"/cohorts/{_c(b, t)}/report/", READ),
    Row("cohorts:compare", "get", lambda b, t: f"/cohorts/compare/?a={_c(b, t)}&b={_c(b, t)}", READ),
    Row("cohorts:edit", "get", lambda b, t: f"/cohorts/{_c(b, t)}/edit/", manage(200)),
    Row(
        "cohorts:edit",
        "post",
        lambda b, t: f"/cohorts/{_c(b, t)}/edit/",
        manage(302),
        data=lambda b, t: {
            "name": "Matrix cohort",
            "starts_on": "2026-01-01",
            "status": "running",
            "scope": "SMB",
            "owner_ids": [b.tam.pk],
        },
        json=False,
    ),
    Row(
        "cohorts:member_add",
        "post",
        lambda b, t: f"/cohorts/{_c(b, t)}/members/",
        manage(302),
        data=lambda b, t: {"account": target(b, t)["newcomer"].pk},
        json=False,
    ),
    Row(
        "cohorts:member_remove",
        "post",
        lambda b, t: f"/cohorts/{_c(b, t)}/members/{target(b, t)['member'].pk}/remove/",
        manage(302),
        json=False,
    ),
    Row(
        "cohorts:contact_add",
        "post",
        lambda b, t: f"/cohorts/{_c(b, t)}/contacts/",
        manage(302),
        data=lambda b, t: {"contact": target(b, t)["spare"].pk},
        json=False,
    ),
    Row(
        "cohorts:contact_remove",
        "post",
        lambda b, t: f"/cohorts/{_c(b, t)}/contacts/{target(b, t)['link'].pk}/remove/",
        manage(302),
        json=False,
    ),
    Row(
        "cohorts:activity_add",
        "post",
        lambda b, t: f"/cohorts/{_c(b, t)}/activity/",
        manage(302),
        data=lambda b, t: {"member": target(b, t)["member"].pk, "kind": "post", "day": "2026-02-01", "count": "2"},
        json=False,
    ),
    Row(
        "cohorts:activity_import",
        "post",
        lambda b, t: f"/cohorts/{_c(b, t)}/activity/import/",
        manage(200),
        data=_csv,
        json=False,
    ),
    # --- API ---
    Row("api:cohort_list", "get", lambda b, t: "/api/v1/cohorts/", api(only(LIST, 403)), api=True),
    Row(
        "api:cohort_create",
        "post",
        lambda b, t: "/api/v1/cohorts/",
        api(only({"admin": 201, "manager": 201, "other_manager": 201}, 403)),
        data=lambda b, t: {"name": "API pilot", "starts_on": "2026-03-01"},
        api=True,
    ),
    Row("api:cohort_detail", "get", lambda b, t: f"/api/v1/cohorts/{_c(b, t)}", api(READ), api=True),
    Row(
        "api:cohort_update",
        "patch",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}",
        api(manage(200)),
        data=lambda b, t: {"scope": "Matrix scope"},
        api=True,
    ),
    Row(
        "api:cohort_delete",
        "delete",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}",
        api(only({"admin": 204, "manager": 204, "tam": 403, "director": 403, "tam2": 403, "sal": 403, "sa": 403}, 404)),
        api=True,
    ),
    Row("api:cohort_member_list", "get", lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/members", api(READ), api=True),
    Row(
        "api:cohort_member_add",
        "post",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/members",
        api(manage(201)),
        data=lambda b, t: {"account_id": target(b, t)["newcomer"].pk},
        api=True,
    ),
    Row(
        "api:cohort_member_leave",
        "post",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/members/{b.account.pk}/leave",
        api(manage(200)),
        data=lambda b, t: {},
        api=True,
    ),
    Row("api:cohort_contact_list", "get", lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/contacts", api(READ), api=True),
    Row(
        "api:cohort_contact_add",
        "post",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/contacts",
        api(manage(201)),
        data=lambda b, t: {"contact_id": target(b, t)["spare"].pk},
        api=True,
    ),
    Row(
        "api:cohort_contact_remove",
        "delete",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/contacts/{target(b, t)['link'].pk}",
        api(manage(204)),
        api=True,
    ),
    Row("api:cohort_activity_list", "get", lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/activity", api(READ), api=True),
    Row(
        "api:cohort_activity_create",
        "post",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/activity",
        api(manage(201)),
        data=lambda b, t: {"account_id": b.account.pk, "kind": "session", "day": "2026-02-01"},
        api=True,
    ),
    Row(
        "api:cohort_activity_import",
        "post",
        lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/activity/import",
        api(manage(200)),
        data=_csv,
        json=False,
        api=True,
    ),
    Row("api:cohort_report_get", "get", lambda b, t: f"/api/v1/cohorts/{_c(b, t)}/report", api(READ), api=True),
]
