"""Reads of the audit trail: the filtered log for admins, and the choices its filters offer."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q

from tamarind import policy
from tamarind.audit.models import AuditEvent, AuditEventQuerySet
from tamarind.people.models import User

SYSTEM_ACTOR = "system"
# Labels where the model's verbose name reads badly once capitalised.
_TYPE_LABELS = {"people.apitoken": "API token", "people.user": "Person"}


@dataclass
class AuditFilters:
    """The audit log's filters, shared by the page and the CSV export."""

    object_type: str = ""
    action: str = ""
    actor_id: int | None = None
    system_actor: bool = False  # changes made by no one in particular (imports run by the system, set-up)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    request_id: str = ""
    q: str = ""

    def apply(self, qs: AuditEventQuerySet) -> AuditEventQuerySet:
        if self.object_type:
            qs = qs.filter(object_type=self.object_type)
        if self.action:
            qs = qs.filter(action=self.action)
        if self.system_actor:
            qs = qs.filter(actor__isnull=True)
        elif self.actor_id is not None:
            qs = qs.filter(actor_id=self.actor_id)
        # Days are UTC days, as the log shows UTC times; the upper bound is inclusive of the whole day.
        if self.date_from is not None:
            qs = qs.filter(at__gte=_utc_midnight(self.date_from))
        if self.date_to is not None:
            qs = qs.filter(at__lt=_utc_midnight(self.date_to + dt.timedelta(days=1)))
        if self.request_id:
            qs = qs.filter(request_id=self.request_id)
        if self.q:
            qs = qs.filter(Q(object_repr__icontains=self.q) | Q(object_id=self.q))
        return qs

    @property
    def active(self) -> bool:
        return bool(
            self.object_type
            or self.action
            or self.actor_id is not None
            or self.system_actor
            or self.date_from
            or self.date_to
            or self.request_id
            or self.q
        )


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def audit_events(*, user: User, filters: AuditFilters) -> AuditEventQuerySet:
    """The log ``user`` may read (admins only; others get PermissionDenied), newest first."""
    if not policy.can_view_audit_log(user):
        raise PermissionDenied("Only admins read the audit log.")
    return filters.apply(AuditEvent.objects.all()).order_by("-at", "-id")


def object_type_label(object_type: str) -> str:
    """``accounts.account`` -> ``Account``; an unknown label (a model since removed) is shown as stored."""
    if object_type in _TYPE_LABELS:
        return _TYPE_LABELS[object_type]
    try:
        return str(apps.get_model(object_type)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return object_type


def audit_object_types() -> list[tuple[str, str]]:
    """(object_type, label) for each kind of object the trail holds, for the filter."""
    types = AuditEvent.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    return [(t, object_type_label(t)) for t in types]


def audit_actor_choices() -> list[tuple[int, str]]:
    """(id, name) of every person, for the actor filter."""
    return list(User.objects.order_by("full_name", "id").values_list("pk", "full_name"))


@dataclass(frozen=True)
class Change:
    """One changed field of an event, with foreign keys shown by name (``tam: Tara Tam -> Theo Tam``)."""

    field: str
    before: Any
    after: Any


def _related_model(object_type: str, field_name: str) -> type[models.Model] | None:
    """The model a snapshot field points at (``accounts.account`` + ``tam`` -> User), if it is a foreign key."""
    try:
        field = apps.get_model(object_type)._meta.get_field(field_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None
    if field.concrete and (field.many_to_one or field.one_to_one):
        return field.related_model
    return None


def attach_changes(events: Iterable[AuditEvent]) -> None:
    """Set ``event.changes`` on each event, naming referenced objects.

    Snapshots store foreign keys by id. The ids on the page are gathered first and read with one query per
    referenced model (people, regions, tiers, accounts), so a page costs the same whatever it shows. An id
    whose object is gone since is shown as ``#id``.
    """
    events = list(events)
    wanted: dict[type[models.Model], set[str]] = defaultdict(set)
    for event in events:
        for name, before, after in event.changed_fields():
            model = _related_model(event.object_type, name)
            if model is not None:
                wanted[model].update(str(v) for v in (before, after) if v not in (None, ""))
    names: dict[type[models.Model], dict[str, str]] = {
        model: {str(obj.pk): str(obj) for obj in model._default_manager.filter(pk__in=ids)}
        for model, ids in wanted.items()
    }

    def label(model: type[models.Model] | None, value: Any) -> Any:
        if model is None or value in (None, ""):
            return value
        return names[model].get(str(value), f"#{value}")

    for event in events:
        changes = []
        for name, before, after in event.changed_fields():
            model = _related_model(event.object_type, name)
            changes.append(Change(field=name, before=label(model, before), after=label(model, after)))
        event.changes = changes  # type: ignore[attr-defined]
