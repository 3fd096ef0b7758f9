"""Onboarding services: starting (one and in bulk), reassigning, unassigning; idempotency, policy, audit."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.notifications.models import Notification
from tamarind.onboarding import services
from tamarind.onboarding.models import Onboarding, OnboardingStatus
from tamarind.onboarding.tests.factories import OnboardingFactory, complete_values
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def events(onboarding):
    return list(AuditEvent.objects.for_object("onboarding.onboarding", onboarding.pk).order_by("id"))


def notes_for(user):
    return list(Notification.objects.filter(recipient=user).order_by("id"))


# --- onboarding_start ---------------------------------------------------------------------------------------


def test_start_creates_a_record_for_the_tam_and_notifies_them(book):
    onboarding = services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam)
    assert onboarding is not None
    onboarding.refresh_from_db()
    assert onboarding.account == book.account and onboarding.tam == book.tam
    assert onboarding.status == OnboardingStatus.NOT_STARTED
    assert onboarding.contract_start == book.account.customer_since
    assert onboarding.onboarding_start == timezone.localdate()
    [event] = events(onboarding)
    assert event.action == "create" and event.actor == book.manager and event.after["tam"] == book.tam.pk
    [note] = notes_for(book.tam)
    assert note.kind == "tam_assigned" and "Acme Corp" in note.title
    assert note.url == f"/onboarding/{onboarding.pk}/" and note.account == book.account
    assert note.dedupe_key == f"onboarding:{onboarding.pk}:{book.tam.pk}"


def test_start_without_customer_since_uses_today_as_contract_start(book):
    account = AccountFactory(region=book.east, tam=book.tam, customer_since=None)
    onboarding = services.onboarding_start(actor=None, account=account, tam=book.tam)
    assert onboarding.contract_start == timezone.localdate()


def test_start_twice_is_one_record_one_event_one_notification(book):
    first = services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam)
    again = services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam)
    assert again == first
    assert Onboarding.objects.filter(account=book.account).count() == 1
    assert len(events(first)) == 1 and len(notes_for(book.tam)) == 1


def test_start_with_another_tam_reassigns_the_open_record(book):
    first = services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam)
    moved = services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam2)
    assert moved.pk == first.pk and Onboarding.objects.get(pk=first.pk).tam == book.tam2
    last = events(first)[-1]
    assert last.action == "update" and last.before == {"tam": book.tam.pk} and last.after == {"tam": book.tam2.pk}
    assert len(notes_for(book.tam2)) == 1
    # Back to the first TAM: a new assignment, so a notification again? No: the same (record, TAM) key.
    services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam)
    assert len(notes_for(book.tam)) == 1


def test_start_assigns_an_unassigned_record(book):
    record = OnboardingFactory(account=book.account, tam=None)
    assert services.onboarding_start(actor=None, account=book.account, tam=book.tam) == record
    record.refresh_from_db()
    assert record.tam == book.tam


def test_start_after_a_completed_onboarding_creates_nothing(book):
    OnboardingFactory(account=book.account, tam=book.tam, status=OnboardingStatus.COMPLETED, **complete_values())
    assert services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam2) is None
    assert Onboarding.objects.filter(account=book.account).count() == 1
    assert notes_for(book.tam2) == []


@pytest.mark.parametrize("who", ["tam", "tam2", "director", "sal", "sa", "other_manager"])
def test_start_is_for_the_regions_manager_and_admins(book, who):
    with pytest.raises(PermissionDenied):
        services.onboarding_start(actor=getattr(book, who), account=book.account, tam=book.tam)
    assert not Onboarding.objects.exists() and not AuditEvent.objects.filter(object_type="onboarding.onboarding")


def test_admin_and_system_start(book):
    assert services.onboarding_start(actor=book.admin, account=book.account, tam=book.tam) is not None
    assert services.onboarding_start(actor=None, account=book.other_account, tam=book.other_tam) is not None
    [event] = AuditEvent.objects.for_object(
        "onboarding.onboarding", Onboarding.objects.get(account=book.other_account).pk
    )
    assert event.actor is None and event.actor_name == "system"


@pytest.mark.parametrize("who", ["sal", "manager"])
def test_start_needs_an_active_tam(book, who):
    with pytest.raises(ValidationFailed):
        services.onboarding_start(actor=book.admin, account=book.account, tam=getattr(book, who))
    book.tam.is_active = False
    with pytest.raises(ValidationFailed):
        services.onboarding_start(actor=book.admin, account=book.account, tam=book.tam)


def test_the_database_allows_one_open_onboarding_per_account(book):
    OnboardingFactory(account=book.account, tam=book.tam)
    with pytest.raises(IntegrityError), transaction.atomic():
        OnboardingFactory(account=book.account, tam=book.tam2)


def test_completed_records_do_not_count_against_the_open_one(book):
    OnboardingFactory(account=book.account, status=OnboardingStatus.COMPLETED, **complete_values())
    OnboardingFactory(account=book.account, status=OnboardingStatus.COMPLETED, **complete_values())
    OnboardingFactory(account=book.account)


@pytest.mark.parametrize(
    "values",
    [
        {"experience_score": 0},
        {"experience_score": 6},
    ],
)
def test_the_database_keeps_the_score_between_1_and_5(book, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        OnboardingFactory(account=book.account, **values)


@pytest.mark.parametrize(
    "missing", ["notes", "experience_score", "first_value", "onboarding_finish", "first_engagement"]
)
def test_the_database_refuses_a_completed_record_without_its_dates_notes_and_score(book, missing):
    values = complete_values(**{missing: "" if missing == "notes" else None})
    with pytest.raises(IntegrityError), transaction.atomic():
        OnboardingFactory(account=book.account, status=OnboardingStatus.COMPLETED, **values)


def test_the_database_refuses_on_hold_without_a_reason(book):
    with pytest.raises(IntegrityError), transaction.atomic():
        OnboardingFactory(account=book.account, status=OnboardingStatus.ON_HOLD, delay_reason="")
    OnboardingFactory(account=book.account, status=OnboardingStatus.ON_HOLD, delay_reason="Customer reorg")


# --- onboarding_start_many ----------------------------------------------------------------------------------


def test_start_many_creates_reassigns_and_skips(book):
    fresh = AccountFactory.create_batch(3, region=book.east, tam=book.tam)
    reassigned = AccountFactory(region=book.east, tam=book.tam2)
    OnboardingFactory(account=reassigned, tam=book.tam)
    same = AccountFactory(region=book.east, tam=book.tam)
    OnboardingFactory(account=same, tam=book.tam)
    done = AccountFactory(region=book.east, tam=book.tam)
    OnboardingFactory(account=done, tam=book.tam, status=OnboardingStatus.COMPLETED, **complete_values())
    pairs = [(a.pk, book.tam.pk) for a in fresh] + [(reassigned.pk, book.tam2.pk), (same.pk, book.tam.pk)]
    pairs.append((done.pk, book.tam.pk))
    assert services.onboarding_start_many(actor=book.admin, pairs=pairs, source="import") == 4
    assert Onboarding.objects.filter(account__in=fresh, tam=book.tam, status="not_started").count() == 3
    assert Onboarding.objects.get(account=reassigned).tam == book.tam2
    assert Onboarding.objects.filter(account=done).count() == 1
    # 3 created + 1 reassigned: audited and notified
    audit = AuditEvent.objects.filter(object_type="onboarding.onboarding", source="import")
    assert audit.filter(action="create").count() == 3 and audit.filter(action="update").count() == 1
    assert Notification.objects.filter(recipient=book.tam, kind="tam_assigned").count() == 3
    assert Notification.objects.filter(recipient=book.tam2, kind="tam_assigned").count() == 1
    # Again: nothing new anywhere.
    before = (Onboarding.objects.count(), AuditEvent.objects.count(), Notification.objects.count())
    assert services.onboarding_start_many(actor=book.admin, pairs=pairs, source="import") == 0
    assert (Onboarding.objects.count(), AuditEvent.objects.count(), Notification.objects.count()) == before


def test_start_many_matches_start_one_at_a_time(book):
    account = AccountFactory(region=book.east, tam=book.tam, customer_since=dt.date(2024, 6, 1))
    services.onboarding_start_many(actor=None, pairs=[(account.pk, book.tam.pk)])
    record = Onboarding.objects.get(account=account)
    assert record.contract_start == dt.date(2024, 6, 1) and record.onboarding_start == timezone.localdate()
    note = Notification.objects.get(recipient=book.tam)
    assert note.dedupe_key == f"onboarding:{record.pk}:{book.tam.pk}" and note.url == f"/onboarding/{record.pk}/"
    # The single path after the bulk one: still one record, one notification.
    services.onboarding_start(actor=None, account=account, tam=book.tam)
    assert Onboarding.objects.filter(account=account).count() == 1
    assert Notification.objects.filter(recipient=book.tam).count() == 1


def test_start_many_last_pair_for_an_account_wins(book):
    services.onboarding_start_many(actor=None, pairs=[(book.account.pk, book.tam.pk), (book.account.pk, book.tam2.pk)])
    assert Onboarding.objects.get(account=book.account).tam == book.tam2


def test_start_many_queries_do_not_grow_with_the_batch(book, django_assert_max_num_queries):
    accounts = AccountFactory.create_batch(60, region=book.east, tam=book.tam)
    with django_assert_max_num_queries(16):
        assert services.onboarding_start_many(actor=None, pairs=[(a.pk, book.tam.pk) for a in accounts]) == 60


def test_start_many_checks_the_actor_for_every_account(book):
    with pytest.raises(PermissionDenied):
        services.onboarding_start_many(
            actor=book.manager, pairs=[(book.account.pk, book.tam.pk), (book.other_account.pk, book.other_tam.pk)]
        )
    assert not Onboarding.objects.exists()


def test_start_many_refuses_unknown_ids_and_non_tams(book):
    with pytest.raises(ValidationFailed):
        services.onboarding_start_many(actor=None, pairs=[(book.account.pk, book.sal.pk)])
    with pytest.raises(ValidationFailed):
        services.onboarding_start_many(actor=None, pairs=[(book.account.pk, 999_999)])
    with pytest.raises(ValidationFailed):
        services.onboarding_start_many(actor=None, pairs=[(999_999, book.tam.pk)])
    assert services.onboarding_start_many(actor=None, pairs=[]) == 0


# --- onboarding_unassign ------------------------------------------------------------------------------------


def test_unassign_clears_the_open_records_tam(book):
    record = services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam)
    assert services.onboarding_unassign(actor=book.manager, account=book.account) == 1
    record.refresh_from_db()
    assert record.tam is None and record.status == OnboardingStatus.NOT_STARTED
    last = events(record)[-1]
    assert last.before == {"tam": book.tam.pk} and last.after == {"tam": None}
    assert services.onboarding_unassign(actor=book.manager, account=book.account) == 0


def test_unassign_leaves_completed_records_alone(book):
    done = OnboardingFactory(account=book.account, tam=book.tam, status=OnboardingStatus.COMPLETED, **complete_values())
    assert services.onboarding_unassign(actor=None, account=book.account) == 0
    done.refresh_from_db()
    assert done.tam == book.tam


def test_unassign_is_for_the_regions_manager_and_admins(book):
    OnboardingFactory(account=book.account, tam=book.tam)
    with pytest.raises(PermissionDenied):
        services.onboarding_unassign(actor=book.tam, account=book.account)
    assert Onboarding.objects.get(account=book.account).tam == book.tam


def test_reassigning_after_unassign_notifies_the_new_tam(book):
    record = services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam)
    services.onboarding_unassign(actor=book.manager, account=book.account)
    services.onboarding_start(actor=book.manager, account=book.account, tam=book.tam2)
    record.refresh_from_db()
    assert record.tam == book.tam2 and len(notes_for(book.tam2)) == 1
