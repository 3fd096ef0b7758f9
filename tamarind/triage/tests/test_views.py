from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.testing.factories import AccountFactory
from tamarind.triage.models import CaseStatus, Escalation, TriageCase
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true", "HX-Target": "triage-board"}


def _cases(book, n):
    for _ in range(n):
        account = AccountFactory(region=book.east, tam=book.tam)
        case = TriageCaseFactory(account=account, owner=book.tam, risk_reason="competition")
        Escalation.objects.create(account=account, case=case, title="Outage", severity="high", owner=book.tam)


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
    # Two queries more than the cases' own: who may own each card's case (the card's owner control) and the
    # cards' open escalations.
    with django_assert_num_queries(9):
        assert c.get("/triage/").status_code == 200
    with django_assert_num_queries(7):
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
    # 9: the case page's owner control and escalation form read who may own the account's triage (one query).
    with django_assert_num_queries(9):
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


def test_change_owner_on_the_case_page(book, client_for):
    from tamarind.notifications.models import Notification

    case = TriageCaseFactory(account=book.account, owner=book.tam)
    c = client_for(book.tam)
    body = c.get(f"/triage/{case.pk}/").content.decode()
    assert 'id="owner-form"' in body and "Theo Tam" in body and "Olga Tam" not in body
    r = c.post(f"/triage/{case.pk}/owner/", {"owner": book.tam2.pk}, headers={"HX-Request": "true"})
    assert (
        r.status_code == 200
        and 'id="case-owner"' in r.content.decode()
        and "Theo Tam is notified" in r.content.decode()
    )
    case.refresh_from_db()
    assert case.owner == book.tam2 and Notification.objects.filter(recipient=book.tam2).count() == 1
    # Someone who cannot own it: 400 with the reason, nothing changes.
    r = c.post(f"/triage/{case.pk}/owner/", {"owner": book.other_tam.pk}, headers={"HX-Request": "true"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    r = c.post(f"/triage/{case.pk}/owner/", {}, headers={"HX-Request": "true"})
    assert r.status_code == 400
    # Without htmx: back to the case with a message.
    r = c.post(f"/triage/{case.pk}/owner/", {"owner": book.manager.pk})
    assert r.status_code == 302 and r["Location"] == f"/triage/{case.pk}/"
    case.refresh_from_db()
    assert case.owner == book.manager


def test_change_owner_trio(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    url = f"/triage/{case.pk}/owner/"
    assert client_for(book.manager).post(url, {"owner": book.tam2.pk}).status_code == 302
    assert client_for(book.director).post(url, {"owner": book.tam.pk}).status_code == 403
    assert client_for(book.sal).post(url, {"owner": book.tam.pk}).status_code == 403
    assert client_for(book.other_tam).post(url, {"owner": book.tam.pk}).status_code == 404
    case.refresh_from_db()
    assert case.owner == book.tam2


def test_change_owner_from_a_card(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    c = client_for(book.manager)
    body = c.get("/triage/").content.decode()
    assert f'aria-label="New owner of {book.account.name}"' in body and "Owner Tara Tam" in body
    r = c.post(
        f"/triage/{case.pk}/owner/",
        {"owner": book.tam2.pk, "board": "1", "filters": "risk_reason=competition"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and 'id="triage-board"' in r.content.decode()
    case.refresh_from_db()
    assert case.owner == book.tam2
    # Read-only readers get no owner control.
    assert "New owner of" not in client_for(book.director).get("/triage/").content.decode()


def test_escalate_from_the_account_page(book, client_for):
    c = client_for(book.tam)
    assert (
        f'href="/triage/escalations/new/{book.account.pk}/"' in c.get(f"/accounts/{book.account.pk}/").content.decode()
    )
    r = c.get(f"/triage/escalations/new/{book.account.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "Critical: update daily" in body and "Medium: update every 7 days" in body
    r = c.post(
        f"/triage/escalations/new/{book.account.pk}/",
        {"title": "Pipeline outage", "severity": "critical", "description": "CI down", "owner": book.tam2.pk},
    )
    from tamarind.triage.models import Escalation

    esc = Escalation.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/triage/escalations/{esc.pk}/"
    assert esc.owner == book.tam2 and esc.case is None and esc.opened_by == book.tam
    # Bad input: 400 with the reasons, nothing written.
    r = c.post(f"/triage/escalations/new/{book.account.pk}/", {"title": "", "severity": "urgent"})
    assert r.status_code == 400 and "This field is required" in r.content.decode()
    assert Escalation.objects.count() == 1
    # The trio.
    assert client_for(book.director).get(f"/triage/escalations/new/{book.account.pk}/").status_code == 403
    assert client_for(book.sal).post(f"/triage/escalations/new/{book.account.pk}/", {"title": "x"}).status_code == 403
    assert client_for(book.other_tam).get(f"/triage/escalations/new/{book.account.pk}/").status_code == 404
    assert Escalation.objects.count() == 1


def test_escalation_page_update_overdue_and_close(book, client_for):
    from tamarind.triage import services
    from tamarind.triage.models import Escalation

    esc = services.escalation_open(actor=book.tam, account=book.account, data={"title": "Outage", "severity": "high"})
    Escalation.objects.filter(pk=esc.pk).update(last_update_at=timezone.now() - dt.timedelta(days=3))
    c = client_for(book.tam)
    body = c.get(f"/triage/escalations/{esc.pk}/").content.decode()
    assert "update overdue" in body and "updated every 2 days" in body and 'id="esc-resolve"' in body
    r = c.post(f"/triage/escalations/{esc.pk}/", {"from": "escalation", "note": "Rolling back", "severity": "medium"})
    assert r.status_code == 302 and r["Location"] == f"/triage/escalations/{esc.pk}/"
    body = c.get(f"/triage/escalations/{esc.pk}/").content.decode()
    assert "update overdue" not in body and "Rolling back" in body and "every 7 days" in body
    r = c.post(f"/triage/escalations/{esc.pk}/", {"from": "escalation", "severity": "nope"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    r = c.post(f"/triage/escalations/{esc.pk}/", {"from": "escalation", "note": "  "})
    assert r.status_code == 400 and "Write the update first" in r.content.decode()
    r = c.post(f"/triage/escalations/{esc.pk}/", {"from": "escalation", "note": "Fixed", "status": "resolved"})
    esc.refresh_from_db()
    assert esc.status == "resolved" and 'id="esc-reopen"' in c.get(f"/triage/escalations/{esc.pk}/").content.decode()
    # Readers read, outsiders do not see it.
    body = client_for(book.sal).get(f"/triage/escalations/{esc.pk}/").content.decode()
    assert "You can read this escalation" in body and 'id="esc-update"' not in body
    assert client_for(book.sal).post(f"/triage/escalations/{esc.pk}/", {"note": "x"}).status_code == 403
    assert client_for(book.other_tam).get(f"/triage/escalations/{esc.pk}/").status_code == 404


def test_case_page_escalations_show_cadence_and_overdue(book, client_for):
    from tamarind.triage import services
    from tamarind.triage.models import Escalation

    case = TriageCaseFactory(account=book.account, owner=book.tam)
    esc = services.escalation_open(actor=book.tam, account=book.account, data={"title": "Late", "severity": "critical"})
    Escalation.objects.filter(pk=esc.pk).update(last_update_at=timezone.now() - dt.timedelta(days=2))
    body = client_for(book.tam).get(f"/triage/{case.pk}/").content.decode()
    assert 'class="triage-overdue-row"' in body and ">daily<" in body and "Critical: update daily" in body


@pytest.mark.parametrize("n", [1, 6])
def test_escalation_pages_query_count_constant(book, client_for, django_assert_num_queries, n):
    from tamarind.triage import services

    esc = services.escalation_open(actor=book.tam, account=book.account, data={"title": "Outage"})
    for i in range(n):
        services.escalation_note_add(actor=book.tam, escalation=esc, text=f"Update {i}")
        services.escalation_update(actor=book.tam, escalation=esc, changes={"owner": (book.tam2, book.tam)[i % 2].pk})
        services.escalation_open(actor=book.tam, account=book.account, data={"title": f"Other {i}"})
    c = client_for(book.tam)
    c.get(f"/triage/escalations/{esc.pk}/")
    with django_assert_num_queries(7):
        assert c.get(f"/triage/escalations/{esc.pk}/").status_code == 200
    c.get(f"/triage/escalations/new/{book.account.pk}/")
    with django_assert_num_queries(6):
        assert c.get(f"/triage/escalations/new/{book.account.pk}/").status_code == 200


def test_board_overdue_by_color_is_data(book, client_for):
    """Red cases are late after 14 days, yellow (and unscored) after 30; the settings move both."""
    from tamarind.triage import services

    now = timezone.now()
    specs = [
        ("Red15", "red", 15),
        ("Red10", "red", 10),
        ("Yel20", "yellow", 20),
        ("Yel31", "yellow", 31),
        ("No31", "", 31),
    ]
    for name, color, days in specs:
        account = AccountFactory(name=name, region=book.east, tam=book.tam)
        TriageCaseFactory(
            account=account, owner=book.tam, health_color=color, last_update_at=now - dt.timedelta(days=days)
        )
    c = client_for(book.manager)

    def late() -> set[str]:
        body = c.get("/triage/?overdue=1", headers=HX).content.decode()
        return {name for name, _, _ in specs if f">{name}</a>" in body}

    assert late() == {"Red15", "Yel31", "No31"}
    body = c.get("/triage/", headers=HX).content.decode()
    assert body.count("triage-overdue-badge") == 3
    services.triage_settings_update(actor=book.admin, changes={"red_update_days": 7, "yellow_update_days": 21})
    assert late() == {"Red15", "Red10", "Yel31", "No31"}


def test_cards_show_open_escalations_and_late_ones(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    late = timezone.now() - dt.timedelta(days=3)
    Escalation.objects.create(account=book.account, case=case, title="Slow CI", severity="low", owner=book.tam)
    crit = Escalation.objects.create(
        account=book.account, case=case, title="Outage", severity="critical", owner=book.tam, last_update_at=late
    )
    Escalation.objects.create(
        account=book.account,
        case=case,
        title="Old",
        severity="critical",
        status="resolved",
        resolved_at=late,
        owner=book.tam,
    )
    body = client_for(book.manager).get("/triage/", headers=HX).content.decode()
    assert f'href="/triage/escalations/{crit.pk}/"' in body and "Escalated: Critical +1" in body
    assert "escalation update overdue" in body


def test_escalations_page_filters(book, client_for):
    from tamarind.triage import services
    from tamarind.triage.models import Escalation

    now = timezone.now()
    for title, severity, days in (("CritLate", "critical", 2), ("CritFresh", "critical", 0), ("LowOld", "low", 20)):
        esc = services.escalation_open(
            actor=book.tam, account=book.account, data={"title": title, "severity": severity}
        )
        Escalation.objects.filter(pk=esc.pk).update(last_update_at=now - dt.timedelta(days=days, hours=1))
    c = client_for(book.manager)

    def shown(query: str) -> set[str]:
        body = c.get(f"/triage/escalations/?{query}").content.decode()
        return {t for t in ("CritLate", "CritFresh", "LowOld") if f">{t}</a>" in body}

    assert shown("") == {"CritLate", "CritFresh", "LowOld"}
    assert shown("severity=critical") == {"CritLate", "CritFresh"}
    assert shown("overdue=1") == {"CritLate"}
    assert shown("severity=low&overdue=1") == set()
    r = c.get("/triage/escalations/?severity=urgent&overdue=maybe")
    body = r.content.decode()
    assert r.status_code == 200 and "Unknown severity" in body and "overdue must be 1 or 0" in body
