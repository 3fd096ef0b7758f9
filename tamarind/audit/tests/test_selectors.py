"""The audit log's filters and gate."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.selectors import (
    AuditFilters,
    audit_actor_choices,
    audit_events,
    audit_object_types,
    object_type_label,
)
from tamarind.audit.services import build_event
from tamarind.core.context import request_id_scope

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def trail(book):
    """Four events across two days, two actors, three object types."""
    rows = []
    with request_id_scope("req-1"):
        rows.append(
            build_event(
                actor=book.admin,
                obj=book.account,
                action=AuditAction.UPDATE,
                before={"arr": "1"},
                after={"arr": "2"},
                at=dt.datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
                source="web",
            )
        )
        rows.append(
            build_event(
                actor=book.admin,
                obj=book.east,
                action=AuditAction.CREATE,
                before=None,
                after={"name": "AMER East"},
                at=dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
                source="web",
            )
        )
    rows.append(
        build_event(
            actor=book.manager,
            obj=book.other_account,
            action=AuditAction.UPDATE,
            before={},
            after={},
            at=dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
            source="api",
        )
    )
    rows.append(
        build_event(
            actor=None,
            obj=book.tam,
            action=AuditAction.CREATE,
            before=None,
            after={},
            at=dt.datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
            source="import",
        )
    )
    AuditEvent.objects.bulk_create(rows)
    return book


def reprs(user, **filters):
    return [e.object_repr for e in audit_events(user=user, filters=AuditFilters(**filters))]


def test_only_admins_read_the_log(trail):
    assert reprs(trail.admin) == ["Tara Tam", "Globex", "AMER East", "Acme Corp"]
    for who in ("director", "manager", "tam", "sal"):
        with pytest.raises(PermissionDenied):
            audit_events(user=getattr(trail, who), filters=AuditFilters())


def test_filters(trail):
    admin = trail.admin
    assert reprs(admin, object_type="accounts.account") == ["Globex", "Acme Corp"]
    assert reprs(admin, action="create") == ["Tara Tam", "AMER East"]
    assert reprs(admin, actor_id=trail.manager.pk) == ["Globex"]
    assert reprs(admin, system_actor=True) == ["Tara Tam"]
    assert reprs(admin, request_id="req-1") == ["AMER East", "Acme Corp"]
    assert reprs(admin, q="acme") == ["Acme Corp"]
    assert reprs(admin, q=str(trail.other_account.pk), object_type="accounts.account") == ["Globex"]


def test_date_range_is_inclusive_utc_days(trail):
    admin = trail.admin
    assert reprs(admin, date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2)) == ["Globex", "AMER East"]
    assert reprs(admin, date_to=dt.date(2026, 3, 1)) == ["Acme Corp"]
    assert reprs(admin, date_from=dt.date(2026, 3, 3)) == ["Tara Tam"]


def test_filters_active():
    assert not AuditFilters().active
    assert AuditFilters(q="x").active and AuditFilters(system_actor=True).active


def test_choices(trail):
    assert audit_object_types() == [
        ("accounts.account", "Account"),
        ("people.region", "Region"),
        ("people.user", "Person"),
    ]
    assert object_type_label("gone.model") == "gone.model"
    assert object_type_label("nonsense") == "nonsense"
    assert (trail.manager.pk, "Mia Manager") in audit_actor_choices()


def test_attach_changes_names_referenced_objects(trail, django_assert_num_queries):
    from tamarind.accounts import services as account_services

    account_services.account_set_tam(actor=trail.manager, account=trail.account, tam=trail.tam2)
    trail.sa.full_name  # noqa: B018 (loaded before the count)
    events = list(audit_events(user=trail.admin, filters=AuditFilters(object_type="accounts.account")))
    with django_assert_num_queries(1):  # one query for the people named, whatever the number of rows
        from tamarind.audit.selectors import attach_changes

        attach_changes(events)
    tam_change = events[0].changes
    assert [(c.field, c.before, c.after) for c in tam_change] == [("tam", "Tara Tam", "Theo Tam")]
    assert [(c.field, c.before, c.after) for c in events[-1].changes] == [("arr", "1", "2")]
