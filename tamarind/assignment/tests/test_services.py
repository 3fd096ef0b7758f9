"""Evaluation on every account change, through the service layer: consequences fire once per change of standing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tamarind.accounts import services as account_services
from tamarind.accounts.models import Account, LifecycleStage
from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.assignment import services
from tamarind.assignment.models import DEFAULT_DEFINITION, Qualification, RuleSetVersion
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.imports import services as import_services
from tamarind.imports.models import ImportStatus
from tamarind.notifications.models import Notification, NotificationKind
from tamarind.onboarding.models import Onboarding
from tamarind.testing.factories import AccountFactory, tier

pytestmark = pytest.mark.django_db


def create(book, **overrides):  # type: ignore[no-untyped-def]
    """Create through the service; an admin by default, so the region's manager hears of it (nobody is notified of
    their own change)."""
    actor = overrides.pop("actor", book.admin)
    data = {
        "crm_id": overrides.pop("crm_id", "NEW-1"),
        "name": overrides.pop("name", "Umbrella"),
        "region": book.east,
        "segment": "enterprise",
        "arr": Decimal("120000"),
        "product_tier": tier("Premium"),
        "lifecycle_stage": LifecycleStage.ONBOARDING,
    }
    data.update(overrides)
    return account_services.account_create(actor=actor, data=data, source="web")


def tasks(account, type_=TaskType.ASSIGN_TAM):  # type: ignore[no-untyped-def]
    return Task.objects.filter(account=account, type=type_)


# --- a new account ------------------------------------------------------------------------------------------------


def test_a_new_qualifying_account_without_a_tam_gets_a_task_and_a_notification_for_its_manager(book):
    account = create(book)
    standing = Qualification.objects.get(account=account)
    assert standing.qualifies and standing.qualified_at is not None and standing.rule_version == 1
    task = tasks(account).get()
    assert (task.owner, task.status, task.reason) == (book.manager, TaskStatus.OPEN, "qualified")
    assert task.why["rule_version"] == 1
    assert task.why["data"]["arr"] == "120000.00" and task.why["data"]["segment"] == "enterprise"
    assert [c["holds"] for c in task.why["conditions"]] == [True, True, True]
    note = Notification.objects.get(recipient=book.manager, kind=NotificationKind.ACCOUNT_QUALIFIED)
    assert note.account == account and "Umbrella" in note.title
    assert note.url == reverse("accounts:detail", args=[account.pk])
    assert not Onboarding.objects.filter(account=account).exists()
    assert AuditEvent.objects.filter(object_type="assignment.qualification", object_id=str(account.pk)).count() == 1


def test_a_new_qualifying_account_with_a_tam_starts_onboarding_for_that_tam(book):
    account = create(book, tam=book.tam)
    onboarding = Onboarding.objects.get(account=account)
    assert onboarding.tam == book.tam
    assert not tasks(account).exists()
    assert Notification.objects.filter(recipient=book.manager, kind=NotificationKind.ACCOUNT_QUALIFIED).count() == 1
    assert Notification.objects.filter(recipient=book.tam, kind=NotificationKind.TAM_ASSIGNED).count() == 1


def test_the_manager_whose_own_change_qualifies_an_account_gets_the_task_but_no_notification(book):
    account = create(book, actor=book.manager)
    assert tasks(account).get().owner == book.manager
    assert not Notification.objects.filter(recipient=book.manager).exists()
    account_services.account_update(actor=book.manager, account=account, changes={"segment": "smb"})
    assert tasks(account, TaskType.DISENGAGEMENT_REVIEW).get().owner == book.manager
    assert not Notification.objects.filter(recipient=book.manager).exists()


def test_an_onboarded_account_with_a_tam_gets_no_onboarding_record(book):
    account = create(book, tam=book.tam, lifecycle_stage=LifecycleStage.ADOPTION)
    assert Qualification.objects.get(account=account).qualifies
    assert not Onboarding.objects.filter(account=account).exists()


@pytest.mark.parametrize(
    ("arr", "qualifies"), [("50000", False), ("50000.00", False), ("50000.01", True), ("49999.99", False)]
)
def test_the_arr_boundary_through_the_service(book, arr, qualifies):
    account = create(book, arr=Decimal(arr))
    assert Qualification.objects.get(account=account).qualifies is qualifies
    assert tasks(account).exists() is qualifies


@pytest.mark.parametrize(
    ("name", "qualifies"), [("Premium", True), ("Silver", True), ("Bronze", False), ("Gold", True)]
)
def test_tiers_on_the_same_rung_qualify_alike(book, name, qualifies):
    account = create(book, product_tier=tier(name))
    assert Qualification.objects.get(account=account).qualifies is qualifies


def test_a_region_without_a_manager_still_records_the_standing(book):
    book.west.manager = None
    book.west.save(update_fields=["manager"])
    account = account_services.account_create(
        actor=book.admin,
        data={
            "crm_id": "W-1",
            "name": "Westward",
            "region": book.west,
            "segment": "enterprise",
            "arr": Decimal("90000"),
            "product_tier": tier("Gold"),
        },
    )
    assert Qualification.objects.get(account=account).qualifies
    assert not Task.objects.filter(account=account).exists()


# --- changes ------------------------------------------------------------------------------------------------------


def test_repeated_edits_never_duplicate_consequences(book):
    account = create(book, arr=Decimal("40000"))
    assert not Qualification.objects.get(account=account).qualifies
    account_services.account_update(actor=book.admin, account=account, changes={"arr": Decimal("60000")})
    account_services.account_update(actor=book.admin, account=account, changes={"arr": Decimal("70000")})
    account_services.account_update(actor=book.admin, account=account, changes={"licenses": 10})
    assert tasks(account).count() == 1
    assert Notification.objects.filter(recipient=book.manager, kind=NotificationKind.ACCOUNT_QUALIFIED).count() == 1


def test_setting_the_tam_closes_the_task_and_starts_onboarding(book):
    account = create(book)
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam2)
    assert tasks(account).get().status == TaskStatus.DONE
    assert Onboarding.objects.get(account=account).tam == book.tam2
    # The same TAM again changes nothing; another TAM takes over the same record.
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam2)
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam)
    assert Onboarding.objects.filter(account=account).count() == 1
    assert Onboarding.objects.get(account=account).tam == book.tam


def test_clearing_the_tam_unassigns_onboarding_and_puts_the_task_back(book):
    account = create(book, tam=book.tam)
    account_services.account_set_tam(actor=book.manager, account=account, tam=None)
    assert Onboarding.objects.get(account=account).tam is None
    assert tasks(account).filter(status=TaskStatus.OPEN).count() == 1


def test_an_account_that_stops_qualifying_is_flagged_not_deleted(book):
    account = create(book)
    account_services.account_update(actor=book.admin, account=account, changes={"segment": "smb"})
    standing = Qualification.objects.get(account=account)
    assert not standing.qualifies and standing.disengagement_flagged_at is not None
    assert Account.objects.filter(pk=account.pk).exists()
    assert tasks(account).get().status == TaskStatus.DONE  # nobody needs to staff it any more
    review = tasks(account, TaskType.DISENGAGEMENT_REVIEW).get()
    assert review.owner == book.manager and review.status == TaskStatus.OPEN
    assert Notification.objects.filter(kind=NotificationKind.ACCOUNT_DISQUALIFIED, account=account).count() == 1

    # Qualifying again lifts the flag, closes the review and raises a fresh staffing task.
    account_services.account_update(actor=book.manager, account=account, changes={"segment": "enterprise"})
    standing.refresh_from_db()
    assert standing.qualifies and standing.disengagement_flagged_at is None
    assert tasks(account, TaskType.DISENGAGEMENT_REVIEW).get().status == TaskStatus.DONE
    assert tasks(account).filter(status=TaskStatus.OPEN).count() == 1


def test_refresh_is_idempotent(book):
    account = create(book)
    counts = (Task.objects.count(), Notification.objects.count(), AuditEvent.objects.count())
    for _ in range(3):
        result = services.qualification_refresh(actor=None, account_ids=[account.pk], source="test")
        assert (result.newly_qualified, result.disqualified, result.tasks, result.notifications) == ([], [], 0, 0)
    assert (Task.objects.count(), Notification.objects.count(), AuditEvent.objects.count()) == counts


def test_a_full_refresh_evaluates_accounts_made_outside_the_services(book):
    # Factory-made accounts have no standing yet.
    outside = AccountFactory(region=book.east, tam=None)
    assert not Qualification.objects.filter(account=outside).exists()
    result = services.qualification_refresh(actor=None, account_ids=None, source="test")
    assert result.evaluated == Account.objects.count()
    assert Qualification.objects.get(account=outside).qualifies
    assert result.newly_qualified == [outside.pk] and result.tasks == 1
    assert services.qualification_refresh_stale() == {"evaluated": 0}


# --- rule versions ------------------------------------------------------------------------------------------------


def test_saving_rules_writes_the_next_version_and_an_audit_event(book):
    definition = {**DEFAULT_DEFINITION, "conditions": [{"field": "arr", "op": "gt", "value": "100000"}]}
    version = services.rule_set_save(actor=book.admin, definition=definition, note="Raise the bar")
    assert version.version == 2 and version.created_by == book.admin
    assert RuleSetVersion.objects.live() == version
    event = AuditEvent.objects.get(object_type="assignment.rulesetversion")
    assert event.before["version"] == 1 and event.after["note"] == "Raise the bar"


def test_a_new_version_reevaluates_the_book(book, django_capture_on_commit_callbacks):
    account = create(book)  # qualifies at 120,000
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_set_save(
            actor=book.admin,
            definition={"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "500000"}]},
        )
    standing = Qualification.objects.get(account=account)
    assert not standing.qualifies and standing.rule_version == 2


def test_only_admins_save_rules(book):
    for person in (book.manager, book.director, book.tam):
        with pytest.raises(PermissionDenied):
            services.rule_set_save(actor=person, definition=DEFAULT_DEFINITION)
    assert RuleSetVersion.objects.count() == 1


def test_invalid_or_unchanged_rules_are_refused_with_the_place(book):
    with pytest.raises(ValidationFailed) as caught:
        services.rule_set_save(
            actor=book.admin,
            definition={"match": "all", "conditions": [{"field": "segment", "op": "in", "value": ["huge"]}]},
        )
    assert "conditions.0.value" in caught.value.errors
    with pytest.raises(ValidationFailed, match="same as version 1"):
        services.rule_set_save(actor=book.admin, definition=DEFAULT_DEFINITION)
    assert RuleSetVersion.objects.count() == 1


# --- imports --------------------------------------------------------------------------------------------------


HEADER = "Account ID,Account Name,Sales Segment,Region,CARR (This Account),Products Purchased,Technical Account Manager"


def run_import(book, tmp_path: Path, text: str, settings):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "crm.csv"
    path.write_text(text, encoding="utf-8")
    job = import_services.import_job_create_from_path(actor=book.admin, path=path)
    return import_services.import_job_run(job_id=job.pk)


def test_repeated_import_of_the_same_file_never_duplicates_anything(book, tmp_path, settings):
    text = (
        "\n".join(
            [
                HEADER,
                "I-1,Big Co,Enterprise,AMER East,90000,Premium,",
                "I-2,Mid Co,MM,AMER East,50000.01,Silver,",  # MM: a synonym of Mid-Market in the default mapping
                "I-3,Edge Co,Mid-Market,AMER East,50000,Gold,",  # exactly 50,000: no
                "I-4,Staffed Co,Enterprise,AMER East,75000,Gold,tam@example.com",
            ]
        )
        + "\n"
    )
    for _ in range(3):
        job = run_import(book, tmp_path, text, settings)
        assert job.status == ImportStatus.SUCCEEDED, job.errors
    by_crm = {q.account.crm_id: q.qualifies for q in Qualification.objects.filter(account__crm_id__startswith="I-")}
    assert by_crm == {"I-1": True, "I-2": True, "I-3": False, "I-4": True}
    assert Task.objects.filter(type=TaskType.ASSIGN_TAM).count() == 2
    assert Notification.objects.filter(kind=NotificationKind.ACCOUNT_QUALIFIED).count() == 3
    assert Onboarding.objects.count() == 1
    assert Onboarding.objects.get().tam == book.tam


def test_an_import_that_sets_the_tam_staffs_the_account(book, tmp_path, settings):
    run_import(book, tmp_path, f"{HEADER}\nI-1,Big Co,Enterprise,AMER East,90000,Premium,\n", settings)
    account = Account.objects.get(crm_id="I-1")
    Account.objects.filter(pk=account.pk).update(lifecycle_stage=LifecycleStage.ONBOARDING)
    run_import(book, tmp_path, f"{HEADER}\nI-1,Big Co,Enterprise,AMER East,90000,Premium,Theo Tam\n", settings)
    assert tasks(account).get().status == TaskStatus.DONE
    assert Onboarding.objects.get(account=account).tam == book.tam2


def test_a_failed_import_leaves_no_consequence(book, tmp_path, settings):
    job = run_import(
        book,
        tmp_path,
        f"{HEADER}\nI-1,Big Co,Enterprise,AMER East,90000,Premium,\nI-2,Bad,Enterprise,AMER East,lots,Premium,\n",
        settings,
    )
    assert job.status == ImportStatus.FAILED
    assert not Qualification.objects.filter(account__crm_id__startswith="I-").exists()
    assert not Task.objects.exists() and not Notification.objects.exists()


def test_a_new_tam_takes_over_an_open_onboarding_even_after_the_onboarding_stage(book):
    account = create(book, tam=book.tam)
    account_services.account_set_tam(actor=book.manager, account=account, tam=None)
    Account.objects.filter(pk=account.pk).update(lifecycle_stage=LifecycleStage.ADOPTION)
    account.refresh_from_db()
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam2)
    assert Onboarding.objects.get(account=account).tam == book.tam2


def test_a_new_tam_on_an_onboarded_account_starts_no_onboarding(book):
    account = create(book, tam=book.tam, lifecycle_stage=LifecycleStage.ADOPTION)
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam2)
    assert not Onboarding.objects.filter(account=account).exists()
