"""The answer link (no sign-in), the results page and the account page's Surveys panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tamarind.surveys.models import SurveyAnswer
from tamarind.surveys.services import survey_answer_submit, survey_invitation_create, survey_invitation_revoke
from tamarind.testing.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _invite(account: Any, kind: str = "nps", name: str = "Dana Customer") -> Any:
    return survey_invitation_create(contact=ContactFactory(account=account, name=name), kind=kind)


def test_link_shows_the_question_and_only_first_name_and_account(book: Any) -> None:
    inv = _invite(book.account)
    r = Client().get(inv.path)
    body = r.content.decode()
    assert r.status_code == 200 and "How likely are you to recommend" in body
    assert "Hello Dana" in body and book.account.name in body
    assert "Customer" not in body.replace(f"{book.account.name}", "") and inv.contact.email not in body
    assert body.count('name="score"') == 11


def test_answer_then_edit_then_read_only_after_a_week(book: Any) -> None:
    inv = _invite(book.account)
    c = Client()
    r = c.post(inv.path, {"score": "4", "comment": "Slow"})
    assert r.status_code == 303
    assert "can change it until" in c.get(r["Location"]).content.decode()
    assert c.post(inv.path, {"score": "8", "comment": "Better"}).status_code == 303
    assert SurveyAnswer.objects.get(invitation=inv).score == 8
    SurveyAnswer.objects.filter(invitation=inv).update(answered_at=timezone.now() - dt.timedelta(days=8))
    page = c.get(inv.path).content.decode()
    assert 'id="survey-form"' not in page and 'id="survey-score">8<' in page
    r = c.post(inv.path, {"score": "1"})
    assert r.status_code == 400 and "time is over" in r.content.decode()
    assert SurveyAnswer.objects.get(invitation=inv).score == 8


def test_bad_score_is_400_with_a_message(book: Any) -> None:
    inv = _invite(book.account, kind="csat")
    r = Client().post(inv.path, {"score": "9"})
    assert r.status_code == 400 and "Choose a score from 1 to 5" in r.content.decode()
    r = Client().post(inv.path, {"score": "3", "comment": "x" * 2001})
    assert r.status_code == 400 and "At most 2000" in r.content.decode()
    assert not SurveyAnswer.objects.exists()


def test_expired_revoked_unknown_links(book: Any) -> None:
    inv = _invite(book.account)
    inv.expires_at = timezone.now() - dt.timedelta(seconds=1)
    inv.save(update_fields=["expires_at"])
    r = Client().get(inv.path)
    assert r.status_code == 410 and "closed" in r.content.decode() and "Dana" not in r.content.decode()
    assert Client().post(inv.path, {"score": "9"}).status_code == 410
    other = _invite(book.account)
    survey_invitation_revoke(actor=book.admin, invitation=other)
    assert Client().get(other.path).status_code == 410
    assert Client().get("/s/not-a-token/").status_code == 404


def test_results_page_nps_and_links(book: Any, client_for: Any) -> None:
    for score in (10, 9, 7, 3):
        survey_answer_submit(invitation=_invite(book.account), score=score, comment=f"Said {score}")
    r = client_for(book.tam).get("/surveys/")
    body = r.content.decode()
    assert r.status_code == 200 and 'id="total-nps">25<' in body  # 2 promoters - 1 detractor of 4
    assert "Said 3" in body and "bucket=detractor" in body
    r = client_for(book.tam).get("/surveys/?bucket=detractor")
    assert "Said 3" in r.content.decode() and "Said 10" not in r.content.decode()
    # Another TAM's book is not counted for book.tam; the director sees it.
    survey_answer_submit(invitation=_invite(AccountFactory(region=book.east, tam=book.tam2)), score=0)
    assert 'id="total-nps">25<' in client_for(book.tam).get("/surveys/").content.decode()
    assert 'id="total-nps">0<' in client_for(book.director).get("/surveys/").content.decode()


def _seed(book: Any, n: int) -> None:
    for i in range(n):
        account = AccountFactory(region=book.east, tam=book.tam)
        survey_answer_submit(invitation=_invite(account, kind="nps" if i % 2 else "csat"), score=2 + i % 3, comment="c")


def test_results_page_queries_constant(book: Any, client_for: Any, django_assert_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(book.tam)
    _seed(book, 2)
    c.get("/surveys/")
    with CaptureQueriesContext(connection) as small:
        c.get("/surveys/")
    _seed(book, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        c.get("/surveys/")


def test_account_panel_and_its_queries_constant(book: Any, client_for: Any, django_assert_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(book.tam)
    url = f"/accounts/{book.account.pk}/"
    survey_answer_submit(invitation=_invite(book.account), score=10, comment="Lovely")
    _invite(book.account)
    c.get(url)
    with CaptureQueriesContext(connection) as small:
        body = c.get(url).content.decode()
    assert 'id="account-nps">100<' in body and "Lovely" in body and "Send survey" in body
    # More answers and pending invitations, inserted directly (no audit events or tasks, which other panels show).
    from tamarind.surveys.models import SurveyInvitation

    now = timezone.now()
    for score in (0, 1, 2, 9, 10):
        for answered in (True, False):
            contact = ContactFactory(account=book.account)
            inv = SurveyInvitation.objects.create(
                contact=contact, account=book.account, kind="nps", created_at=now, expires_at=now + dt.timedelta(days=9)
            )
            if answered:
                SurveyAnswer.objects.create(
                    invitation=inv, account=book.account, kind="nps", score=score, answered_at=now, updated_at=now
                )
    with django_assert_num_queries(len(small.captured_queries)):
        c.get(url)


def test_staff_send_and_revoke_from_the_account_page(book: Any, client_for: Any) -> None:
    contact = ContactFactory(account=book.account, name="Pat Buyer")
    c = client_for(book.tam)
    r = c.post(f"/surveys/accounts/{book.account.pk}/invite/", {"contact": contact.pk, "kind": "csat"})
    assert r.status_code == 302
    inv = contact.survey_invitations.get()
    assert inv.kind == "csat" and inv.source == "web"
    assert c.post(f"/surveys/invitations/{inv.pk}/revoke/").status_code == 302
    inv.refresh_from_db()
    assert inv.revoked_at is not None
    other = ContactFactory(account=AccountFactory(region=book.west))
    r = c.post(f"/surveys/accounts/{book.account.pk}/invite/", {"contact": other.pk, "kind": "nps"})
    assert r.status_code == 303 and not other.survey_invitations.exists()
