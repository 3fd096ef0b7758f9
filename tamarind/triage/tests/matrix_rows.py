"""Permission-matrix rows for the triage routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is an open case of ``book.account`` (region east, TAM ``book.tam``), created by the row. Its readers
are the account's readers; its writers the TAM, the region's manager and admins.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, LOGIN, Row, everyone, only


def case(book: Any, t: dict[str, Any]) -> int:
    if "case" not in t:
        from tamarind.triage.tests.factories import TriageCaseFactory

        t["case"] = TriageCaseFactory(account=book.account, owner=book.tam)
    return t["case"].pk


def step(book: Any, t: dict[str, Any]) -> str:
    from tamarind.triage.models import TriageStep

    pk = case(book, t)
    s = TriageStep.objects.create(case_id=pk, text="Call the sponsor")
    return f"/triage/{pk}/steps/{s.pk}/"


def api_step(book: Any, t: dict[str, Any]) -> str:
    """The API path of a new step of the target case: ``/api/v1/triage/cases/<case>/steps/<step>``."""
    _, _, case_id, _, step_id, _ = step(book, t).split("/")
    return f"/api/v1/triage/cases/{case_id}/steps/{step_id}"


def escalation(book: Any, t: dict[str, Any]) -> int:
    from tamarind.triage.models import Escalation

    esc = Escalation.objects.create(account=book.account, case_id=case(book, t), title="Outage", owner=book.tam)
    return esc.pk


def writers(ok: int, anonymous: int = LOGIN) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "tam": ok, **ACCOUNT_OUTSIDERS}, 403, anonymous=anonymous)


READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404)
API_READERS = only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401)

ROWS: list[Row] = [
    Row("triage:board", "get", lambda b, t: "/triage/", everyone(200)),
    Row("triage:settings", "get", lambda b, t: "/triage/settings/", everyone(200)),
    Row("triage:escalations", "get", lambda b, t: f"/triage/escalations/?case={escalation(b, t)}", everyone(200)),
    Row(
        "triage:settings",
        "post",
        lambda b, t: "/triage/settings/",
        only({"admin": 302}, 403),
        data=lambda b, t: {
            "red_update_days": 10,
            "yellow_update_days": 20,
            "critical_update_days": 1,
            "high_update_days": 2,
            "medium_update_days": 7,
            "low_update_days": 30,
        },
        json=False,
    ),
    Row("triage:open", "get", lambda b, t: f"/triage/open/{b.account.pk}/", writers(200)),
    Row(
        "triage:open",
        "post",
        lambda b, t: f"/triage/open/{b.account.pk}/",
        writers(302),
        data=lambda b, t: {"risk_reason": "lack_of_adoption"},
        json=False,
    ),
    Row("triage:detail", "get", lambda b, t: f"/triage/{case(b, t)}/", READERS),
    Row(
        "triage:detail",
        "post",
        lambda b, t: f"/triage/{case(b, t)}/",
        writers(302),
        data=lambda b, t: {"risk_reason": "competition", "summary": "Matrix"},
        json=False,
    ),
    Row(
        "triage:move",
        "post",
        lambda b, t: f"/triage/{case(b, t)}/move/",
        writers(200),
        data=lambda b, t: {"status": "investigating"},
        json=False,
        headers={"HX-Request": "true"},
    ),
    Row(
        "triage:step_add",
        "post",
        lambda b, t: f"/triage/{case(b, t)}/steps/",
        writers(302),
        data=lambda b, t: {"text": "Exec sponsor call", "due_on": "2027-01-10"},
        json=False,
    ),
    Row(
        "triage:step_toggle",
        "post",
        step,
        writers(200),
        data=lambda b, t: {"done": "on"},
        json=False,
        headers={"HX-Request": "true"},
    ),
    Row(
        "triage:note_add",
        "post",
        lambda b, t: f"/triage/{case(b, t)}/notes/",
        writers(302),
        data=lambda b, t: {"text": "Spoke to the sponsor"},
        json=False,
    ),
    Row(
        "triage:escalation_add",
        "post",
        lambda b, t: f"/triage/{case(b, t)}/escalations/",
        writers(302),
        data=lambda b, t: {"title": "Outage", "severity": "high"},
        json=False,
    ),
    Row(
        "triage:escalation_change",
        "post",
        lambda b, t: f"/triage/escalations/{escalation(b, t)}/",
        writers(302),
        data=lambda b, t: {"note": "Fix rolling out"},
        json=False,
    ),
    Row(
        "triage:owner",
        "post",
        lambda b, t: f"/triage/{case(b, t)}/owner/",
        writers(200),
        data=lambda b, t: {"owner": b.tam2.pk},
        json=False,
        headers={"HX-Request": "true"},
    ),
    Row("triage:escalation_open", "get", lambda b, t: f"/triage/escalations/new/{b.account.pk}/", writers(200)),
    Row(
        "triage:escalation_open",
        "post",
        lambda b, t: f"/triage/escalations/new/{b.account.pk}/",
        writers(302),
        data=lambda b, t: {"title": "Pipeline outage", "severity": "critical"},
        json=False,
    ),
    Row("triage:escalation_change", "get", lambda b, t: f"/triage/escalations/{escalation(b, t)}/", READERS),
    # --- API ------------------------------------------------------------------------------------------------------
    Row("api:triage_case_list", "get", lambda b, t: "/api/v1/triage/cases", everyone(200, anonymous=401), api=True),
    Row(
        "api:triage_case_create",
        "post",
        lambda b, t: "/api/v1/triage/cases",
        writers(201, anonymous=401),
        data=lambda b, t: {"account_id": b.account.pk, "risk_reason": "competition"},
        api=True,
    ),
    Row("api:triage_case_detail", "get", lambda b, t: f"/api/v1/triage/cases/{case(b, t)}", API_READERS, api=True),
    Row(
        "api:triage_case_update",
        "patch",
        lambda b, t: f"/api/v1/triage/cases/{case(b, t)}",
        writers(200, anonymous=401),
        data=lambda b, t: {"status": "closed", "outcome": "won_back"},
        api=True,
    ),
    Row(
        "api:triage_step_create",
        "post",
        lambda b, t: f"/api/v1/triage/cases/{case(b, t)}/steps",
        writers(201, anonymous=401),
        data=lambda b, t: {"text": "Sponsor call", "due_on": "2027-01-10"},
        api=True,
    ),
    Row(
        "api:triage_step_update",
        "patch",
        lambda b, t: api_step(b, t),
        writers(200, anonymous=401),
        data=lambda b, t: {"done": True},
        api=True,
    ),
    Row(
        "api:triage_escalation_list",
        "get",
        lambda b, t: f"/api/v1/triage/escalations?page={escalation(b, t) and 1}",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:triage_escalation_create",
        "post",
        lambda b, t: "/api/v1/triage/escalations",
        writers(201, anonymous=401),
        data=lambda b, t: {"account_id": b.account.pk, "title": "Outage", "severity": "high"},
        api=True,
    ),
    Row(
        "api:triage_escalation_detail",
        "get",
        lambda b, t: f"/api/v1/triage/escalations/{escalation(b, t)}",
        API_READERS,
        api=True,
    ),
    Row(
        "api:triage_escalation_update",
        "patch",
        lambda b, t: f"/api/v1/triage/escalations/{escalation(b, t)}",
        writers(200, anonymous=401),
        data=lambda b, t: {"note": "Rolling out the fix", "severity": "medium"},
        api=True,
    ),
    Row(
        "api:triage_settings_detail",
        "get",
        lambda b, t: "/api/v1/triage/settings",
        everyone(200, anonymous=401),
        api=True,
    ),
    Row(
        "api:triage_settings_update",
        "patch",
        lambda b, t: "/api/v1/triage/settings",
        only({"admin": 200}, 403, anonymous=401),
        data=lambda b, t: {"red_update_days": 10},
        api=True,
    ),
]
