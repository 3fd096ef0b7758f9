"""The audit trail is append-only."""

import pytest

from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record


@pytest.mark.django_db
def test_events_cannot_be_changed_or_deleted(book):
    event = audit_record(actor=book.admin, obj=book.account, action=AuditAction.UPDATE, before={"a": 1}, after={"a": 2})
    event.after = {"a": 3}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).after == {"a": 2}


@pytest.mark.django_db
def test_actor_name_is_kept_when_the_person_is_renamed(book):
    event = audit_record(actor=book.admin, obj=book.account, action=AuditAction.UPDATE)
    book.admin.full_name = "Someone Else"
    book.admin.save(update_fields=["full_name"])
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "Ada Admin"
