"""Recording an onboarding: updates, completing, the first engagement, targets and the overdue check."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.accounts.models import Account, LifecycleStage
from tamarind.actions.models import Task, TaskStatus
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.onboarding import services
from tamarind.onboarding.models import Onboarding, OnboardingTargets
from tamarind.onboarding.selectors import onboarding_targets
from tamarind.onboarding.tests.factories import OnboardingFactory, complete_values
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 3, 1)


def days_ago(n):
    return TODAY - dt.timedelta(days=n)


@pytest.fixture
def record(book):
    book.account.lifecycle_stage = LifecycleStage.ONBOARDING
    book.account.save(update_fields=["lifecycle_stage"])
    return OnboardingFactory(account=book.account, tam=book.tam)


def stored(record):
    return Onboarding.objects.get(pk=record.pk)


def last_event(record):
    return AuditEvent.objects.for_object("onboarding.onboarding", record.pk).first()


def overdue_tasks(**filters):
    return Task.objects.filter(type="onboarding_overdue", **filters)


# --- onboarding_update --------------------------------------------------------------------------------------


def test_tam_records_dates_notes_and_status(book, record):
    services.onboarding_update(
        actor=book.tam,
        onboarding=record,
        changes={"status": "in_progress", "infrastructure_ready": "2025-02-01", "challenges": " SSO "},
    )
    saved = stored(record)
    assert saved.status == "in_progress" and saved.infrastructure_ready == dt.date(2025, 2, 1)
    assert saved.challenges == "SSO"
    event = last_event(record)
    assert event.actor == book.tam and event.before == {
        "status": "not_started",
        "infrastructure_ready": None,
        "challenges": "",
    }
    assert event.after["infrastructure_ready"] == "2025-02-01"


def test_no_change_writes_nothing(book, record):
    before = AuditEvent.objects.count()
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"status": "not_started", "notes": ""})
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["director", "tam2", "sal", "sa", "other_manager", "other_tam"])
def test_only_the_tam_the_manager_and_admins_write(book, record, who):
    with pytest.raises(PermissionDenied):
        services.onboarding_update(actor=getattr(book, who), onboarding=record, changes={"notes": "x"})
    assert stored(record).notes == ""


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_manager_and_admin_write(book, record, who):
    services.onboarding_update(actor=getattr(book, who), onboarding=record, changes={"highlights": "Fast start"})
    assert stored(record).highlights == "Fast start"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "done"}, "status"),
        ({"first_value": "yesterday"}, "first_value"),
        ({"first_value": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}, "first_value"),
        ({"experience_score": 6}, "experience_score"),
        ({"experience_score": 0}, "experience_score"),
        ({"experience_score": "4.5"}, "experience_score"),
        ({"experience_score": True}, "experience_score"),
        ({"delay_reason": "x" * 501}, "delay_reason"),
        ({"notes": 12}, "notes"),
        ({"challenges": " SSO \x00"}, "challenges"),
        ({"first_value": "9999-12-31"}, "first_value"),
        ({"first_value": dt.date(1, 1, 1)}, "first_value"),
        ({"tam": 1}, "__all__"),
        ({"account": 1}, "__all__"),
    ],
)
def test_bad_values_are_refused_by_field(book, record, changes, field):
    with pytest.raises(ValidationFailed) as exc:
        services.onboarding_update(actor=book.tam, onboarding=record, changes=changes)
    assert field in exc.value.errors


def test_on_hold_needs_a_reason(book, record):
    with pytest.raises(ValidationFailed) as exc:
        services.onboarding_update(actor=book.tam, onboarding=record, changes={"status": "on_hold"})
    assert "delay_reason" in exc.value.errors
    assert record.status == "not_started"  # the object is put back as stored
    services.onboarding_update(
        actor=book.tam, onboarding=record, changes={"status": "on_hold", "delay_reason": "Customer reorg"}
    )
    assert stored(record).status == "on_hold"


def test_ticking_the_kickoff_call_sets_an_empty_first_engagement(book, record):
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"kickoff_call_done_on": "2025-01-28"})
    assert stored(record).first_engagement == dt.date(2025, 1, 28)
    # A first engagement already recorded is not moved by the step.
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"kickoff_call_done_on": "2025-02-05"})
    assert stored(record).first_engagement == dt.date(2025, 1, 28)


def test_ticking_the_first_cadence_call_sets_the_onboarding_finish(book, record):
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"cadence_call_done_on": "2025-03-01"})
    assert stored(record).onboarding_finish == dt.date(2025, 3, 1)


def test_unticking_a_step_clears_only_the_step(book, record):
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"welcome_email_done_on": "2025-01-21"})
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"welcome_email_done_on": None})
    assert stored(record).welcome_email_done_on is None


def test_reversed_dates_are_saved_and_flagged_but_block_completing(book, record):
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"first_engagement": "2025-01-10"})
    assert stored(record).first_engagement == dt.date(2025, 1, 10)  # before the purchase (2025-01-15)
    values = complete_values(onboarding_start=dt.date(2025, 1, 20), first_engagement=dt.date(2025, 1, 10))
    with pytest.raises(ValidationFailed) as exc:
        services.onboarding_update(actor=book.tam, onboarding=record, changes={**values, "status": "completed"})
    assert "is before contract start" in exc.value.errors["first_engagement"][0]
    assert stored(record).status == "not_started"


def test_completing_needs_every_date_the_notes_and_the_score(book, record):
    with pytest.raises(ValidationFailed) as exc:
        services.onboarding_update(actor=book.tam, onboarding=record, changes={"status": "completed"})
    missing = set(exc.value.errors)
    assert {"first_engagement", "infrastructure_ready", "first_value", "onboarding_finish"} <= missing
    assert {"notes", "experience_score"} <= missing
    assert "contract_start" not in missing and "onboarding_start" not in missing
    assert stored(record).status == "not_started"


def test_completing_moves_the_account_to_adoption_and_closes_overdue_tasks(book, record):
    # Started 2025-01-20 (contract 01-15): on 03-01 engage (14) and first value (30) are overdue, onboard (45) not.
    services.onboarding_raise_overdue(today=TODAY)
    assert overdue_tasks(status="open").count() == 2
    services.onboarding_update(
        actor=book.tam, onboarding=record, changes={**complete_values(), "status": "completed"}, source="api"
    )
    saved = stored(record)
    assert saved.status == "completed" and saved.experience_score == 4
    assert Account.objects.get(pk=book.account.pk).lifecycle_stage == LifecycleStage.ADOPTION
    account_event = AuditEvent.objects.for_object("accounts.account", book.account.pk).first()
    assert account_event.after == {"lifecycle_stage": "adoption"} and account_event.actor == book.tam
    assert overdue_tasks(status="open").count() == 0 and overdue_tasks(status="done").count() == 2


def test_completing_leaves_a_later_lifecycle_stage_alone(book, record):
    book.account.lifecycle_stage = LifecycleStage.OPTIMIZE_GROW
    book.account.save(update_fields=["lifecycle_stage"])
    record.account = book.account
    services.onboarding_update(
        actor=book.manager, onboarding=record, changes={**complete_values(), "status": "completed"}
    )
    assert Account.objects.get(pk=book.account.pk).lifecycle_stage == LifecycleStage.OPTIMIZE_GROW


def test_a_completed_record_keeps_what_completing_needs(book, record):
    services.onboarding_update(actor=book.tam, onboarding=record, changes={**complete_values(), "status": "completed"})
    with pytest.raises(ValidationFailed):
        services.onboarding_update(actor=book.tam, onboarding=record, changes={"notes": ""})
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"highlights": "Champion found"})


def test_reopening_is_refused_while_another_onboarding_is_open(book, record):
    services.onboarding_update(actor=book.tam, onboarding=record, changes={**complete_values(), "status": "completed"})
    OnboardingFactory(account=book.account, tam=book.tam2)
    with pytest.raises(ValidationFailed) as exc:
        services.onboarding_update(actor=book.manager, onboarding=record, changes={"status": "in_progress"})
    assert "status" in exc.value.errors


def test_reopening_a_completed_record(book, record):
    services.onboarding_update(actor=book.tam, onboarding=record, changes={**complete_values(), "status": "completed"})
    services.onboarding_update(actor=book.manager, onboarding=record, changes={"status": "in_progress"})
    assert stored(record).status == "in_progress"


def test_recording_a_milestone_closes_its_overdue_task_only(book, record):
    services.onboarding_raise_overdue(today=TODAY)
    services.onboarding_update(actor=book.tam, onboarding=record, changes={"first_engagement": "2025-01-25"})
    assert overdue_tasks(reason="time_to_engage").get().status == TaskStatus.DONE
    assert overdue_tasks(status="open").get().reason == "time_to_first_value"


# --- onboarding_record_engagement ---------------------------------------------------------------------------


def test_first_call_on_or_after_start_sets_first_engagement_and_starts_the_onboarding(book, record):
    assert services.onboarding_record_engagement(actor=book.sal, account=book.account, on=dt.date(2025, 1, 20))
    saved = stored(record)
    assert saved.first_engagement == dt.date(2025, 1, 20) and saved.status == "in_progress"
    event = last_event(record)
    assert event.actor == book.sal and event.after == {"first_engagement": "2025-01-20", "status": "in_progress"}


def test_a_call_before_the_purchase_does_not_count(book, record):
    assert services.onboarding_record_engagement(actor=None, account=book.account, on=dt.date(2025, 1, 14)) is None
    assert stored(record).first_engagement is None


def test_a_call_between_the_purchase_and_the_start_is_engaged_on_day_zero(book, record):
    assert services.onboarding_record_engagement(actor=None, account=book.account, on=dt.date(2025, 1, 19))
    assert stored(record).first_engagement == dt.date(2025, 1, 19)


def test_a_later_call_does_not_move_the_first_engagement_an_earlier_one_does(book, record):
    services.onboarding_record_engagement(actor=None, account=book.account, on=dt.date(2025, 2, 1))
    assert services.onboarding_record_engagement(actor=None, account=book.account, on=dt.date(2025, 2, 5)) is None
    services.onboarding_record_engagement(actor=None, account=book.account, on=dt.date(2025, 1, 25))
    assert stored(record).first_engagement == dt.date(2025, 1, 25)


def test_engagement_leaves_on_hold_status_and_completed_records(book, record):
    Onboarding.objects.filter(pk=record.pk).update(status="on_hold", delay_reason="Budget freeze")
    services.onboarding_record_engagement(actor=None, account=book.account, on=dt.date(2025, 1, 22))
    assert stored(record).status == "on_hold" and stored(record).first_engagement == dt.date(2025, 1, 22)
    Onboarding.objects.filter(pk=record.pk).update(status="completed", **complete_values())
    assert services.onboarding_record_engagement(actor=None, account=book.account, on=dt.date(2025, 1, 21)) is None


def test_engagement_without_an_onboarding(book):
    assert services.onboarding_record_engagement(actor=None, account=book.account, on=TODAY) is None


def test_engagement_closes_the_engage_overdue_task(book, record):
    services.onboarding_raise_overdue(today=TODAY)
    services.onboarding_record_engagement(actor=book.tam, account=book.account, on=dt.date(2025, 2, 20))
    assert overdue_tasks(reason="time_to_engage").get().status == TaskStatus.DONE


# --- targets ------------------------------------------------------------------------------------------------


def test_targets_default_to_14_30_45_without_a_row(db):
    targets = onboarding_targets()
    assert (targets.engage_days, targets.first_value_days, targets.onboard_days) == (14, 30, 45)
    assert not OnboardingTargets.objects.exists()


def test_admin_changes_targets_audited(book):
    services.onboarding_targets_update(actor=book.admin, changes={"engage_days": "10"})
    assert onboarding_targets().engage_days == 10
    event = AuditEvent.objects.for_object("onboarding.onboardingtargets", 1).first()
    assert event.before == {"engage_days": 14} and event.after == {"engage_days": 10}
    services.onboarding_targets_update(actor=book.admin, changes={"engage_days": 10, "onboard_days": 60})
    event = AuditEvent.objects.for_object("onboarding.onboardingtargets", 1).first()
    assert event.before == {"onboard_days": 45} and event.after == {"onboard_days": 60}
    assert onboarding_targets().updated_by == book.admin


@pytest.mark.parametrize("who", ["director", "manager", "tam", "sal"])
def test_only_admins_change_targets(book, who):
    with pytest.raises(PermissionDenied):
        services.onboarding_targets_update(actor=getattr(book, who), changes={"engage_days": 7})
    assert not OnboardingTargets.objects.exists()


@pytest.mark.parametrize("value", [0, -1, 3651, "ten", "7.5", True, None])
def test_targets_must_be_whole_days(book, value):
    with pytest.raises(ValidationFailed) as exc:
        services.onboarding_targets_update(actor=book.admin, changes={"first_value_days": value})
    assert "first_value_days" in exc.value.errors


def test_unknown_target_is_refused(book):
    with pytest.raises(ValidationFailed):
        services.onboarding_targets_update(actor=book.admin, changes={"renewal_days": 7})


# --- the overdue check --------------------------------------------------------------------------------------


def test_overdue_raises_one_task_per_late_milestone_for_the_tam(book):
    late_engage = OnboardingFactory(
        account=book.account, tam=book.tam, onboarding_start=days_ago(15), contract_start=days_ago(15)
    )
    on_time = OnboardingFactory(
        account=AccountFactory(region=book.east, tam=book.tam2),
        tam=book.tam2,
        onboarding_start=days_ago(14),
        contract_start=days_ago(14),
    )
    result = services.onboarding_raise_overdue(today=TODAY)
    assert result == {"overdue": 1, "raised": 1}
    task = overdue_tasks().get()
    assert task.owner == book.tam and task.account == book.account and task.reason == "time_to_engage"
    assert task.origin == "rule" and task.due_on == TODAY
    assert "time to engage over 14 days" in task.title
    assert task.why["rule"] == "Onboarding target: time to engage within 14 days"
    assert task.why["data"] == {
        "onboarding": late_engage.pk,
        "onboarding_start": days_ago(15).isoformat(),
        "first_engagement": None,
        "days": 15,
        "target_days": 14,
        "days_over": 1,
    }
    assert not overdue_tasks(account=on_time.account).exists()


def test_overdue_is_idempotent(book):
    OnboardingFactory(account=book.account, tam=book.tam, onboarding_start=days_ago(50), contract_start=days_ago(50))
    assert services.onboarding_raise_overdue(today=TODAY) == {"overdue": 3, "raised": 3}
    assert services.onboarding_raise_overdue(today=TODAY) == {"overdue": 3, "raised": 0}
    assert overdue_tasks().count() == 3


def test_overdue_uses_the_admins_targets(book):
    OnboardingFactory(account=book.account, tam=book.tam, onboarding_start=days_ago(10), contract_start=days_ago(10))
    assert services.onboarding_raise_overdue(today=TODAY)["raised"] == 0
    services.onboarding_targets_update(actor=book.admin, changes={"engage_days": 7})
    assert services.onboarding_raise_overdue(today=TODAY)["raised"] == 1


def test_overdue_skips_completed_on_hold_unassigned_and_reached(book):
    OnboardingFactory(
        account=book.account, tam=book.tam, status="completed", **complete_values(contract_start=days_ago(99))
    )
    OnboardingFactory(
        account=AccountFactory(region=book.east),
        tam=book.tam,
        status="on_hold",
        delay_reason="Reorg",
        onboarding_start=days_ago(60),
    )
    OnboardingFactory(account=AccountFactory(region=book.east), tam=None, onboarding_start=days_ago(60))
    OnboardingFactory(
        account=AccountFactory(region=book.east),
        tam=book.tam,
        onboarding_start=days_ago(60),
        contract_start=days_ago(60),
        first_engagement=days_ago(50),
        first_value=days_ago(20),
        onboarding_finish=days_ago(1),
    )
    assert services.onboarding_raise_overdue(today=TODAY) == {"overdue": 0, "raised": 0}


def test_overdue_after_reassignment_goes_to_the_new_tam(book):
    OnboardingFactory(account=book.account, tam=book.tam, onboarding_start=days_ago(20), contract_start=days_ago(5))
    services.onboarding_raise_overdue(today=TODAY)
    assert overdue_tasks(status="open").get().owner == book.tam
    services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam2)
    assert not overdue_tasks(status="open").exists()
    services.onboarding_raise_overdue(today=TODAY)
    assert overdue_tasks(status="open").get().owner == book.tam2


def test_overdue_runs_with_no_arguments_as_a_periodic_job(book):
    from tamarind.onboarding.periodic import JOBS

    [spec] = JOBS
    assert spec.key == "onboarding.overdue_milestones" and spec.every == dt.timedelta(hours=1)
    OnboardingFactory(
        account=book.account,
        tam=book.tam,
        onboarding_start=timezone.localdate() - dt.timedelta(days=30),
        contract_start=timezone.localdate(),
    )
    module, name = spec.func.rsplit(".", 1)
    func = getattr(__import__(module, fromlist=[name]), name)
    assert func() == {"overdue": 1, "raised": 1}


def test_overdue_query_count_does_not_grow(book, django_assert_max_num_queries):
    for _ in range(30):
        OnboardingFactory(
            account=AccountFactory(region=book.east, tam=book.tam),
            tam=book.tam,
            onboarding_start=days_ago(60),
            contract_start=days_ago(60),
        )
    with django_assert_max_num_queries(14):
        assert services.onboarding_raise_overdue(today=TODAY)["raised"] == 90


def test_the_scheduler_finds_and_runs_the_overdue_check(book, django_capture_on_commit_callbacks):
    from tamarind.scheduler.models import JobRun, PeriodicJob
    from tamarind.scheduler.services import periodic_job_run_now, periodic_jobs_sync, periodic_specs

    assert "onboarding.overdue_milestones" in {spec.key for spec in periodic_specs()}
    periodic_jobs_sync()
    job = PeriodicJob.objects.get(key="onboarding.overdue_milestones")
    assert job.every == dt.timedelta(hours=1)
    OnboardingFactory(
        account=book.account,
        tam=book.tam,
        onboarding_start=timezone.localdate() - dt.timedelta(days=20),
        contract_start=timezone.localdate(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = periodic_job_run_now(actor=book.admin, job=job)
    run = JobRun.objects.get(pk=run.pk)
    assert run.status == "succeeded", run.error
    assert run.result == {"overdue": 1, "raised": 1}
    assert overdue_tasks(owner=book.tam, reason="time_to_engage").exists()
