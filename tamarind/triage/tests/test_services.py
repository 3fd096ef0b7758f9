from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.testing.factories import AccountFactory
from tamarind.triage import selectors, services
from tamarind.triage.models import CaseStatus, Escalation, Outcome, Severity, TriageCase, TriageSettings
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = pytest.mark.django_db


def test_open_defaults_and_audit(book):
    book.account.next_renewal_date = dt.date(2027, 3, 1)
    book.account.save(update_fields=["next_renewal_date"])
    case = services.case_open(
        actor=book.manager, account=book.account, data={"risk_type": "seat_churn", "health_color": "red"}
    )
    assert case.status == CaseStatus.NEW
    assert case.owner == book.tam
    assert case.renewal_date == dt.date(2027, 3, 1)
    assert AuditEvent.objects.for_object("triage.triagecase", case.pk).count() == 1


def test_one_open_case_per_account(book):
    services.case_open(actor=book.tam, account=book.account)
    with pytest.raises(ValidationFailed):
        services.case_open(actor=book.tam, account=book.account)
    with pytest.raises(IntegrityError), transaction.atomic():
        TriageCase.objects.create(account=book.account)


def test_closed_case_needs_outcome_in_the_database(book):
    with pytest.raises(IntegrityError), transaction.atomic():
        TriageCase.objects.create(account=book.account, status=CaseStatus.CLOSED, closed_at=timezone.now())


def test_open_denied_to_readers_and_other_tams(book):
    for user in (book.director, book.sal, book.sa, book.tam2):
        with pytest.raises(PermissionDenied):
            services.case_open(actor=user, account=book.account)


def test_bad_choice_is_validation_error(book):
    with pytest.raises(ValidationFailed) as exc:
        services.case_open(actor=book.tam, account=book.account, data={"risk_reason": "boredom"})
    assert "risk_reason" in exc.value.errors


def test_move_and_close_with_outcome(book):
    case = services.case_open(actor=book.tam, account=book.account)
    services.case_update(actor=book.tam, case=case, changes={"status": "investigating"})
    assert case.status == CaseStatus.INVESTIGATING
    with pytest.raises(ValidationFailed) as exc:
        services.case_update(actor=book.tam, case=case, changes={"status": "closed"})
    assert "outcome" in exc.value.errors
    services.case_close(actor=book.tam, case=case, outcome=Outcome.WON_BACK, note="Green again")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome == "won_back" and case.closed_at
    assert case.notes.count() == 1
    # A new case can now be opened; the old one cannot reopen while it is open.
    second = services.case_open(actor=book.tam, account=book.account)
    with pytest.raises(ValidationFailed):
        services.case_update(actor=book.tam, case=case, changes={"status": "new"})
    services.case_close(actor=book.manager, case=second, outcome=Outcome.LOST_CHURN)
    services.case_update(actor=book.tam, case=case, changes={"status": "monitoring"})
    case.refresh_from_db()
    assert case.outcome == "" and case.closed_at is None


def test_update_denied_for_read_only(book):
    case = services.case_open(actor=book.tam, account=book.account)
    with pytest.raises(PermissionDenied):
        services.case_update(actor=book.director, case=case, changes={"status": "investigating"})
    with pytest.raises(PermissionDenied):
        services.case_update(actor=book.tam2, case=case, changes={"status": "investigating"})


def test_no_change_writes_nothing(book):
    case = services.case_open(actor=book.tam, account=book.account)
    before = AuditEvent.objects.count()
    services.case_update(actor=book.tam, case=case, changes={"status": "new"})
    assert AuditEvent.objects.count() == before


def test_steps_and_notes_update_the_case(book):
    case = services.case_open(actor=book.tam, account=book.account)
    TriageCase.objects.filter(pk=case.pk).update(last_update_at=timezone.now() - dt.timedelta(days=40))
    case.refresh_from_db()
    settings_row = selectors.triage_settings()
    assert case.is_overdue(settings_row)
    step = services.step_add(actor=book.tam, case=case, text="Exec call", due_on="2027-01-10")
    assert step.due_on == dt.date(2027, 1, 10)
    case.refresh_from_db()
    assert not case.is_overdue(settings_row)
    services.step_complete(actor=book.manager, step=step)
    step.refresh_from_db()
    assert step.done and step.done_at
    services.case_note_add(actor=book.tam, case=case, text="Spoke with the sponsor")
    assert case.notes.count() == 1
    with pytest.raises(ValidationFailed):
        services.step_add(actor=book.tam, case=case, text="  ")


def test_overdue_thresholds_are_data(book):
    now = timezone.now()
    red = TriageCaseFactory(account=book.account, health_color="red", last_update_at=now - dt.timedelta(days=15))
    yellow = TriageCaseFactory(
        account=book.other_account, health_color="yellow", last_update_at=now - dt.timedelta(days=15)
    )
    s = selectors.triage_settings()
    assert red.is_overdue(s) and not yellow.is_overdue(s)
    assert set(TriageCase.objects.overdue(s)) == {red}
    services.triage_settings_update(actor=book.admin, changes={"yellow_update_days": 10, "red_update_days": "20"})
    s = selectors.triage_settings()
    assert s.yellow_update_days == 10 and s.red_update_days == 20
    assert set(TriageCase.objects.overdue(s)) == {yellow}
    with pytest.raises(PermissionDenied):
        services.triage_settings_update(actor=book.manager, changes={"red_update_days": 3})
    with pytest.raises(ValidationFailed):
        services.triage_settings_update(actor=book.admin, changes={"red_update_days": 0})
    assert AuditEvent.objects.filter(object_type="triage.triagesettings").count() == 1


def test_propose_raises_one_task_for_the_tam(book):
    assert services.triage_propose(account_id=book.account.pk, color="green", requires_triage=True) is None
    assert services.triage_propose(account_id=book.account.pk, color="yellow", requires_triage=False) is None
    task = services.triage_propose(account_id=book.account.pk, color="red", requires_triage=False)
    assert task is not None and task.owner == book.tam and task.type == TaskType.TRIAGE_REVIEW
    assert services.triage_propose(account_id=book.account.pk, color="yellow", requires_triage=True) is None
    assert Task.objects.filter(account=book.account, type=TaskType.TRIAGE_REVIEW).count() == 1
    # Opening the case resolves the proposal; while it is open nothing more is proposed.
    services.case_open(actor=book.tam, account=book.account)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert services.triage_propose(account_id=book.account.pk, color="red", requires_triage=False) is None


def test_propose_goes_to_the_manager_without_tam(book):
    account = AccountFactory(region=book.east, tam=None)
    task = services.triage_propose(account_id=account.pk, color="yellow", requires_triage=True)
    assert task is not None and task.owner == book.manager
    assert services.triage_propose(account_id=999999, color="red", requires_triage=False) is None


def test_escalations(book):
    esc = services.escalation_open(
        actor=book.tam, account=book.account, data={"title": "Outage", "severity": "critical"}
    )
    assert esc.owner == book.tam and esc.severity == Severity.CRITICAL
    s = selectors.triage_settings()
    Escalation.objects.filter(pk=esc.pk).update(last_update_at=timezone.now() - dt.timedelta(days=2))
    esc.refresh_from_db()
    assert esc.is_overdue(s)
    services.escalation_update(actor=book.tam, escalation=esc, changes={"note": "Fix deployed"})
    assert not esc.is_overdue(s)
    services.escalation_update(actor=book.manager, escalation=esc, changes={"status": "resolved"})
    assert esc.resolved_at is not None
    with pytest.raises(PermissionDenied):
        services.escalation_update(actor=book.sal, escalation=esc, changes={"severity": "low"})
    with pytest.raises(ValidationFailed):
        services.escalation_open(actor=book.tam, account=book.account, data={"title": ""})


def test_settings_defaults():
    s = TriageSettings()
    assert (s.case_days("red"), s.case_days("yellow"), s.case_days("")) == (14, 30, 30)
    assert [s.escalation_days(x) for x in ("critical", "high", "medium", "low")] == [1, 2, 7, 30]


def test_propose_many_in_constant_queries(book, django_assert_max_num_queries):
    accounts = [AccountFactory(region=book.east, tam=book.tam) for _ in range(6)]
    services.case_open(actor=book.tam, account=accounts[0])
    items = [(a.pk, "red", False) for a in accounts] + [(book.account.pk, "yellow", False)]
    with django_assert_max_num_queries(12):
        created = services.triage_propose_many(items)
    assert {t.account_id for t in created} == {a.pk for a in accounts[1:]}
    assert services.triage_propose_many(items) == []


def test_open_and_close_on_the_timeline(book):
    from tamarind.timeline.models import TimelineEntry

    case = services.case_open(actor=book.tam, account=book.account, data={"risk_reason": "loss_of_budget"})
    services.case_update(actor=book.tam, case=case, changes={"status": "monitoring"})
    services.case_close(actor=book.tam, case=case, outcome="won_back")
    titles = list(TimelineEntry.objects.filter(account=book.account).order_by("id").values_list("title", flat=True))
    assert titles == ["Triage case opened: Loss of budget", "Triage case closed: Won back"]
