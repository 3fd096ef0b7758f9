"""Writes of webinars: sessions created and edited, an attendee report imported (whole or not at all; a re-import
replaces the session's registrations and attendance), an unmatched registrant matched to a contact. Atomic,
policy-checked, audited."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.contacts.models import Contact
from tamarind.core.bulk import chunks
from tamarind.core.errors import ValidationFailed
from tamarind.people.models import User
from tamarind.webinars import report, selectors
from tamarind.webinars.models import Attendance, Round, Session, Topic, UnmatchedAttendee, UnmatchedReason

SESSION_FIELDS = ("topic", "round", "title", "starts_at", "ends_at", "host", "recording_url")
IMPORT_FIELDS = ("report_filename", "report_rows", "imported_at")
EMAIL_BATCH = 2000
DEFAULT_MAX_REPORT_BYTES = 20 * 1024 * 1024


class ReportTooLarge(ValidationFailed):
    """The attendee report is larger than ``TAMARIND_WEBINAR_REPORT_MAX_BYTES`` (the web and API answer 413)."""


def max_report_bytes() -> int:
    return int(getattr(settings, "TAMARIND_WEBINAR_REPORT_MAX_BYTES", DEFAULT_MAX_REPORT_BYTES))


def too_large_message(size: int) -> str:
    return f"The attendee report is {size:,} bytes; the largest accepted is {max_report_bytes():,} bytes."


def _require_editor(actor: User | None) -> None:
    if actor is not None and not policy.can_edit_webinars(actor):
        raise PermissionDenied("Admins and TAM Managers change webinars.")


def _clean_session(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    topic = data.get("topic")
    if not isinstance(topic, Topic):
        errors["topic"] = ["Choose a topic."]
    out["topic"] = topic
    rnd = str(data.get("round") or "")
    if rnd not in Round.values:
        errors["round"] = ["Choose round 1, 2 or 3."]
    out["round"] = rnd
    out["title"] = str(data.get("title") or "").strip()[:200]
    starts, ends = data.get("starts_at"), data.get("ends_at")
    for name, value in (("starts_at", starts), ("ends_at", ends)):
        if not isinstance(value, dt.datetime):
            errors[name] = ["Give a date and time."]
        elif timezone.is_naive(value):
            out[name] = timezone.make_aware(value)
        else:
            out[name] = value
    if "starts_at" in out and "ends_at" in out:
        if out["ends_at"] <= out["starts_at"]:
            errors["ends_at"] = ["The session must end after it starts."]
        elif out["ends_at"] - out["starts_at"] > dt.timedelta(hours=12):
            errors["ends_at"] = ["A session lasts at most 12 hours."]
    host = data.get("host")
    if host is not None and not (isinstance(host, User) and host.is_active):
        errors["host"] = ["Choose an active person as host."]
    out["host"] = host
    url = str(data.get("recording_url") or "").strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["recording_url"] = ["Enter a valid http(s) link to the recording."]
        if len(url) > 500:
            errors["recording_url"] = ["The link is longer than 500 characters."]
    out["recording_url"] = url
    if errors:
        raise ValidationFailed(errors)
    return out


@transaction.atomic
def session_create(*, actor: User | None, data: dict[str, Any], source: str = "web") -> Session:
    """A new session of a topic in a round (``data``: topic, round, title, starts_at, ends_at, host,
    recording_url)."""
    _require_editor(actor)
    clean = _clean_session(data)
    session = Session.objects.create(**clean)
    audit_record(
        actor=actor,
        obj=session,
        action=AuditAction.CREATE,
        after=snapshot(session, SESSION_FIELDS),
        source=source,
    )
    return session


@transaction.atomic
def session_update(*, actor: User | None, session: Session, data: dict[str, Any], source: str = "web") -> Session:
    """Change a session (all of its editable fields; stay-to-end is recomputed when its end moves)."""
    _require_editor(actor)
    clean = _clean_session(data)
    before = snapshot(session, SESSION_FIELDS)
    old_end = session.ends_at
    for name, value in clean.items():
        setattr(session, name, value)
    session.updated_at = timezone.now()
    session.save(update_fields=[*SESSION_FIELDS, "updated_at"])
    after = snapshot(session, SESSION_FIELDS)
    if after != before:
        audit_record(actor=actor, obj=session, action=AuditAction.UPDATE, before=before, after=after, source=source)
    if session.ends_at != old_end:
        _restamp_stayed(session)
    return session


def _stay_cutoff(session: Session) -> dt.datetime:
    return session.ends_at - dt.timedelta(minutes=selectors.webinar_settings().stayed_within_minutes)


def _restamp_stayed(session: Session) -> None:
    cutoff = _stay_cutoff(session)
    session.attendances.filter(last_leave__gte=cutoff).update(stayed_to_end=True)
    session.attendances.filter(last_leave__lt=cutoff).update(stayed_to_end=False)


# --- The attendee report ----------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What an import wrote: attendance rows (registrations: ``attendances``, of which ``no_shows`` did not attend),
    unmatched registrants (of which matched earlier and re-applied), the report's rows, the rows it replaced."""

    rows: int = 0
    attendances: int = 0
    no_shows: int = 0
    unmatched: int = 0
    reapplied: int = 0
    replaced: int = 0
    errors: list[str] = field(default_factory=list)


def parse_upload(*, session: Session, stream: IO[bytes], size: int | None) -> report.ParsedReport:
    """Check the size, then stream the report through ``report.parse_report``; ``ReportTooLarge`` /
    ``ValidationFailed`` (every line-numbered error under ``file``) when it may not be imported."""
    if size is not None and size > max_report_bytes():
        raise ReportTooLarge({"file": [too_large_message(size)]})
    # Decoded as it streams: the report is never read whole.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        parsed = report.parse_report(iter(text), starts_at=session.starts_at, ends_at=session.ends_at)
    except UnicodeDecodeError as exc:
        raise ValidationFailed({"file": [f"The file is not UTF-8 text (at byte {exc.start})."]}) from None
    except report.csv.Error as exc:
        raise ValidationFailed({"file": [f"The CSV is malformed ({exc})."]}) from None
    finally:
        text.detach()  # the upload stays open for its owner
    if not parsed.ok:
        raise ValidationFailed({"file": parsed.errors})
    return parsed


def _contacts_by_email(emails: list[str]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for chunk in chunks(sorted(emails), EMAIL_BATCH):
        for pk, email, account_id in Contact.objects.filter(email__in=list(chunk)).values_list(
            "pk", "email", "account_id"
        ):
            out.setdefault(email.lower(), []).append((pk, account_id))
    return out


def _attendance(
    *,
    session: Session,
    contact_id: int,
    account_id: int,
    email: str,
    name: str,
    pairs: list[tuple[dt.datetime, dt.datetime]],
    cutoff: dt.datetime,
    feedback: int | None,
    matched_by_id: int | None,
) -> Attendance:
    """An unsaved registration from its join/leave ``pairs``: attended when there are any (merged), else a
    registrant who did not attend (no times, no minutes, not stayed, no feedback)."""
    if not pairs:
        return Attendance(
            session=session,
            contact_id=contact_id,
            account_id=account_id,
            email=email,
            name=name,
            attended=False,
            matched_by_id=matched_by_id,
        )
    merged = report.merge_intervals(pairs)
    return Attendance(
        session=session,
        contact_id=contact_id,
        account_id=account_id,
        email=email,
        name=name,
        attended=True,
        first_join=merged.first_join,
        last_leave=merged.last_leave,
        minutes_attended=merged.minutes,
        stayed_to_end=merged.last_leave >= cutoff,
        feedback=feedback,
        matched_by_id=matched_by_id,
    )


@transaction.atomic
def attendee_report_import(
    *,
    actor: User | None,
    session: Session,
    stream: IO[bytes],
    filename: str = "",
    size: int | None = None,
    source: str = "web",
) -> ImportSummary:
    """Import the webinar platform's attendee report for ``session``: whole or not at all (any line-numbered
    error: nothing written). Each email's join/leave rows are merged; an email of exactly one contact becomes
    its registration, attended or not (a person with a no-show row and attended rows attended); an unknown email,
    or one of contacts at several accounts, an unmatched registrant (a person's earlier match of that email is
    re-applied). Idempotent: the session's registrations and unmatched registrants are replaced, so importing the
    same report twice leaves the same rows. One audit event on the session."""
    _require_editor(actor)
    session = Session.objects.select_for_update().get(pk=session.pk)
    parsed = parse_upload(session=session, stream=stream, size=size)
    cutoff = _stay_cutoff(session)
    known = _contacts_by_email(list(parsed.attendees))
    earlier: dict[str, tuple[int, int, int | None, dt.datetime | None]] = {}
    for u in session.unmatched.filter(resolved_contact__isnull=False).select_related("resolved_contact"):
        if u.resolved_contact is not None:
            earlier[u.email] = (u.resolved_contact.pk, u.resolved_contact.account_id, u.resolved_by_id, u.resolved_at)
    before = {
        **snapshot(session, IMPORT_FIELDS),
        "attendances": session.attendances.count(),
        "unmatched": session.unmatched.count(),
    }
    summary = ImportSummary(rows=parsed.rows, replaced=before["attendances"])
    by_contact: dict[int, tuple[int, list[report.Attendee], int | None]] = {}
    unmatched_rows: list[UnmatchedAttendee] = []
    for email, attendee in parsed.attendees.items():
        found = known.get(email, [])
        merged = attendee.merged() if attendee.attended else None
        resolved = earlier.get(email) if len(found) != 1 else None
        if len(found) != 1:
            unmatched_rows.append(
                UnmatchedAttendee(
                    session=session,
                    email=email,
                    name=attendee.name,
                    reason=UnmatchedReason.AMBIGUOUS if found else UnmatchedReason.UNKNOWN,
                    attended=attendee.attended,
                    intervals=[[j.isoformat(), v.isoformat()] for j, v in attendee.intervals],
                    first_join=merged.first_join if merged else None,
                    last_leave=merged.last_leave if merged else None,
                    minutes_attended=merged.minutes if merged else 0,
                    feedback=attendee.feedback,
                    lines=", ".join(str(n) for n in attendee.lines)[:200],
                    resolved_contact_id=resolved[0] if resolved else None,
                    resolved_by_id=resolved[2] if resolved else None,
                    resolved_at=resolved[3] if resolved else None,
                )
            )
            if resolved is None:
                continue
            summary.reapplied += 1
            contact_id, account_id, matched_by = resolved[0], resolved[1], resolved[2]
        else:
            (contact_id, account_id), matched_by = found[0], None
        held = by_contact.get(contact_id)
        by_contact[contact_id] = (account_id, [*(held[1] if held else []), attendee], matched_by)
    rows = []
    for contact_id, (account_id, attendees, matched_by) in by_contact.items():
        # Several emails may land on one contact (a hand match re-applied): attended if any of them attended.
        pairs = [pair for a in attendees for pair in a.intervals]
        feedback = next((a.feedback for a in reversed(attendees) if a.feedback is not None), None)
        rows.append(
            _attendance(
                session=session,
                contact_id=contact_id,
                account_id=account_id,
                email=(next((a for a in attendees if a.attended), attendees[0])).email,
                name=next((a.name for a in attendees if a.name), ""),
                pairs=pairs,
                cutoff=cutoff,
                feedback=feedback,
                matched_by_id=matched_by,
            )
        )
    session.attendances.all().delete()
    session.unmatched.all().delete()
    Attendance.objects.bulk_create(rows, batch_size=2000)
    UnmatchedAttendee.objects.bulk_create(unmatched_rows, batch_size=2000)
    session.report_filename = (filename or "")[:255]
    session.report_rows = parsed.rows
    session.imported_at = timezone.now()
    session.save(update_fields=[*IMPORT_FIELDS])
    summary.attendances = len(rows)
    summary.no_shows = sum(1 for r in rows if not r.attended)
    summary.unmatched = sum(1 for u in unmatched_rows if u.resolved_at is None)
    after = {
        **snapshot(session, IMPORT_FIELDS),
        "attendances": len(rows),
        "no_shows": summary.no_shows,
        "unmatched": len(unmatched_rows),
    }
    audit_record(actor=actor, obj=session, action=AuditAction.UPDATE, before=before, after=after, source=source)
    return summary


@transaction.atomic
def unmatched_match(
    *, actor: User | None, unmatched: UnmatchedAttendee, contact: Contact, source: str = "web"
) -> Attendance:
    """Match an unmatched attendee to a contact: the contact's attendance is written from the attendee's
    intervals, and the unmatched row stays, resolved (a re-import re-applies the choice). A contact who already
    has attendance at the session, or an attendee already matched: a ValidationFailed."""
    _require_editor(actor)
    row = UnmatchedAttendee.objects.select_for_update().select_related("session").get(pk=unmatched.pk)
    if row.resolved_at is not None:
        raise ValidationFailed({"contact": ["This attendee is already matched."]})
    session = row.session
    if Attendance.objects.filter(session=session, contact=contact).exists():
        raise ValidationFailed({"contact": [f"{contact.email} already has attendance at this session."]})
    pairs = [(dt.datetime.fromisoformat(j), dt.datetime.fromisoformat(v)) for j, v in row.intervals]
    if row.attended and not pairs and row.first_join is not None and row.last_leave is not None:
        pairs = [(row.first_join, row.last_leave)]  # an attendee kept without its intervals: its span
    attendance = _attendance(
        session=session,
        contact_id=contact.pk,
        account_id=contact.account_id,
        email=row.email,
        name=row.name,
        pairs=pairs if row.attended else [],
        cutoff=_stay_cutoff(session),
        feedback=row.feedback,
        matched_by_id=actor.pk if actor is not None else None,
    )
    attendance.save(force_insert=True)
    before = snapshot(row, ("resolved_contact", "resolved_by", "resolved_at"))
    row.resolved_contact = contact
    row.resolved_by = actor
    row.resolved_at = timezone.now()
    row.save(update_fields=["resolved_contact", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        obj=row,
        action=AuditAction.UPDATE,
        before=before,
        after=snapshot(row, ("resolved_contact", "resolved_by", "resolved_at")),
        source=source,
    )
    audit_record(
        actor=actor,
        obj=attendance,
        action=AuditAction.CREATE,
        after=snapshot(
            attendance, ("session", "contact", "account", "email", "attended", "minutes_attended", "stayed_to_end")
        ),
        source=source,
    )
    unmatched.resolved_contact, unmatched.resolved_at = row.resolved_contact, row.resolved_at
    return attendance


@transaction.atomic
def session_delete(*, actor: User | None, session: Session, source: str = "web") -> None:
    """Delete a session with its attendance and unmatched attendees (one audit event with what it held)."""
    _require_editor(actor)
    before = {
        **snapshot(session, SESSION_FIELDS),
        "attendances": session.attendances.count(),
        "unmatched": session.unmatched.count(),
    }
    audit_record(actor=actor, obj=session, action=AuditAction.DELETE, before=before, source=source)
    session.delete()
