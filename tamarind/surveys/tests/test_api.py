"""The surveys API: the permission trio on each route (allowed, denied 403, out of scope 404, unauthenticated 401),
writes audited, answers through the public link only and that link revealing nothing beyond its own contact (nor
does the API let a reader reach another account's contacts), bad input refused with a clear message, and query
counts that stay constant as invitations and answers grow."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.surveys.models import SurveyAnswer, SurveyInvitation
from tamarind.surveys.services import survey_answer_submit, survey_invitation_create
from tamarind.testing.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/surveys"
JSON = "application/json"


def _invite(account: Any, kind: str = "nps", name: str = "Dana Customer", score: int | None = None) -> Any:
    inv = survey_invitation_create(contact=ContactFactory(account=account, name=name), kind=kind)
    if score is not None:
        survey_answer_submit(invitation=inv, score=score, comment=f"{name} says {score}")
    return inv


def test_invite_and_revoke_permission_trio(book: Any, api_for: Any) -> None:
    contact = ContactFactory(account=book.account, name="Ann Invitee")
    body = {"contact": contact.pk, "kind": "csat", "valid_days": 14}
    # allowed: the account's TAM (audited); denied: a reader of the account; out of scope: another region's TAM
    got = api_for(book.tam).post(f"{API}/invitations", body, content_type=JSON)
    assert got.status_code == 201, got.content
    created = got.json()
    assert (created["contact"]["id"], created["kind"], created["state"]) == (contact.pk, "csat", "open")
    assert created["path"].startswith("/s/") and created["score"] is None
    inv = SurveyInvitation.objects.get(pk=created["id"])
    assert AuditEvent.objects.for_object("surveys.surveyinvitation", inv.pk).filter(action="create").count() == 1
    assert api_for(book.sal).post(f"{API}/invitations", body, content_type=JSON).status_code == 403
    assert api_for(book.tam2).post(f"{API}/invitations", body, content_type=JSON).status_code == 403
    assert api_for(book.other_tam).post(f"{API}/invitations", body, content_type=JSON).status_code == 404
    assert Client().post(f"{API}/invitations", body, content_type=JSON).status_code == 401
    assert SurveyInvitation.objects.filter(contact=contact).count() == 1  # the refusals wrote nothing

    url = f"{API}/invitations/{inv.pk}/revoke"
    assert api_for(book.sal).post(url).status_code == 403
    assert api_for(book.other_manager).post(url).status_code == 404
    got = api_for(book.manager).post(url)
    assert got.status_code == 200 and got.json()["state"] == "revoked"
    assert api_for(book.manager).post(url).status_code == 200  # twice: nothing more
    assert AuditEvent.objects.for_object("surveys.surveyinvitation", inv.pk).exclude(action="create").count() == 1
    assert Client().get(inv.path).status_code == 410


def test_reading_follows_the_account(book: Any, api_for: Any) -> None:
    mine = _invite(book.account, name="Ann East", score=9)
    west = AccountFactory(region=book.west, tam=book.other_tam, name="West Co")
    theirs = _invite(west, name="Wes West", score=3)
    for user, sees in ((book.tam, {mine.pk}), (book.other_tam, {theirs.pk}), (book.admin, {mine.pk, theirs.pk})):
        got = api_for(user).get(f"{API}/invitations")
        assert got.status_code == 200 and {r["id"] for r in got.json()["results"]} == sees
        answers = api_for(user).get(f"{API}/answers").json()["results"]
        assert {a["invitation"] for a in answers} == sees
    assert api_for(book.tam).get(f"{API}/invitations/{theirs.pk}").status_code == 404
    assert api_for(book.tam).get(f"{API}/invitations?account={west.pk}").status_code == 404
    got = api_for(book.tam).get(f"{API}/invitations/{mine.pk}")
    assert got.status_code == 200 and (got.json()["state"], got.json()["score"]) == ("answered", 9)
    assert Client().get(f"{API}/invitations").status_code == 401


def test_results_permission_trio_and_nps(book: Any, api_for: Any) -> None:
    for score in (10, 9, 8, 3):
        _invite(book.account, name=f"Voter {score}", score=score)
    got = api_for(book.tam).get(f"{API}/results?group=account")
    assert got.status_code == 200
    total = got.json()["total"]
    # 2 promoters, 1 passive, 1 detractor of 4: 50% - 25% = 25
    assert (total["nps"], total["promoters"], total["passives"], total["detractors"]) == (25, 2, 1, 1)
    assert api_for(book.sal).get(f"{API}/results").status_code == 403
    assert api_for(book.sa).get(f"{API}/results").status_code == 403
    assert api_for(book.other_tam).get(f"{API}/results").json()["total"]["nps_answers"] == 0  # not their book
    assert Client().get(f"{API}/results").status_code == 401


def test_bad_input_is_a_clear_422(book: Any, api_for: Any) -> None:
    client = api_for(book.admin)
    contact = ContactFactory(account=book.account)
    got = client.post(f"{API}/invitations", {"contact": contact.pk, "kind": "ces"}, content_type=JSON)
    assert got.status_code == 422 and "kind" in got.content.decode()
    got = client.post(
        f"{API}/invitations", {"contact": contact.pk, "kind": "nps", "valid_days": 9999}, content_type=JSON
    )
    assert got.status_code == 422 and "valid_days" in got.content.decode()
    got = client.post(f"{API}/invitations", {"contact": 10**12, "kind": "nps"}, content_type=JSON)
    assert got.status_code == 404
    got = client.get(f"{API}/answers?quarter=banana")
    assert got.status_code == 422 and "quarter" in got.content.decode()  # not silently every quarter
    assert not SurveyInvitation.objects.filter(contact=contact).exists()


def test_the_public_link_reveals_nothing_beyond_its_own_contact(book: Any, api_for: Any) -> None:
    """The link is the only way to answer (the API has no answer route) and shows the contact's first name and
    account only: not their email or surname, nor any other contact's name, answer or link."""
    inv = _invite(book.account, name="Dana Customer")
    other = _invite(book.account, name="Olive Otherperson", score=2)
    got = Client().get(inv.path)
    body = got.content.decode()
    assert got.status_code == 200 and "Hello Dana" in body
    for secret in ("Customer", inv.contact.email, "Olive", "Otherperson", other.token, other.contact.email, "says"):
        assert secret not in body.replace(book.account.name, "")
    # answering one link never touches another's answer
    assert Client().post(inv.path, {"score": "10"}).status_code == 303
    assert SurveyAnswer.objects.get(invitation=other).score == 2
    # the API has no route to answer: only the link
    assert api_for(book.admin).post(f"{API}/invitations/{inv.pk}/answer", {"score": 1}).status_code in (404, 405)
    assert SurveyAnswer.objects.get(invitation=inv).score == 10


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        got = client.get(url)
        assert got.status_code == 200, got.content
    return len(ctx.captured_queries)


def test_query_counts_stay_constant_as_data_grows(book: Any, api_for: Any) -> None:
    client = api_for(book.manager)
    _invite(book.account, name="First One", score=9)
    _invite(book.account, kind="csat", name="First Two", score=4)
    urls = [
        f"{API}/invitations",
        f"{API}/answers",
        f"{API}/results?group=quarter",
        f"{API}/results?group=tam",
        f"{API}/results?group=account",
    ]
    client.get(f"{API}/invitations")  # the token's first use stamps it (one UPDATE): not part of the count
    before = [_queries(client, u) for u in urls]
    for i in range(12):
        account = AccountFactory(region=book.east, tam=book.tam if i % 2 else book.tam2)
        _invite(account, name=f"Many {i}", score=i % 11)
        _invite(account, kind="csat", name=f"More {i}", score=1 + i % 5)
        _invite(account, name=f"Open {i}")
    assert [_queries(client, u) for u in urls] == before
    detail = _queries(client, f"{API}/invitations/{SurveyInvitation.objects.order_by('pk').first().pk}")  # type: ignore[union-attr]
    assert detail == _queries(client, f"{API}/invitations/{SurveyInvitation.objects.order_by('pk').last().pk}")  # type: ignore[union-attr]
