"""The audit trail's writer: snapshots, request ids, and the append-only guard."""

import datetime as dt
from decimal import Decimal

import pytest

from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record, audit_record_many, build_event, jsonable, snapshot
from tamarind.core.context import request_id_scope

pytestmark = pytest.mark.django_db


def test_jsonable_keeps_every_cent_and_dates():
    assert jsonable(Decimal("0.10")) == "0.10"
    assert jsonable(dt.date(2026, 1, 2)) == "2026-01-02"
    assert jsonable(None) is None


def test_snapshot_reads_foreign_keys_by_id(book):
    assert snapshot(book.account, ["name", "tam", "arr"]) == {
        "name": "Acme Corp",
        "tam": book.tam.pk,
        "arr": "120000.00",
    }


def test_audit_record_stamps_actor_request_and_source(book):
    with request_id_scope("req-abc"):
        event = audit_record(
            actor=book.manager,
            obj=book.account,
            action=AuditAction.UPDATE,
            before={"x": 1},
            after={"x": 2},
            source="web",
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_name, stored.request_id, stored.source) == (
        book.manager.pk,
        "Mia Manager",
        "req-abc",
        "web",
    )
    assert (stored.object_type, stored.object_id, stored.object_repr) == (
        "accounts.account",
        str(book.account.pk),
        "Acme Corp",
    )
    assert stored.changed_fields() == [("x", 1, 2)]


def test_system_actor(book):
    event = audit_record(actor=None, obj=book.east, action=AuditAction.CREATE, after={"name": "AMER East"})
    assert event.actor_id is None and event.actor_name == "system" and event.request_id == ""


def test_events_cannot_be_changed_or_deleted(book):
    event = audit_record(actor=book.admin, obj=book.east, action=AuditAction.CREATE)
    event.object_repr = "tampered"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "AMER East"


def test_audit_record_many(book):
    events = [
        build_event(actor=book.admin, obj=book.account, action=AuditAction.UPDATE, before={}, after={})
        for _ in range(3)
    ]
    audit_record_many(events)
    assert AuditEvent.objects.for_object("accounts.account", book.account.pk).count() == 3
