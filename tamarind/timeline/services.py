"""Writes to the account timeline. Logging an entry is policy-checked and audited; a call or meeting with the
customer may set the first engagement of the account's open onboarding (through the onboarding service)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import DATE_RANGE_MESSAGE, NUL_MESSAGE, date_out_of_range
from tamarind.onboarding.services import onboarding_record_engagement
from tamarind.people.models import User
from tamarind.timeline.models import ENGAGEMENT_KINDS, ENTRY_FIELDS, LOGGED_KINDS, EntryKind, TimelineEntry

ENTRY_KEYS = frozenset({"kind", "occurred_at", "title", "notes", "external_attendees", "internal_attendees"})
TITLE_MAX = 200
MAX_ATTENDEES = 50


def _text(value: Any, name: str, *, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed({name: ["Enter text."]})
    if "\x00" in value:
        raise ValidationFailed({name: [NUL_MESSAGE]})
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed({name: [f"At most {max_length} characters."]})
    return value


def _when(value: Any) -> dt.datetime:
    """An aware date and time, not in the future; a bare date means noon of that day (local time)."""
    if value in (None, ""):
        return timezone.now()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed({"occurred_at": [f"Enter a date and time, not {value[:40]!r}."]}) from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(12, 0))
    if not isinstance(value, dt.datetime):
        raise ValidationFailed({"occurred_at": ["Enter a date and time."]})
    if date_out_of_range(value):  # before any time zone arithmetic, which could leave the calendar
        raise ValidationFailed({"occurred_at": [DATE_RANGE_MESSAGE]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if timezone.localdate(value) > timezone.localdate():
        raise ValidationFailed({"occurred_at": ["Log what happened: the date cannot be in the future."]})
    return value


def _attendees(value: Any) -> list[User]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple | set):
        raise ValidationFailed({"internal_attendees": ["Give a list of people."]})
    if len(value) > MAX_ATTENDEES:
        raise ValidationFailed({"internal_attendees": [f"At most {MAX_ATTENDEES} people."]})
    ids: set[int] = set()
    for item in value:
        pk = getattr(item, "pk", item)
        if isinstance(pk, bool) or not isinstance(pk, int | str):
            raise ValidationFailed({"internal_attendees": [f"{str(item)[:40]!r} is not a person's id."]})
        try:
            ids.add(int(pk))
        except ValueError:
            raise ValidationFailed({"internal_attendees": [f"{str(item)[:40]!r} is not a person's id."]}) from None
    if any(abs(pk) > 2**63 - 1 for pk in ids):
        raise ValidationFailed({"internal_attendees": ["No such person."]})
    people = list(User.objects.filter(pk__in=ids, is_active=True).order_by("full_name"))
    if len(people) != len(ids):
        missing = sorted(ids - {p.pk for p in people})
        raise ValidationFailed({"internal_attendees": [f"No active person with id {missing[0]}."]})
    return people


@transaction.atomic
def timeline_entry_create(*, actor: User, account: Account, data: dict[str, Any], source: str = "web") -> TimelineEntry:
    """Log a call, meeting, email or note on ``account``.

    ``data``: ``kind`` (required), ``occurred_at`` (default now; a date or ISO text; not in the future),
    ``title`` (default: the kind's name), ``notes``, ``external_attendees`` (text), ``internal_attendees``
    (people or ids). A call or meeting with customer attendees on or after the open onboarding's start sets
    its first engagement when it is the earliest such engagement.
    """
    if not policy.can_log_timeline(actor, account):
        raise PermissionDenied("Only the account's team, its region's manager and admins log timeline entries.")
    return timeline_entry_write(actor=actor, account=account, data=data, source=source)


@transaction.atomic
def timeline_entry_write(*, actor: User, account: Account, data: dict[str, Any], source: str = "web") -> TimelineEntry:
    """``timeline_entry_create`` without its policy check, for a service that has checked its own (a pool TAM
    logging outreach to a stuck customer: ``stuck.services``). Validated, audited, with the same side effects."""
    unknown = set(data) - ENTRY_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown timeline field(s): {', '.join(sorted(unknown))}."]})
    kind = data.get("kind")
    if kind not in LOGGED_KINDS:
        raise ValidationFailed({"kind": [f"Choose one of: {', '.join(LOGGED_KINDS)}."]})
    title = _text(data.get("title"), "title", max_length=TITLE_MAX) or EntryKind(kind).label
    entry = TimelineEntry(
        account=account,
        kind=kind,
        occurred_at=_when(data.get("occurred_at")),
        title=" ".join(title.split()),
        notes=_text(data.get("notes"), "notes"),
        external_attendees=_text(data.get("external_attendees"), "external_attendees", max_length=2000),
        author=actor,
        created_at=timezone.now(),
    )
    attendees = _attendees(data.get("internal_attendees"))
    entry.save()
    if attendees:
        entry.internal_attendees.set(attendees)
    after = snapshot(entry, ENTRY_FIELDS)
    after["internal_attendees"] = [p.pk for p in attendees]
    audit_record(actor=actor, obj=entry, action=AuditAction.CREATE, before=None, after=after, source=source)
    if entry.is_engagement:
        onboarding_record_engagement(
            actor=actor, account=account, on=timezone.localdate(entry.occurred_at), source=source
        )
    if entry.kind in ENGAGEMENT_KINDS:
        # A call or meeting is the engagement measure's input: rescore the account now, not at the next full run.
        from tamarind.health.services import health_recompute_accounts

        health_recompute_accounts(account_ids=[account.pk], source=source, actor=actor)
    return entry
