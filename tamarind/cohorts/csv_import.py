"""Cohort activity from a CSV file: ``Account ID, Contact Email, Kind, Date, Count`` (the contact optional).

The importers' contract: the file is streamed (read row by row, never whole), every problem is reported with its
line number, a file with any problem writes nothing (all or nothing), and importing the same file again changes
nothing. A row is keyed on (member account, contact or none, kind, day): a key not seen before is created, a key
from an earlier file gets the row's count (updated only when it differs). The same key twice in one file is an
error (which count would be meant is unclear).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import IO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record_many, build_event, snapshot
from tamarind.cohorts.models import ActivityKind, ActivitySource, Cohort, CohortActivity, CohortMember
from tamarind.cohorts.services import ACTIVITY_FIELDS, validate_activity
from tamarind.contacts.models import Contact
from tamarind.core.csv_safe import unescape_cell
from tamarind.core.errors import ValidationFailed
from tamarind.imports.columns import CellError, header_key, parse_count, parse_date
from tamarind.people.models import User

COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "account": (("Account ID", "CRM ID", "Account CRM ID", "account", "account_id"), True),
    "email": (("Contact Email", "Email", "contact", "contact_email"), False),
    "kind": (("Kind", "Activity", "Type"), True),
    "day": (("Date", "Day"), True),
    "count": (("Count", "Number"), True),
}
MAX_ROWS = 100_000
MAX_ERRORS = 200

Key = tuple[int, int | None, str, dt.date]


@dataclass
class ImportOutcome:
    """What an import did (or, with ``errors``, why it wrote nothing)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    crm: str
    email: str
    kind: str
    day: dt.date
    count: int


def _header(cells: list[str], errors: list[str]) -> dict[str, int]:
    keys = [header_key(unescape_cell(c.strip())) for c in cells]
    index: dict[str, int] = {}
    for name, (aliases, required) in COLUMNS.items():
        for alias in aliases:
            if header_key(alias) in keys:
                index[name] = keys.index(header_key(alias))
                break
        else:
            if required:
                errors.append(f'line 1: missing required column "{aliases[0]}"')
    return index


def _parse(stream: IO[bytes], errors: list[str]) -> list[_Row]:
    """Pass 1: stream the file, check every cell; the parsed rows (not the file) are kept."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    rows: list[_Row] = []
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            errors.append("line 1: the file is empty")
            return rows
        index = _header(header, errors)
        if errors:
            return rows
        width = max(index.values()) + 1
        previous = reader.line_num
        for cells in reader:
            line = previous + 1
            previous = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                errors.append(f"line {line}: more than {MAX_ROWS:,} rows; split the file")
                break
            cells = cells + [""] * max(0, width - len(cells))
            v = {f: unescape_cell(cells[i].strip()) for f, i in index.items()}
            problems = []
            if any("\x00" in x for x in v.values()):
                errors.append(f"line {line}: contains a NUL character")
                continue
            if not v["account"]:
                problems.append("Account ID is required")
            kind = v["kind"].lower()
            if kind.endswith("s") and kind[:-1] in ActivityKind.values:
                kind = kind[:-1]
            if kind not in ActivityKind.values:
                problems.append(f'Kind "{v["kind"][:40]}" is not post, answer or session')
            day: dt.date | None = None
            try:
                day = parse_date(v["day"])
            except CellError as exc:
                problems.append(f'Date "{v["day"][:40]}" {exc}')
            count = 0
            try:
                count = parse_count(v["count"] or "1")
            except CellError as exc:
                problems.append(f'Count "{v["count"][:40]}" {exc}')
            if not problems and day is not None:
                problems += [f"{k} {m[0].rstrip('.')}" for k, m in validate_activity(kind, day, count, "").items()]
            if problems:
                errors.extend(f"line {line}: {p}" for p in problems)
            elif day is not None:
                rows.append(_Row(line, v["account"], v.get("email", "").lower(), kind, day, count))
            if len(errors) >= MAX_ERRORS:
                break
    except UnicodeDecodeError:
        errors.append("the file is not UTF-8 text")
    except csv.Error as exc:
        errors.append(f"the CSV is malformed ({exc})")
    finally:
        text.detach()  # leave the caller's stream open
    return rows


@transaction.atomic
def activity_import(*, actor: User, cohort: Cohort, stream: IO[bytes], source: str = "web") -> ImportOutcome:
    """Import a file of activity into ``cohort`` (see the module). Raises ``ValidationFailed`` with every
    line-numbered problem, having written nothing; otherwise returns the counts."""
    if not policy.can_manage_cohort(actor, cohort):
        raise PermissionDenied("You may read this cohort but not change it.")
    errors: list[str] = []
    rows = _parse(stream, errors)
    members = {
        m.account.crm_id: m
        for m in CohortMember.objects.filter(cohort=cohort, account__crm_id__in={r.crm for r in rows}).select_related(
            "account"
        )
    }
    emails = {r.email for r in rows if r.email}
    contacts = {
        (c.account_id, c.email): c
        for c in Contact.objects.filter(account_id__in=[m.account_id for m in members.values()], email__in=emails)
    }
    keyed: dict[Key, tuple[_Row, CohortMember, Contact | None]] = {}
    seen: dict[Key, int] = {}
    for r in rows:
        member = members.get(r.crm)
        if member is None:
            errors.append(f'line {r.line}: Account ID "{r.crm[:64]}" is not a member of this cohort')
            continue
        contact = None
        if r.email:
            contact = contacts.get((member.account_id, r.email))
            if contact is None:
                errors.append(
                    f'line {r.line}: Contact Email "{r.email[:80]}" is not a contact of {member.account.name}'
                )
                continue
        key: Key = (member.pk, contact.pk if contact else None, r.kind, r.day)
        if key in seen:
            errors.append(f"line {r.line}: the same account, contact, kind and date as line {seen[key]}")
            continue
        seen[key] = r.line
        keyed[key] = (r, member, contact)
    if errors:
        errors.sort(key=lambda e: int(e.split(":")[0].split()[-1]) if e.startswith("line ") else 0)
        raise ValidationFailed({"file": errors[:MAX_ERRORS]})
    existing: dict[Key, CohortActivity] = {
        (a.member_id, a.contact_id, a.kind, a.day): a
        for a in CohortActivity.objects.filter(
            member__cohort=cohort, source=ActivitySource.CSV, member_id__in={k[0] for k in keyed}
        )
    }
    outcome = ImportOutcome(rows=len(keyed))
    now = timezone.now()
    events = []
    to_create = []
    for key, (r, member, contact) in keyed.items():
        current = existing.get(key)
        if current is None:
            to_create.append(
                CohortActivity(
                    member=member,
                    contact=contact,
                    kind=r.kind,
                    day=r.day,
                    count=r.count,
                    source=ActivitySource.CSV,
                    recorded_by=actor,
                    created_at=now,
                )
            )
        elif current.count != r.count:
            before = snapshot(current, ACTIVITY_FIELDS)
            current.count = r.count
            current.save(update_fields=["count"])
            events.append(
                build_event(
                    actor=actor,
                    obj=current,
                    action=AuditAction.UPDATE,
                    before=before,
                    after=snapshot(current, ACTIVITY_FIELDS),
                    source=source,
                )
            )
            outcome.updated += 1
        else:
            outcome.unchanged += 1
    created = CohortActivity.objects.bulk_create(to_create, batch_size=2000)
    outcome.created = len(created)
    for a in created:
        events.append(
            build_event(
                actor=actor,
                obj=a,
                action=AuditAction.CREATE,
                before=None,
                after=snapshot(a, ACTIVITY_FIELDS),
                source=source,
            )
        )
    if events:
        audit_record_many(events)
    return outcome
