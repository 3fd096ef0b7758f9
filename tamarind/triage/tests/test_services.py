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


def test_a_case_follows_its_accounts_color_now_for_its_cadence(book):
    """A case opened Yellow whose account has since turned Red is due on the red cadence (and the other way round);
    an account without a score keeps the color the case opened with. SQL (board filter, indicator) and Python
    (the case page, the API) agree."""
    from tamarind.health.models import HealthScore

    now = timezone.now()
    turned_red = TriageCaseFactory(
        account=book.account, health_color="yellow", last_update_at=now - dt.timedelta(days=15)
    )
    HealthScore.objects.create(account=book.account, score=20, color="red", model_version=1)
    calmed = TriageCaseFactory(
        account=book.other_account, health_color="red", last_update_at=now - dt.timedelta(days=15)
    )
    HealthScore.objects.create(account=book.other_account, score=60, color="yellow", model_version=1)
    unscored = TriageCaseFactory(
        account=AccountFactory(region=book.east, tam=book.tam),
        health_color="red",
        last_update_at=now - dt.timedelta(days=15),
    )
    s = selectors.triage_settings()
    assert set(TriageCase.objects.overdue(s)) == {turned_red, unscored}
    fetched = {c.pk: c for c in TriageCase.objects.with_related()}
    assert [fetched[c.pk].is_overdue(s) for c in (turned_red, calmed, unscored)] == [True, False, True]
    assert fetched[turned_red.pk].cadence_color == "red" and fetched[unscored.pk].cadence_color == "red"


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
    with django_assert_max_num_queries(14):  # the task insert is a COPY through a temporary table on PostgreSQL
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


def test_reassign_audits_and_notifies_the_new_owner(book):
    from tamarind.notifications.models import Notification

    case = services.case_open(actor=book.tam, account=book.account)
    TriageCase.objects.filter(pk=case.pk).update(last_update_at=timezone.now() - dt.timedelta(days=40))
    case.refresh_from_db()
    services.case_reassign(actor=book.tam, case=case, owner=book.tam2)
    case.refresh_from_db()
    assert case.owner == book.tam2 and not case.is_overdue(selectors.triage_settings())
    event = AuditEvent.objects.for_object("triage.triagecase", case.pk).order_by("-id").first()
    assert event.before == {"owner": book.tam.pk} and event.after == {"owner": book.tam2.pk}
    note = Notification.objects.get(recipient=book.tam2)
    assert note.url == f"/triage/{case.pk}/" and note.account_id == book.account.pk
    assert note.body == "Tara Tam gave you this triage case about Acme Corp."
    # Taking it oneself notifies no one; handing it back notifies again.
    services.case_reassign(actor=book.manager, case=case, owner=book.manager)
    assert not Notification.objects.filter(recipient=book.manager).exists()
    services.case_reassign(actor=book.manager, case=case, owner=book.tam2)
    assert Notification.objects.filter(recipient=book.tam2).count() == 2
    # The same owner again changes nothing and notifies no one.
    before = AuditEvent.objects.count()
    services.case_reassign(actor=book.manager, case=case, owner=book.tam2.pk)
    assert AuditEvent.objects.count() == before and Notification.objects.filter(recipient=book.tam2).count() == 2


def test_reassign_refuses_who_cannot_own(book):
    from tamarind.notifications.models import Notification

    case = services.case_open(actor=book.tam, account=book.account)
    for bad in (book.other_tam, book.sal, book.director, "nobody", 2**70):
        with pytest.raises(ValidationFailed) as exc:
            services.case_reassign(actor=book.tam, case=case, owner=bad)
        assert "owner" in exc.value.errors
    case.refresh_from_db()
    assert case.owner == book.tam and not Notification.objects.exists()
    with pytest.raises(PermissionDenied):
        services.case_reassign(actor=book.director, case=case, owner=book.tam2)


def test_escalation_owner_notified_note_and_close(book):
    from tamarind.notifications.models import Notification

    esc = services.escalation_open(
        actor=book.manager, account=book.account, data={"title": "Outage", "severity": "high", "owner": book.tam.pk}
    )
    note = Notification.objects.get(recipient=book.tam)
    assert note.url == f"/triage/escalations/{esc.pk}/" and "Escalation (High): Outage" in note.title
    services.escalation_open(actor=book.tam, account=book.account, data={"title": "Mine"})
    assert Notification.objects.count() == 1  # opened for oneself: nobody told
    Escalation.objects.filter(pk=esc.pk).update(last_update_at=timezone.now() - dt.timedelta(days=3))
    esc.refresh_from_db()
    assert esc.is_overdue(selectors.triage_settings())
    services.escalation_note_add(actor=book.tam, escalation=esc, text="Patch on staging")
    assert not esc.is_overdue(selectors.triage_settings())
    with pytest.raises(ValidationFailed):
        services.escalation_note_add(actor=book.tam, escalation=esc, text="  ")
    services.escalation_update(actor=book.tam, escalation=esc, changes={"owner": book.tam2.pk})
    assert Notification.objects.filter(recipient=book.tam2).count() == 1
    services.escalation_resolve(actor=book.manager, escalation=esc, note="Fixed in 16.2")
    esc.refresh_from_db()
    assert esc.status == "resolved" and esc.resolved_at is not None
    history = selectors.escalation_history(escalation=esc)
    assert [h.note for h in history][:2] == ["Fixed in 16.2", ""]
    assert ("owner", "Tara Tam", "Theo Tam") in [(label, b, a) for h in history for label, b, a in h.changes]
    assert history[-1].actor_name == "Mia Manager"


def test_owner_choices_follow_the_policy(book):
    other = AccountFactory(region=book.west, tam=book.tam)  # a TAM reads an account they own elsewhere
    choices = selectors.owner_choices(accounts=[book.account, other])
    assert set(choices[book.account.pk]) == {book.admin, book.manager, book.tam, book.tam2}
    assert set(choices[other.pk]) == {book.admin, book.other_manager, book.other_tam, book.tam}
    assert selectors.owner_choices(accounts=[]) == {}


def test_handover_helper_is_the_tasks_too(book):
    """The one hand-over notification: tasks and triage cases word it alike."""
    from tamarind.notifications.models import Notification
    from tamarind.notifications.services import Handover, notify_handed_over

    made = notify_handed_over(
        [Handover(recipient_id=book.tam.pk, noun="thing", title="T", url="/x/", dedupe_key="k")],
        actor=None,
        kind="general",
    )
    assert made == 1 and Notification.objects.get().body == "A rule gave you this thing."
