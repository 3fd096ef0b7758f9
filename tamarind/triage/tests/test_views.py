from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.testing.factories import AccountFactory
from tamarind.triage.models import CaseStatus, TriageCase
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true", "HX-Target": "triage-board"}


def _cases(book, n):
    for _ in range(n):
        account = AccountFactory(region=book.east, tam=book.tam)
        TriageCaseFactory(account=account, owner=book.tam, risk_reason="competition")


def test_board_shows_columns_and_overdue(book, client_for):
    old = timezone.now() - dt.timedelta(days=20)
    TriageCaseFactory(account=book.account, owner=book.tam, status="investigating", last_update_at=old)
    r = client_for(book.manager).get("/triage/")
    body = r.content.decode()
    assert r.status_code == 200
    for label in ("New", "Investigating", "Action plan", "Monitoring", "Closed"):
        assert f">{label} <" in body
    assert "update overdue" in body and "Acme Corp" in body
    # Outsiders see an empty board.
    assert "Acme Corp" not in client_for(book.other_manager).get("/triage/").content.decode()


def test_board_filters(book, client_for):
    TriageCaseFactory(account=book.account, owner=book.tam, risk_reason="competition")
    other = AccountFactory(name="Zenith", region=book.east, tam=book.tam2)
    TriageCaseFactory(account=other, owner=book.tam2, risk_reason="loss_of_budget")
    c = client_for(book.admin)
    body = c.get("/triage/?risk_reason=loss_of_budget", headers=HX).content.decode()
    assert "Zenith" in body and "Acme Corp" not in body
    body = c.get(f"/triage/?tam={book.tam.pk}", headers=HX).content.decode()
    assert "Acme Corp" in body and "Zenith" not in body
    body = c.get(f"/triage/?region={book.west.pk}", headers=HX).content.decode()
    assert "Acme Corp" not in body
    r = c.get("/triage/?risk_reason=nope&tam=x")
    assert r.status_code == 200 and "Unknown risk reason" in r.content.decode()


@pytest.mark.parametrize("n", [1, 8])
def test_board_query_count_constant(book, client_for, django_assert_num_queries, n):
    _cases(book, n)
    c = client_for(book.manager)
    c.get("/triage/")
    with django_assert_num_queries(7):
        assert c.get("/triage/").status_code == 200
    with django_assert_num_queries(5):
        assert c.get("/triage/", headers=HX).status_code == 200


def test_move_by_htmx_and_close_needs_outcome(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    c = client_for(book.tam)
    r = c.post(f"/triage/{case.pk}/move/", {"status": "action_plan", "filters": "risk_reason=other"}, headers=HX)
    assert r.status_code == 200 and 'id="triage-board"' in r.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTION_PLAN
    r = c.post(f"/triage/{case.pk}/move/", {"status": "closed"}, headers=HX)
    assert r.status_code == 400 and "needs an outcome" in r.content.decode()
    r = c.post(f"/triage/{case.pk}/move/", {"status": "closed", "outcome": "lost_churn"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.outcome == "lost_churn"
    assert c.post(f"/triage/{case.pk}/move/", {"status": "bogus"}, headers=HX).status_code == 400


def test_move_read_only_403_outsider_404(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    assert client_for(book.director).post(f"/triage/{case.pk}/move/", {"status": "new"}).status_code == 403
    assert client_for(book.other_tam).post(f"/triage/{case.pk}/move/", {"status": "new"}).status_code == 404
    assert client_for(book.admin).get("/triage/99999999999999999999/").status_code == 404


def test_detail_steps_notes(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    c = client_for(book.tam)
    assert c.post(f"/triage/{case.pk}/steps/", {"text": "Exec call", "due_on": "2027-02-01"}).status_code == 302
    step = case.steps.get()
    r = c.post(f"/triage/{case.pk}/steps/{step.pk}/", {"done": "on"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "checked" in r.content.decode()
    assert c.post(f"/triage/{case.pk}/notes/", {"text": "Sponsor engaged"}).status_code == 302
    r = c.post(f"/triage/{case.pk}/", {"risk_reason": "bad"})
    assert r.status_code == 400
    body = c.get(f"/triage/{case.pk}/").content.decode()
    assert "Exec call" in body and "Sponsor engaged" in body
    assert "You can read this case" in client_for(book.sal).get(f"/triage/{case.pk}/").content.decode()


@pytest.mark.parametrize("n", [1, 6])
def test_detail_query_count_constant(book, client_for, django_assert_num_queries, n):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    from tamarind.triage import services

    for i in range(n):
        services.step_add(actor=book.tam, case=case, text=f"Step {i}")
        services.case_note_add(actor=book.tam, case=case, text=f"Note {i}")
    c = client_for(book.tam)
    c.get(f"/triage/{case.pk}/")
    with django_assert_num_queries(8):
        assert c.get(f"/triage/{case.pk}/").status_code == 200


def test_open_from_account(book, client_for):
    c = client_for(book.tam)
    assert 'href="/triage/open/' in c.get(f"/accounts/{book.account.pk}/").content.decode()
    r = c.post(f"/triage/open/{book.account.pk}/", {"risk_reason": "lack_of_adoption", "risk_type": "seat_churn"})
    case = TriageCase.objects.get(account=book.account)
    assert r.status_code == 302 and r["Location"] == f"/triage/{case.pk}/"
    # A second visit lands on the open case.
    r = c.get(f"/triage/open/{book.account.pk}/")
    assert r.status_code == 302 and r["Location"] == f"/triage/{case.pk}/"
    assert client_for(book.director).get(f"/triage/open/{book.account.pk}/").status_code == 302


def test_settings_page(book, client_for):
    data = {
        "red_update_days": 7,
        "yellow_update_days": 21,
        "critical_update_days": 1,
        "high_update_days": 2,
        "medium_update_days": 7,
        "low_update_days": 30,
    }
    assert client_for(book.admin).post("/triage/settings/", data).status_code == 302
    assert "every 7 days" in client_for(book.tam).get("/triage/settings/").content.decode()
    assert client_for(book.admin).post("/triage/settings/", {**data, "red_update_days": 0}).status_code == 400


def test_escalation_from_case(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    c = client_for(book.tam)
    assert c.post(f"/triage/{case.pk}/escalations/", {"title": "Outage", "severity": "critical"}).status_code == 302
    esc = case.escalations.get()
    assert c.post(f"/triage/escalations/{esc.pk}/", {"status": "resolved"}).status_code == 302
    esc.refresh_from_db()
    assert esc.status == "resolved"
    assert "Outage" in c.get(f"/triage/{case.pk}/").content.decode()


@pytest.mark.parametrize("n", [1, 6])
def test_escalations_page(book, client_for, django_assert_num_queries, n):
    from tamarind.triage import services

    for i in range(n):
        account = AccountFactory(region=book.east, tam=book.tam)
        services.escalation_open(actor=book.tam, account=account, data={"title": f"Esc {i}", "severity": "critical"})
    services.escalation_open(actor=book.other_tam, account=book.other_account, data={"title": "West outage"})
    from tamarind.triage.models import Escalation

    Escalation.objects.filter(title="Esc 0").update(last_update_at=timezone.now() - dt.timedelta(days=2))
    c = client_for(book.manager)
    c.get("/triage/escalations/")
    with django_assert_num_queries(4):
        body = c.get("/triage/escalations/").content.decode()
    assert "Esc 0" in body and "West outage" not in body and "update overdue" in body


def test_triage_review_task_links_to_opening_the_case(book, client_for):
    from tamarind.triage import services

    task = services.triage_propose(account_id=book.account.pk, color="red", requires_triage=False)
    assert task is not None
    c = client_for(book.tam)
    assert f'href="/triage/open/{book.account.pk}/"' in c.get(f"/tasks/{task.pk}/").content.decode()
    c.post(f"/triage/open/{book.account.pk}/", {"risk_reason": "other"})
    task.refresh_from_db()
    assert task.status == "done"
