"""Account services: writes are policy-checked, audited, and leave nothing behind when denied."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.accounts import services
from tamarind.accounts.models import Account, TamAssignment
from tamarind.audit.models import AuditEvent
from tamarind.core.context import request_id_scope
from tamarind.core.errors import ValidationFailed


@pytest.mark.django_db
def test_manager_sets_tam_records_history_and_audit(book):
    with request_id_scope("req-123"):
        assert services.account_set_tam(actor=book.manager, account=book.account, tam=book.tam2)
    book.account.refresh_from_db()
    assert book.account.tam_id == book.tam2.pk
    change = TamAssignment.objects.get(account=book.account, to_tam=book.tam2)
    assert change.from_tam_id == book.tam.pk and change.changed_by_id == book.manager.pk
    event = AuditEvent.objects.for_object("accounts.account", book.account.pk).first()
    assert event.actor_name == "Mia Manager"
    assert event.request_id == "req-123"
    assert event.before == {"tam": book.tam.pk} and event.after == {"tam": book.tam2.pk}


@pytest.mark.django_db
def test_tam_cannot_set_tam_and_nothing_is_written(book):
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.account_set_tam(actor=book.tam, account=book.account, tam=book.tam2)
    assert Account.objects.get(pk=book.account.pk).tam_id == book.tam.pk
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_tam_may_change_only_tam_owned_fields(book):
    assert services.account_update(actor=book.tam, account=book.account, changes={"priority": 2}) == ["priority"]
    with pytest.raises(PermissionDenied):
        services.account_update(actor=book.tam, account=book.account, changes={"arr": Decimal("1")})
    stored = Account.objects.get(pk=book.account.pk)
    assert stored.arr == Decimal("120000.00") and stored.priority == 2


@pytest.mark.django_db
def test_unchanged_update_records_nothing(book):
    before = AuditEvent.objects.count()
    assert services.account_update(actor=book.admin, account=book.account, changes={"name": "Acme Corp"}) == []
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_only_tams_can_be_assigned(book):
    with pytest.raises(ValidationFailed):
        services.account_set_tam(actor=book.admin, account=book.account, tam=book.sal)


@pytest.mark.django_db
def test_create_requires_region_in_scope(book):
    with pytest.raises(PermissionDenied):
        services.account_create(
            actor=book.manager,
            data={"crm_id": "X-1", "name": "Initech", "region": book.west, "segment": "smb"},
        )
    acc = services.account_create(
        actor=book.manager,
        data={"crm_id": "X-1", "name": "Initech", "region": book.east, "segment": "smb", "tam": book.tam},
    )
    assert AuditEvent.objects.for_object("accounts.account", acc.pk).get().action == "create"
    assert TamAssignment.objects.filter(account=acc, from_tam=None, to_tam=book.tam).exists()
