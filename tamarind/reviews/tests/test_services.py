"""Reviews as data: the scheduler job, opening (checklists from live data), decisions, completion, 1:1 agendas."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.health.models import HealthScore
from tamarind.onboarding.models import Onboarding
from tamarind.reviews import checklists, services
from tamarind.reviews.models import (
    Decision,
    OccurrenceStatus,
    ReviewItem,
    ReviewKind,
    ReviewOccurrence,
    ReviewSchedule,
)
from tamarind.reviews.selectors import review_settings
from tamarind.reviews.tests.factories import occurrence
from tamarind.testing.factories import AccountFactory, UserFactory
from tamarind.triage.models import Escalation, TriageCase


def _health(account, color, *, stale=False, score=None):
    return HealthScore.objects.create(
        account=account,
        score=score or {"red": 30, "yellow": 60, "green": 90}[color],
        color=color,
        stale=stale,
        model_version=1,
    )


# --- the scheduler job ---------------------------------------------------------------------------------------------


def test_schedule_job_creates_schedules_and_occurrences_once(book):
    today = dt.date(2026, 3, 4)
    first = services.occurrences_schedule(today=today)
    assert first["schedules_created"] == 2 * len(ReviewKind.values)
    assert first["occurrences_created"] > 0
    again = services.occurrences_schedule(today=today)
    assert again == {"schedules_created": 0, "occurrences_created": 0}
    # A 1:1 per active TAM of the region on each weekly date; none for another region's TAM.
    one_on_ones = ReviewOccurrence.objects.filter(kind=ReviewKind.ONE_ON_ONE, region=book.east)
    assert set(one_on_ones.values_list("subject_id", flat=True)) == {book.tam.pk, book.tam2.pk}
    weekly_days = sorted(set(one_on_ones.values_list("due_on", flat=True)))
    assert all((b - a).days == 7 for a, b in itertools.pairwise(weekly_days))
    assert max(weekly_days) <= today + dt.timedelta(days=review_settings().schedule_horizon_days)
    occ = one_on_ones.first()
    assert occ.owner_id == book.manager.pk


def test_changing_a_cadence_replans_untouched_future_occurrences_and_keeps_held_ones(
    book, django_capture_on_commit_callbacks
):
    services.occurrences_schedule()
    schedule = ReviewSchedule.objects.get(region=book.east, kind=ReviewKind.NEW_ACCOUNTS)
    held = ReviewOccurrence.objects.filter(schedule=schedule).order_by("due_on").first()
    services.review_open(actor=book.manager, review=held)
    with django_capture_on_commit_callbacks(execute=True):
        services.review_schedule_update(actor=book.manager, schedule=schedule, changes={"cadence": "monthly"})
    assert ReviewOccurrence.objects.filter(pk=held.pk).exists()
    assert AuditEvent.objects.filter(object_type="reviews.reviewschedule").exists()


def test_invalid_cadence_or_time_zone_is_refused_and_others_cannot_change_it(book):
    services.review_schedules_ensure()
    schedule = ReviewSchedule.objects.get(region=book.east, kind=ReviewKind.ONBOARDING)
    with pytest.raises(ValidationFailed) as exc:
        services.review_schedule_update(actor=book.manager, schedule=schedule, changes={"cadence": "daily"})
    assert "Unknown cadence" in exc.value.errors["cadence"][0]
    with pytest.raises(ValidationFailed):
        services.review_schedule_update(actor=book.admin, schedule=schedule, changes={"time_zone": "Mars/Base"})
    for outsider in (book.other_manager, book.tam, book.director):
        with pytest.raises(PermissionDenied):
            services.review_schedule_update(actor=outsider, schedule=schedule, changes={"cadence": "weekly"})


# --- checklists against the live selectors -------------------------------------------------------------------------


def test_triage_checklist_lists_the_same_accounts_as_the_live_filters(book):
    red = AccountFactory(name="Red Co", region=book.east, tam=book.tam)
    yellow = AccountFactory(name="Yellow Co", region=book.east, tam=book.tam2)
    stale = AccountFactory(name="Stale Co", region=book.east, tam=book.tam)
    _health(red, "red")
    _health(yellow, "yellow")
    _health(stale, "green", stale=True)
    _health(book.other_account, "red")  # another region
    case = TriageCase.objects.create(
        account=red, health_color="red", last_update_at=timezone.now() - dt.timedelta(days=20)
    )
    occ = occurrence(book.east)
    services.review_open(actor=book.manager, review=occ)
    items = {
        s: set(ReviewItem.objects.filter(occurrence=occ, section=s).values_list("account_id", flat=True))
        for s in ("red", "yellow", "stale", "triage_due")
    }
    from tamarind.accounts.models import Account

    assert (
        items["red"]
        == set(Account.objects.filter(region=book.east, health__color="red").values_list("pk", flat=True))
        == {red.pk}
    )
    assert items["yellow"] == {yellow.pk}
    assert items["stale"] == set(
        Account.objects.filter(region=book.east, health__stale=True).values_list("pk", flat=True)
    )
    assert items["triage_due"] == {case.account_id}
    occ.refresh_from_db()
    totals = {s["key"]: s["total"] for s in occ.sections}
    assert totals["red"] == 1 and totals["yellow"] == 1 and totals["stale"] == 1 and totals["triage_due"] == 1


def test_onboarding_and_new_account_checklists(book):
    from tamarind.assignment.models import Qualification

    today = timezone.localdate()
    late = AccountFactory(name="Late Co", region=book.east, tam=book.tam)
    Onboarding.objects.create(account=late, tam=book.tam, onboarding_start=today - dt.timedelta(days=60))
    nobody = AccountFactory(name="Nobody Co", region=book.east, tam=None)
    Onboarding.objects.create(account=nobody, tam=None, onboarding_start=today)
    Qualification.objects.filter(account=nobody).delete()
    Qualification.objects.create(account=nobody, qualifies=True, rule_version=1, qualified_at=timezone.now())
    occ = occurrence(book.east, ReviewKind.ONBOARDING)
    services.review_open(actor=book.manager, review=occ)
    assert set(occ.items.filter(section="over_target").values_list("account_id", flat=True)) == {late.pk}
    assert set(occ.items.filter(section="unassigned").values_list("account_id", flat=True)) == {nobody.pk}
    staffing = occurrence(book.east, ReviewKind.NEW_ACCOUNTS)
    services.review_open(actor=book.manager, review=staffing)
    from tamarind.assignment.selectors import staffing_list

    assert set(staffing.items.values_list("account_id", flat=True)) == set(
        staffing_list(book.manager).values_list("account_id", flat=True)
    )


def test_success_plan_sections_say_when_the_app_is_not_installed(book, monkeypatch):
    from django.apps import apps

    real = apps.is_installed
    monkeypatch.setattr(checklists.apps, "is_installed", lambda name: name != "tamarind.success" and real(name))
    ctx = checklists.ChecklistContext(region_id=book.east.pk, today=timezone.localdate(), settings=review_settings())
    built = checklists.build(ReviewKind.SUCCESS_PLAN, ctx)
    assert built and all(s.items == [] for s in built)
    assert all("available once success plans are installed" in s.notice.lower() for s in built)


def test_success_plan_sections_list_the_regions_plans_once_installed(book):
    """Success plans are installed: the section lists the region's accounts whose plan is not green, no notice."""
    ctx = checklists.ChecklistContext(region_id=book.east.pk, today=timezone.localdate(), settings=review_settings())
    built = {s.key: s for s in checklists.build(ReviewKind.SUCCESS_PLAN, ctx)}
    assert built["plans_not_green"].notice == ""
    # Acme Corp (east, no plan) is listed; Globex (west) is not.
    assert {item.account_id for item in built["plans_not_green"].items} == {book.account.pk}


def test_registry_has_every_kind_and_a_new_provider_shows_up(book, monkeypatch):
    assert all(checklists.REGISTRY[k] for k in ReviewKind.values)
    monkeypatch.setitem(checklists.REGISTRY, ReviewKind.RENEWAL, list(checklists.REGISTRY[ReviewKind.RENEWAL]))
    checklists.register(ReviewKind.RENEWAL, "extra", "Extra")(
        lambda ctx: checklists.SectionResult(items=[checklists.ItemDraft(key="x:1", label="Extra item")])
    )
    occ = occurrence(book.east, ReviewKind.RENEWAL)
    services.review_open(actor=book.manager, review=occ)
    assert occ.items.filter(section="extra", label="Extra item").exists()


def test_renewal_checklist_from_the_account_book(book):
    today = timezone.localdate()
    soon = AccountFactory(
        name="Soon Co", region=book.east, tam=book.tam, next_renewal_date=today + dt.timedelta(days=20)
    )
    AccountFactory(name="Far Co", region=book.east, tam=book.tam, next_renewal_date=today + dt.timedelta(days=400))
    occ = occurrence(book.east, ReviewKind.RENEWAL)
    services.review_open(actor=book.manager, review=occ)
    assert soon.pk in set(occ.items.filter(section="renewals").values_list("account_id", flat=True))
    assert not occ.items.filter(account_name="Far Co").exists()


# --- decisions and completion -----------------------------------------------------------------------------------------


def _opened(book, kind=ReviewKind.TRIAGE_HEALTH, **kw):
    _health(book.account, "red")
    occ = occurrence(book.east, kind, **kw)
    return services.review_open(actor=book.manager, review=occ)


def test_completion_is_refused_while_items_are_undecided_then_succeeds(book):
    occ = _opened(book)
    item = occ.items.get(section="red")
    with pytest.raises(ValidationFailed) as exc:
        services.review_complete(actor=book.manager, review=occ)
    assert "carried over" in str(exc.value)
    services.review_item_decide(actor=book.manager, review=occ, item=item, decision=Decision.CARRIED_OVER)
    done = services.review_complete(actor=book.manager, review=occ)
    assert done.status == OccurrenceStatus.COMPLETED and done.completed_at is not None
    with pytest.raises(ValidationFailed):
        services.review_item_add(actor=book.manager, review=done, label="late")


def test_decisions_create_a_task_open_a_case_and_escalate(book):
    second = AccountFactory(name="Second Co", region=book.east, tam=book.tam)
    third = AccountFactory(name="Third Co", region=book.east, tam=book.tam)
    _health(second, "red")
    _health(third, "red")
    occ = _opened(book)
    items = {i.account_id: i for i in occ.items.filter(section="red")}
    task_item = services.review_item_decide(
        actor=book.manager,
        review=occ,
        item=items[book.account.pk],
        decision=Decision.TASK,
        owner=book.tam.pk,
        note="Call the sponsor",
    )
    task = Task.objects.get(pk=task_item.task_id)
    assert (task.type, task.owner_id, task.account_id, task.title) == (
        TaskType.REVIEW_ACTION,
        book.tam.pk,
        book.account.pk,
        "Call the sponsor",
    )
    services.review_item_decide(actor=book.manager, review=occ, item=items[second.pk], decision=Decision.CASE)
    assert TriageCase.objects.open().filter(account=second).exists()
    services.review_item_decide(
        actor=book.manager, review=occ, item=items[third.pk], decision=Decision.ESCALATED, note="Exec call"
    )
    assert Escalation.objects.filter(account=third, title="Exec call").exists()
    with pytest.raises(ValidationFailed):  # a final decision is not changed
        services.review_item_decide(actor=book.manager, review=occ, item=task_item, decision=Decision.NOTED)
    with pytest.raises(ValidationFailed):
        services.review_item_decide(actor=book.manager, review=occ, item=items[third.pk], decision="maybe")
    assert AuditEvent.objects.filter(object_type="reviews.reviewitem").count() >= 3


def test_a_task_needs_an_owner_the_manager_may_give_tasks_to(book):
    occ = _opened(book)
    item = occ.items.get(section="red")
    with pytest.raises(ValidationFailed):
        services.review_item_decide(actor=book.manager, review=occ, item=item, decision=Decision.TASK)
    with pytest.raises(PermissionDenied):
        services.review_item_decide(
            actor=book.manager, review=occ, item=item, decision=Decision.TASK, owner=book.other_tam.pk
        )


def test_only_the_regions_manager_and_admins_run_a_review(book):
    occ = occurrence(book.east)
    for person in (book.director, book.other_manager, book.tam):
        with pytest.raises(PermissionDenied):
            services.review_open(actor=person, review=occ)
    services.review_open(actor=book.admin, review=occ)


def test_a_completed_review_never_changes_when_the_data_later_does(book):
    occ = _opened(book)
    for item in occ.items.all():
        services.review_item_decide(actor=book.manager, review=occ, item=item, decision=Decision.NOTED)
    services.review_complete(actor=book.manager, review=occ)
    before = list(occ.items.order_by("pk").values("label", "facts", "account_name", "decision", "section"))
    sections = ReviewOccurrence.objects.get(pk=occ.pk).sections
    # The data moves on: the account turns green, is renamed, a new red account appears, the job runs again.
    HealthScore.objects.filter(account=book.account).update(color="green", score=95)
    book.account.name = "Acme Renamed"
    book.account.arr = Decimal("999999")
    book.account.save(update_fields=["name", "arr"])
    _health(AccountFactory(name="New Red", region=book.east, tam=book.tam), "red")
    services.occurrences_schedule()
    services.review_open(actor=book.manager, review=occ)  # no effect on a completed review
    after = list(occ.items.order_by("pk").values("label", "facts", "account_name", "decision", "section"))
    assert after == before and ReviewOccurrence.objects.get(pk=occ.pk).sections == sections
    assert "Acme Corp" in before[0]["label"] and before[0]["facts"]["health"] == "red"


# --- the 1:1 agenda ------------------------------------------------------------------------------------------------


def test_one_on_one_agenda_is_the_tams_book_and_carries_open_action_items_over(book):
    _health(book.account, "red")
    mine = AccountFactory(name="Mine Yellow", region=book.east, tam=book.tam)
    _health(mine, "yellow")
    _health(AccountFactory(name="Colleague Red", region=book.east, tam=book.tam2), "red")
    today = timezone.localdate()
    last = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam, due_on=today - dt.timedelta(days=7))
    last = services.review_open(actor=book.manager, review=last)
    assert set(last.items.values_list("account_name", flat=True)) >= {"Acme Corp", "Mine Yellow"}
    assert not last.items.filter(account_name="Colleague Red").exists()
    red_item = last.items.get(section="red")
    services.review_item_decide(
        actor=book.manager, review=last, item=red_item, decision=Decision.TASK, owner=book.tam.pk
    )
    for item in last.items.filter(decision=""):
        services.review_item_decide(actor=book.manager, review=last, item=item, decision=Decision.NOTED)
    services.review_complete(actor=book.manager, review=last)
    # Before the next one, the TAM adds a topic of their own; at the meeting the open task comes back.
    nxt = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam, due_on=today)
    services.review_item_add(actor=book.tam, review=nxt, label="Ask about the training budget")
    services.review_notes_update(actor=book.tam, review=nxt, subject_notes="My week was busy")
    with pytest.raises(PermissionDenied):
        services.review_notes_update(actor=book.tam, review=nxt, notes="manager side")
    with pytest.raises(PermissionDenied):
        services.review_item_add(actor=book.tam2, review=nxt, label="not mine")
    services.review_open(actor=book.manager, review=nxt)
    carried = nxt.items.get(section="carried_over")
    assert carried.task_id == red_item.task_id and carried.carried_from_id == red_item.pk
    assert nxt.items.filter(section="added", label="Ask about the training budget").exists()
    # Once the task is done, the one after does not carry it again.
    Task.objects.filter(pk=red_item.task_id).update(status=TaskStatus.DONE, completed_at=timezone.now())
    later = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam, due_on=today + dt.timedelta(days=7))
    services.review_open(actor=book.manager, review=later)
    assert not later.items.filter(section="carried_over", task_id=red_item.task_id).exists()


def test_attendees_are_set_by_the_manager(book):
    occ = _opened(book)
    services.review_attendees_set(actor=book.manager, review=occ, attendee_ids=[book.manager.pk, book.tam.pk])
    assert set(occ.attendees.values_list("pk", flat=True)) == {book.manager.pk, book.tam.pk}
    with pytest.raises(ValidationFailed):
        services.review_attendees_set(actor=book.manager, review=occ, attendee_ids=["x"])
    with pytest.raises(PermissionDenied):
        services.review_attendees_set(actor=book.tam, review=occ, attendee_ids=[book.tam.pk])


def test_an_inactive_person_gets_no_one_on_one(book):
    UserFactory(full_name="Gone Tam", role="tam", region=book.east, is_active=False)
    services.occurrences_schedule()
    assert not ReviewOccurrence.objects.filter(subject__full_name="Gone Tam").exists()


def test_renewal_forecasts_come_from_renewals_riskiest_first(book):
    """Renewals are installed: the renewal review lists the region's open renewals up to the end of the second
    fiscal quarter after this one, riskiest forecast first; closed, far and other regions' renewals are left out;
    a 1:1 lists only its TAM's."""
    from tamarind.renewals.models import Forecast, RenewalOutcome, RenewalStatus
    from tamarind.renewals.tests.factories import RenewalFactory

    today = timezone.localdate()
    other_tam = UserFactory(full_name="Other Tam", role="tam")
    mine = AccountFactory(name="Mine Co", region=book.east, tam=book.tam)
    theirs = AccountFactory(name="Theirs Co", region=book.east, tam=other_tam)
    likely = RenewalFactory(account=mine, renewal_date=today + dt.timedelta(days=10), forecast=Forecast.LIKELY)
    risky = RenewalFactory(
        account=theirs,
        renewal_date=today + dt.timedelta(days=40),
        forecast=Forecast.AT_RISK,
        previous_forecast=Forecast.LIKELY,
        forecast_reason="Champion left",
    )
    RenewalFactory(
        account=mine,
        renewal_date=today + dt.timedelta(days=5),
        status=RenewalStatus.CLOSED,
        outcome=RenewalOutcome.RENEWED_FLAT,
        new_arr=Decimal("120000"),
        closed_at=timezone.now(),
    )
    RenewalFactory(account=mine, renewal_date=today + dt.timedelta(days=400))
    RenewalFactory(account=book.other_account, renewal_date=today + dt.timedelta(days=10))

    ctx = checklists.ChecklistContext(region_id=book.east.pk, today=today, settings=review_settings())
    built = {s.key: s for s in checklists.build(ReviewKind.RENEWAL, ctx)}
    forecast = built["forecast"]
    assert forecast.notice == ""
    assert [i.label.split(":")[0] for i in forecast.items] == ["Theirs Co", "Mine Co"]
    first = forecast.items[0]
    assert first.link == f"/renewals/{risky.pk}/"
    assert first.facts["forecast"] == "At risk" and first.facts["was"] == "Likely"
    assert first.facts["reason"] == "Champion left"
    assert forecast.items[1].facts["was"] is None and forecast.items[1].link == f"/renewals/{likely.pk}/"

    one_on_one = checklists.ChecklistContext(
        region_id=book.east.pk, today=today, settings=review_settings(), tam=book.tam
    )
    sections = {s.key: s for s in checklists.build(ReviewKind.RENEWAL, one_on_one)}
    assert [i.account_id for i in sections["forecast"].items] == [mine.pk]
