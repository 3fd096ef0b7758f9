"""Permission-matrix rows for the digital journey routes (collected by ``tamarind/tests/test_permission_matrix.py``).

Programs are company-wide: TAMs, managers (both regions), directors and admins read them (SAL/AE and SA: 403);
admins and managers edit them (TAMs and directors: 403). An account's sends and events follow the account's read
scope (west's people: 404). A send's public links (tracking image, click redirect, unsubscribe) answer everyone,
signed in or not. The API answers the same, with 401 for no credentials.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, ROLES, Row, only

READERS = {
    "admin": 200,
    "director": 200,
    "manager": 200,
    "other_manager": 200,
    "tam": 200,
    "tam2": 200,
    "other_tam": 200,
}
VIEW = only(READERS, 403)
NO_SIGN_IN = dict.fromkeys(ROLES, 200)


def edit(ok: int) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, "other_manager": ok}, 403)


def api(cells: dict[str, int]) -> dict[str, int]:
    return {**cells, "anonymous": 401}


def journey(book: Any, t: dict[str, Any]) -> dict[str, Any]:
    """The seeded program and its first step, and a sent email to a contact of ``book.account``."""
    if "journey" not in t:
        from django.utils import timezone

        from tamarind.journeys.models import Program, Send
        from tamarind.journeys.services import click_url
        from tamarind.testing.factories import ContactFactory

        program = Program.objects.get(key="digital-onboarding")
        step = program.steps.order_by("day", "pk").first()
        contact = ContactFactory(account=book.account, personas=["admin"])
        now = timezone.now()
        send = Send.objects.create(
            step=step,
            contact=contact,
            account=book.account,
            due_on=timezone.localdate(),
            status="sent",
            attempts=1,
            created_at=now,
            next_attempt_at=now,
            sent_at=now,
        )
        click = click_url(send, "https://docs.example.com/start").split("testserver", 1)[-1]
        click = "/j/" + click.split("/j/", 1)[1]
        t["journey"] = {"program": program, "step": step, "send": send, "click": click}
    return dict(t["journey"])


def _program(b: Any, t: dict[str, Any]) -> int:
    return int(journey(b, t)["program"].pk)


def _step(b: Any, t: dict[str, Any]) -> int:
    return int(journey(b, t)["step"].pk)


def _token(b: Any, t: dict[str, Any]) -> str:
    return str(journey(b, t)["send"].token)


def _invitation(b: Any, t: dict[str, Any]) -> str:
    """The token of a webinar invitation (a webinar step's send naming an upcoming session)."""
    if "journey_invitation" not in t:
        import datetime as dt

        from django.utils import timezone

        from tamarind.journeys.models import Send, Step
        from tamarind.webinars.models import Round, Session, Topic

        sent = journey(b, t)["send"]
        step = Step.objects.create(
            program=sent.step.program, name="Invite", kind="webinar", day=7, subject="Join", body="Join us"
        )
        start = timezone.now() + dt.timedelta(days=5)
        session = Session.objects.create(
            topic=Topic.objects.order_by("pk").first() or Topic.objects.create(key="matrix", name="Matrix"),
            round=Round.OPERATIONALIZE,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
        now = timezone.now()
        send = Send.objects.create(
            step=step,
            contact=sent.contact,
            account=sent.account,
            occurrence=session.pk,
            webinar_session=session,
            due_on=timezone.localdate(),
            status="sent",
            attempts=1,
            created_at=now,
            next_attempt_at=now,
            sent_at=now,
        )
        t["journey_invitation"] = send.token
    return str(t["journey_invitation"])


STEP_FORM = {
    "action": "save",
    "name": "Welcome",
    "kind": "email",
    "day": "0",
    "repeat_days": "",
    "subject": "Welcome, {{ contact.first_name }}",
    "body": "Hello {{ contact.name }}",
}
PROGRAM_FORM = {
    "name": "Matrix program",
    "status": "active",
    "engagement_models": "digital",
    "min_arr": "",
    "max_arr": "",
    "personas": "admin",
    "track": "on",
}
API = "/api/v1/journeys"

ROWS: list[Row] = [
    Row("journeys:programs", "get", lambda b, t: "/journeys/", VIEW),
    Row("journeys:program", "get", lambda b, t: f"/journeys/{_program(b, t)}/", VIEW),
    Row(
        "journeys:program_status",
        "post",
        lambda b, t: f"/journeys/{_program(b, t)}/status/",
        edit(302),
        data=lambda b, t: {"status": "paused"},
        json=False,
    ),
    Row("journeys:step_edit", "get", lambda b, t: f"/journeys/steps/{_step(b, t)}/", VIEW),
    Row(
        "journeys:step_edit",
        "post",
        lambda b, t: f"/journeys/steps/{_step(b, t)}/",
        edit(302),
        data=lambda b, t: STEP_FORM,
        json=False,
    ),
    Row("journeys:program_new", "get", lambda b, t: "/journeys/new/", edit(200)),
    Row(
        "journeys:program_new",
        "post",
        lambda b, t: "/journeys/new/",
        edit(302),
        data=lambda b, t: PROGRAM_FORM | {"key": "matrix-web"},
        json=False,
    ),
    Row("journeys:program_edit", "get", lambda b, t: f"/journeys/{_program(b, t)}/edit/", edit(200)),
    Row(
        "journeys:program_edit",
        "post",
        lambda b, t: f"/journeys/{_program(b, t)}/edit/",
        edit(302),
        data=lambda b, t: PROGRAM_FORM,
        json=False,
    ),
    Row("journeys:step_new", "get", lambda b, t: f"/journeys/{_program(b, t)}/steps/new/", edit(200)),
    Row(
        "journeys:step_new",
        "post",
        lambda b, t: f"/journeys/{_program(b, t)}/steps/new/",
        edit(302),
        data=lambda b, t: STEP_FORM,
        json=False,
    ),
    Row(
        "journeys:step_delete",
        "post",
        lambda b, t: f"/journeys/steps/{_step(b, t)}/delete/",
        edit(302),
        json=False,
    ),
    Row("journeys_public:open", "get", lambda b, t: f"/j/o/{_token(b, t)}.gif", NO_SIGN_IN),
    Row("journeys_public:click", "get", lambda b, t: journey(b, t)["click"], dict.fromkeys(ROLES, 302)),
    Row("journeys_public:unsubscribe", "get", lambda b, t: f"/j/u/{_token(b, t)}/", NO_SIGN_IN),
    Row("journeys_public:unsubscribe", "post", lambda b, t: f"/j/u/{_token(b, t)}/", NO_SIGN_IN, json=False),
    Row("journeys_public:register", "get", lambda b, t: f"/j/r/{_invitation(b, t)}/", NO_SIGN_IN),
    Row("journeys_public:register", "post", lambda b, t: f"/j/r/{_invitation(b, t)}/", NO_SIGN_IN, json=False),
    Row("api:journey_program_list", "get", lambda b, t: f"{API}/programs", api(VIEW), api=True),
    Row(
        "api:journey_program_create",
        "post",
        lambda b, t: f"{API}/programs",
        api(edit(201)),
        data=lambda b, t: {"key": "matrix", "name": "Matrix", "engagement_models": ["digital"], "personas": ["admin"]},
        api=True,
    ),
    Row("api:journey_program_detail", "get", lambda b, t: f"{API}/programs/{_program(b, t)}", api(VIEW), api=True),
    Row(
        "api:journey_program_update",
        "patch",
        lambda b, t: f"{API}/programs/{_program(b, t)}",
        api(edit(200)),
        data=lambda b, t: {"name": "Renamed"},
        api=True,
    ),
    Row(
        "api:journey_program_pause",
        "post",
        lambda b, t: f"{API}/programs/{_program(b, t)}/pause",
        api(edit(200)),
        api=True,
    ),
    Row(
        "api:journey_program_resume",
        "post",
        lambda b, t: f"{API}/programs/{_program(b, t)}/resume",
        api(edit(200)),
        api=True,
    ),
    Row("api:journey_step_list", "get", lambda b, t: f"{API}/programs/{_program(b, t)}/steps", api(VIEW), api=True),
    Row(
        "api:journey_step_create",
        "post",
        lambda b, t: f"{API}/programs/{_program(b, t)}/steps",
        api(edit(201)),
        data=lambda b, t: {"name": "Extra", "day": 3, "subject": "Hi", "body": "Hello {{ contact.name }}"},
        api=True,
    ),
    Row("api:journey_step_detail", "get", lambda b, t: f"{API}/steps/{_step(b, t)}", api(VIEW), api=True),
    Row(
        "api:journey_step_update",
        "patch",
        lambda b, t: f"{API}/steps/{_step(b, t)}",
        api(edit(200)),
        data=lambda b, t: {"day": 1},
        api=True,
    ),
    Row(
        "api:journey_step_delete",
        "delete",
        lambda b, t: f"{API}/steps/{_step(b, t)}",
        api(edit(204)),
        api=True,
    ),
    Row(
        "api:journey_account_sends",
        "get",
        lambda b, t: f"{API}/accounts/{b.account.pk}/sends",
        api(only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404)),
        api=True,
    ),
    Row(
        "api:journey_account_events",
        "get",
        lambda b, t: f"{API}/accounts/{b.account.pk}/events",
        api(only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404)),
        api=True,
    ),
]
