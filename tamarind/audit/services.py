"""Writing the audit trail. Every service that changes business data calls ``audit_record``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.core.bulk import insert_instances
from tamarind.core.context import current_request_id


def jsonable(value: Any) -> Any:
    """A JSON-safe form of a field value (decimals as strings so no cent is lost)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of ``fields`` on ``obj``, foreign keys by id (``tam`` -> value of ``tam_id``)."""
    out: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = jsonable(getattr(obj, attname))
    return out


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "full_name", "") or getattr(actor, "email", "") or str(actor)


def build_event(
    *,
    actor: Any,
    obj: models.Model,
    action: AuditAction,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    source: str = "",
    at: dt.datetime | None = None,
) -> AuditEvent:
    """An unsaved event, for callers that write many at once with ``bulk_create``."""
    return AuditEvent(
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_label(actor)[:200],
        request_id=current_request_id(),
        source=source,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        before=before,
        after=after,
    )


def audit_record(
    *,
    actor: Any,
    obj: models.Model,
    action: AuditAction,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    source: str = "",
) -> AuditEvent:
    """Record one change. Call it inside the service's transaction so the change and its trail commit together."""
    event = build_event(actor=actor, obj=obj, action=action, before=before, after=after, source=source)
    event.save()
    return event


def audit_record_many(events: Sequence[AuditEvent], *, batch_size: int = 2000) -> None:
    """Record many events at once (imports, rules over a whole book), by ``COPY`` on PostgreSQL
    (``core.bulk.insert_instances``); the events come back without primary keys, which no caller needs."""
    insert_instances(events, batch_size=batch_size)
