"""Permission-matrix rows for the survey routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target: a contact of ``book.account`` (east, ``book.tam``'s) with an invitation. Who reads the account reads
its invitations (outsiders: 404); its TAM, the region's manager and admins send and revoke (other readers: 403).
The results page is for TAMs, managers, directors and admins (SAL/AE, SA: 403), each over their own book. The
answer link needs no sign-in: every role (anonymous included) gets the page and may answer through it.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_READERS, Row, account_write, only

RESULTS = {
    "admin": 200,
    "director": 200,
    "manager": 200,
    "other_manager": 200,
    "tam": 200,
    "tam2": 200,
    "other_tam": 200,
}
NO_SIGN_IN = {
    role: 200
    for role in ("anonymous", "admin", "director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa")
}


def survey(book: Any, t: dict[str, Any]) -> dict[str, Any]:
    if "survey" not in t:
        import datetime as dt

        from django.utils import timezone

        from tamarind.surveys.models import SurveyInvitation
        from tamarind.testing.factories import ContactFactory

        # Made directly (no audit events), so a denied write's "wrote nothing" check sees only its own effects.
        contact = ContactFactory(account=book.account, name="Mia Matrix")
        now = timezone.now()
        invitation = SurveyInvitation.objects.create(
            contact=contact, account=book.account, kind="nps", created_at=now, expires_at=now + dt.timedelta(days=30)
        )
        t["survey"] = {"contact": contact, "invitation": invitation}
    return dict(t["survey"])


def _inv(b: Any, t: dict[str, Any]) -> int:
    return int(survey(b, t)["invitation"].pk)


def api(cells: dict[str, int]) -> dict[str, int]:
    return {**cells, "anonymous": 401}


API = "/api/v1/surveys"
EVERYONE_API = {**dict.fromkeys(NO_SIGN_IN, 200), "anonymous": 401}

ROWS: list[Row] = [
    Row("surveys:results", "get", lambda b, t: "/surveys/", only(RESULTS, 403)),
    Row(
        "surveys:invite",
        "post",
        lambda b, t: f"/surveys/accounts/{b.account.pk}/invite/",
        account_write(302),
        data=lambda b, t: {"contact": survey(b, t)["contact"].pk, "kind": "csat"},
        json=False,
    ),
    Row(
        "surveys:revoke",
        "post",
        lambda b, t: f"/surveys/invitations/{_inv(b, t)}/revoke/",
        account_write(302),
        json=False,
    ),
    Row("survey_link:answer", "get", lambda b, t: survey(b, t)["invitation"].path, NO_SIGN_IN),
    Row(
        "survey_link:answer",
        "post",
        lambda b, t: survey(b, t)["invitation"].path,
        {role: 303 for role in NO_SIGN_IN},
        data=lambda b, t: {"score": "9", "comment": "Matrix"},
        json=False,
    ),
    Row("api:survey_invitation_list", "get", lambda b, t: f"{API}/invitations", EVERYONE_API, api=True),
    Row(
        "api:survey_invitation_detail",
        "get",
        lambda b, t: f"{API}/invitations/{_inv(b, t)}",
        api(only(ACCOUNT_READERS, 404)),
        api=True,
    ),
    Row(
        "api:survey_invitation_create",
        "post",
        lambda b, t: f"{API}/invitations",
        api(account_write(201)),
        data=lambda b, t: {"contact": survey(b, t)["contact"].pk, "kind": "nps"},
        api=True,
    ),
    Row(
        "api:survey_invitation_revoke",
        "post",
        lambda b, t: f"{API}/invitations/{_inv(b, t)}/revoke",
        api(account_write(200)),
        api=True,
    ),
    Row("api:survey_answer_list", "get", lambda b, t: f"{API}/answers", EVERYONE_API, api=True),
    Row("api:survey_results", "get", lambda b, t: f"{API}/results", api(only(RESULTS, 403)), api=True),
]
