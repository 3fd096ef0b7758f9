"""Success services: plans, objectives, tasks, reviews, EBRs, settings; colors and rule tasks follow the changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.accounts.services import account_update
from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.scheduler.models import JobRun
from tamarind.success import services
from tamarind.success.models import (
    Ebr,
    Objective,
    PlanReview,
    PlanTask,
    PlanTemplate,
    PlanTemplateObjective,
    SuccessPlan,
    SuccessSettings,
)
from tamarind.success.tests.factories import ObjectiveFactory, SuccessPlanFactory

ANSWERS = {f"q{i}": "yes" for i in range(1, 7)} | {
    "verdict": "strong",
    "coaching": "Keep going",
    "q2_notes": "SA agrees",
}


def _plan(book, **kw):  # type: ignore[no-untyped-def]
    return services.success_plan_create(
        actor=book.tam,
        account=book.account,
        data={"status": "active", "strategy": "S", "highlights": "H", "start_on": "2026-01-01", **kw},
    )


def _counts() -> tuple[int, ...]:
    return (
        SuccessPlan.objects.count(),
        Objective.objects.count(),
        PlanTask.objects.count(),
        AuditEvent.objects.count(),
    )


def test_create_plan_from_template_and_color(book) -> None:  # type: ignore[no-untyped-def]
    template = PlanTemplate.objects.create(name="Enterprise", segment="enterprise")
    PlanTemplateObjective.objects.create(template=template, name="Adoption", tasks="Kickoff\nTraining")
    plan = _plan(book)
    assert plan.template == template
    assert [o.name for o in plan.objectives.all()] == ["Adoption"]
    assert PlanTask.objects.filter(objective__plan=plan).count() == 2
    # Enterprise P1 needs one open objective: the template's (status New) counts.
    assert plan.color == "green"


def test_no_objectives_is_red_and_raises_p1_task_closed_when_green(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    assert plan.color == "red"
    assert "no objectives" in plan.color_reasons
    task = Task.objects.get(account=book.account, type=TaskType.SUCCESS_PLAN, reason=services.REASON_P1)
    assert task.owner == book.tam and task.status == TaskStatus.OPEN
    assert task.why["data"] == {"color": "red"}
    services.objective_create(actor=book.tam, plan=plan, data={"name": "Roll out CI"})
    plan.refresh_from_db()
    assert plan.color == "green"
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_second_current_plan_refused(book) -> None:  # type: ignore[no-untyped-def]
    _plan(book)
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        _plan(book)
    assert "status" in exc.value.errors
    assert _counts() == before


def test_archived_plan_is_read_only_and_a_new_one_may_start(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    services.success_plan_archive(actor=book.tam, plan=plan)
    with pytest.raises(PermissionDenied):
        services.success_plan_update(actor=book.tam, plan=plan, changes={"strategy": "x"})
    second = _plan(book)
    assert second.pk != plan.pk


def test_close_objective_needs_outcome(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    objective = services.objective_create(actor=book.tam, plan=plan, data={"name": "Adopt"})
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.objective_update(actor=book.tam, objective=objective, changes={"status": "closed"})
    assert "outcome" in exc.value.errors
    assert _counts() == before
    objective.refresh_from_db()
    assert objective.status == "new"
    services.objective_update(
        actor=book.tam, objective=objective, changes={"status": "closed", "outcome": "10 teams onboarded"}
    )
    objective.refresh_from_db()
    assert objective.closed_at is not None
    plan.refresh_from_db()
    assert plan.color == "yellow"
    assert "0 open objectives; Enterprise priority 1 needs 1" in plan.color_reasons


def test_due_date_before_start_refused(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.objective_create(actor=book.tam, plan=plan, data={"name": "Adopt", "due_on": "2025-12-31"})
    assert list(exc.value.errors) == ["due_on"]
    assert _counts() == before


def test_task_under_closed_objective_refused(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    objective = services.objective_create(
        actor=book.tam, plan=plan, data={"name": "Adopt", "status": "closed", "outcome": "Done"}
    )
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.plan_task_create(actor=book.tam, objective=objective, data={"name": "Train"})
    assert list(exc.value.errors) == ["objective"]
    assert _counts() == before


def test_task_progress_and_owner_checked(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    objective = services.objective_create(actor=book.tam, plan=plan, data={"name": "Adopt"})
    with pytest.raises(ValidationFailed) as exc:
        services.plan_task_create(actor=book.tam, objective=objective, data={"name": "T", "progress": 101})
    assert list(exc.value.errors) == ["progress"]
    with pytest.raises(ValidationFailed) as exc:
        services.plan_task_create(actor=book.tam, objective=objective, data={"name": "T", "owner": book.other_tam.pk})
    assert list(exc.value.errors) == ["owner"]
    task = services.plan_task_create(actor=book.tam, objective=objective, data={"name": "T", "progress": "40"})
    services.plan_task_update(actor=book.tam, task=task, changes={"status": "done"})
    task.refresh_from_db()
    assert task.progress == 100


def test_readers_cannot_write(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    for who in (book.sal, book.sa, book.director, book.tam2):
        with pytest.raises(PermissionDenied):
            services.success_plan_update(actor=who, plan=plan, changes={"strategy": "x"})
    with pytest.raises(PermissionDenied):
        services.success_plan_create(actor=book.other_tam, account=book.account, data={})


def test_priority_change_recolors(book) -> None:  # type: ignore[no-untyped-def]
    book.account.segment = "mid_market"
    book.account.save(update_fields=["segment"])
    plan = _plan(book)
    services.objective_create(actor=book.tam, plan=plan, data={"name": "A"})
    plan.refresh_from_db()
    assert plan.color == "yellow"
    assert plan.color_reasons == ["1 open objective; Commercial priority 1 needs 3"]
    account_update(actor=book.manager, account=book.account, changes={"priority": 2})
    plan.refresh_from_db()
    assert plan.color == "green"
    assert not Task.objects.filter(account=book.account, reason=services.REASON_P1).exclude(status="done").exists()


def test_daily_recompute_sees_inactivity(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    services.objective_create(actor=book.tam, plan=plan, data={"name": "A"})
    today = timezone.localdate()
    SuccessPlan.objects.filter(pk=plan.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=61))
    result = services.success_recompute_all(today=today)
    plan.refresh_from_db()
    assert plan.color == "yellow"
    assert plan.color_reasons == ["no activity for 61 days"]
    assert result.recolored == 1
    again = services.success_recompute_all(today=today)
    assert again.recolored == 0 and again.tasks_raised == 0


def test_new_customer_without_plan_raises_one_task(book) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    book.account.customer_since = today - dt.timedelta(days=61)
    book.account.priority = 2
    book.account.save(update_fields=["customer_since", "priority"])
    services.success_recompute_all(today=today)
    services.success_recompute_all(today=today)
    tasks = Task.objects.filter(account=book.account, type=TaskType.SUCCESS_PLAN)
    assert [t.reason for t in tasks] == [services.REASON_NEW]
    assert tasks[0].why["data"]["days"] == 61
    plan = _plan(book)
    services.objective_create(actor=book.tam, plan=plan, data={"name": "A"})
    assert Task.objects.get(pk=tasks[0].pk).status == TaskStatus.DONE


def test_new_customer_inside_window_has_no_task(book) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    book.account.customer_since = today - dt.timedelta(days=60)
    book.account.priority = 2
    book.account.save(update_fields=["customer_since", "priority"])
    services.success_recompute_all(today=today)
    assert not Task.objects.filter(account=book.account, type=TaskType.SUCCESS_PLAN).exists()


def test_manager_review_and_refusals(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    review = services.plan_review_record(actor=book.manager, plan=plan, data=ANSWERS)
    assert review.kind == "manager" and review.answers()[1]["notes"] == "SA agrees"
    with pytest.raises(PermissionDenied):
        services.plan_review_record(actor=book.tam, plan=plan, data=ANSWERS)
    with pytest.raises(ValidationFailed) as exc:
        services.plan_review_record(actor=book.other_manager, plan=plan, data=ANSWERS)
    assert list(exc.value.errors) == ["plan"]
    with pytest.raises(ValidationFailed) as exc:
        services.plan_review_record(actor=book.manager, plan=plan, data={**ANSWERS, "q3": "maybe"})
    assert list(exc.value.errors) == ["q3"]
    assert PlanReview.objects.count() == 1


def test_peer_review_flow(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    review = services.peer_review_request(actor=book.tam, plan=plan, reviewer=book.tam2.pk)
    task = Task.objects.get(type=TaskType.PLAN_PEER_REVIEW)
    assert task.owner == book.tam2
    with pytest.raises(PermissionDenied):
        services.peer_review_answer(actor=book.tam, review=review, data=ANSWERS)
    services.peer_review_answer(actor=book.tam2, review=review, data=ANSWERS)
    review.refresh_from_db()
    assert review.status == "completed"
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_peer_reviewer_who_cannot_read_is_refused(book) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(book)
    before = (PlanReview.objects.count(), Task.objects.filter(type=TaskType.PLAN_PEER_REVIEW).count())
    for who in (book.other_tam, book.sal, book.tam):
        with pytest.raises(ValidationFailed) as exc:
            services.peer_review_request(actor=book.tam, plan=plan, reviewer=who.pk)
        assert list(exc.value.errors) == ["reviewer"]
    assert before == (PlanReview.objects.count(), Task.objects.filter(type=TaskType.PLAN_PEER_REVIEW).count())


def test_ebr_task_window_and_never_duplicated(book) -> None:  # type: ignore[no-untyped-def]
    today = dt.date(2027, 1, 15)
    book.account.next_renewal_date = dt.date(2027, 8, 15)
    book.account.save(update_fields=["next_renewal_date"])
    book.other_account.next_renewal_date = None
    book.other_account.save(update_fields=["next_renewal_date"])
    assert services.ebr_tasks_raise(today=today - dt.timedelta(days=1)) == 0
    assert services.ebr_tasks_raise(today=today) == 1
    task = Task.objects.get(type=TaskType.EBR)
    assert task.due_on == dt.date(2027, 3, 1)
    assert services.ebr_tasks_raise(today=today) == 0
    Task.objects.filter(pk=task.pk).update(status="done", completed_at=timezone.now())
    assert services.ebr_tasks_raise(today=today + dt.timedelta(days=3)) == 0


def test_completed_ebr_closes_the_task_and_needs_a_date(book) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    book.account.next_renewal_date = today + dt.timedelta(days=100)
    book.account.save(update_fields=["next_renewal_date"])
    services.ebr_tasks_raise(today=today)
    with pytest.raises(ValidationFailed) as exc:
        services.ebr_create(actor=book.tam, account=book.account, data={"status": "completed"})
    assert list(exc.value.errors) == ["held_on"]
    assert Ebr.objects.count() == 0
    services.ebr_create(actor=book.tam, account=book.account, data={"status": "completed", "held_on": today})
    assert Task.objects.get(type=TaskType.EBR, account=book.account).status == TaskStatus.DONE


def test_settings_versions_and_queue_recompute(book) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.success_settings_save(actor=book.manager, values={"activity_days": 30})
    with pytest.raises(ValidationFailed) as exc:
        services.success_settings_save(actor=book.admin, values={"activity_days": 0})
    assert list(exc.value.errors) == ["activity_days"]
    row = services.success_settings_save(actor=book.admin, values={"activity_days": 30}, note="Tighter")
    assert row.version == 1 and row.activity_days == 30
    row2 = services.success_settings_save(actor=book.admin, values={"ebr_target_pct": 80})
    assert (row2.version, row2.activity_days, row2.ebr_target_pct) == (2, 30, 80)
    assert SuccessSettings.objects.count() == 2
    assert JobRun.objects.filter(job__key=services.RECOMPUTE_JOB, trigger="manual").count() >= 1


def test_factories_make_a_green_plan(book) -> None:  # type: ignore[no-untyped-def]
    plan = SuccessPlanFactory(account=book.account)
    ObjectiveFactory(plan=plan)
    services.success_refresh_accounts(account_ids=[book.account.pk])
    plan.refresh_from_db()
    assert plan.color == "green"
