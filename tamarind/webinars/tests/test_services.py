"""Importing attendee reports (all-or-nothing, idempotent, matching by email, unmatched kept), matching by hand,
and the session writes: policy-checked and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.testing.factories import AccountFactory, ContactFactory
from tamarind.webinars import services
from tamarind.webinars.models import Attendance, Round, Topic, UnmatchedAttendee, UnmatchedReason
from tamarind.webinars.tests.factories import END, START, csv_bytes, make_session, stream

pytestmark = pytest.mark.django_db


def _import(book, session, data: bytes):
    return services.attendee_report_import(actor=book.admin, session=session, stream=stream(data), filename="r.csv")


def _state(session):
    att = sorted(
        Attendance.objects.filter(session=session).values_list(
            "contact_id", "minutes_attended", "stayed_to_end", "feedback", "first_join", "last_leave"
        )
    )
    un = sorted(UnmatchedAttendee.objects.filter(session=session).values_list("email", "reason", "minutes_attended"))
    return att, un


def test_import_merges_matches_and_keeps_the_unmatched(book):
    session = make_session()
    ann = ContactFactory(account=book.account, email="ann@customer.example")
    twin_a = ContactFactory(account=book.account, email="twin@shared.example")
    twin_b = ContactFactory(account=AccountFactory(region=book.east), email="twin@shared.example")
    data = csv_bytes(
        [
            ("ANN@customer.example", "Ann", 0, 30, ""),
            ("ann@customer.example", "Ann", 20, 58, "5"),
            ("twin@shared.example", "Twin", 0, 60, "4"),
            ("ghost@nowhere.example", "Ghost", 5, 15, ""),
        ]
    )
    summary = _import(book, session, data)
    assert (summary.rows, summary.attendances, summary.unmatched) == (4, 1, 2)
    a = Attendance.objects.get(session=session)
    assert (a.contact_id, a.account_id, a.minutes_attended, a.stayed_to_end, a.feedback) == (
        ann.pk,
        book.account.pk,
        58,
        True,
        5,
    )
    assert a.first_join == START and a.last_leave == START + dt.timedelta(minutes=58)
    reasons = dict(UnmatchedAttendee.objects.filter(session=session).values_list("email", "reason"))
    assert reasons == {
        "twin@shared.example": UnmatchedReason.AMBIGUOUS,
        "ghost@nowhere.example": UnmatchedReason.UNKNOWN,
    }
    assert {twin_a.pk, twin_b.pk}  # both contacts exist: the email is ambiguous, not unknown
    session.refresh_from_db()
    assert session.report_rows == 4 and session.report_filename == "r.csv"
    event = AuditEvent.objects.filter(object_type__icontains="session", object_id=str(session.pk)).latest("pk")
    assert event.after["attendances"] == 1 and event.after["unmatched"] == 2


def test_stayed_to_end_uses_the_setting(book):
    session = make_session()
    ContactFactory(account=book.account, email="early@customer.example")
    ContactFactory(account=book.account, email="late@customer.example")
    _import(
        book, session, csv_bytes([("early@customer.example", "", 0, 54, ""), ("late@customer.example", "", 0, 55, "")])
    )
    stayed = dict(Attendance.objects.filter(session=session).values_list("email", "stayed_to_end"))
    assert stayed == {"early@customer.example": False, "late@customer.example": True}


def test_reimport_is_idempotent_and_replaces(book):
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    ContactFactory(account=book.account, email="bob@customer.example")
    data = csv_bytes([("ann@customer.example", "Ann", 0, 60, "5"), ("x@unknown.example", "X", 0, 10, "")])
    _import(book, session, data)
    first = _state(session)
    _import(book, session, data)
    assert _state(session) == first
    assert Attendance.objects.filter(session=session).count() == 1
    _import(book, session, csv_bytes([("bob@customer.example", "Bob", 0, 30, "")]))
    att, un = _state(session)
    assert [row[1] for row in att] == [30] and un == []


def test_a_bad_file_writes_nothing(book):
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    _import(book, session, csv_bytes([("ann@customer.example", "Ann", 0, 60, "5")]))
    before = _state(session)
    events = AuditEvent.objects.count()
    bad = csv_bytes([("ann@customer.example", "Ann", 0, 30, ""), ("bob@customer.example", "Bob", 40, 10, "")])
    with pytest.raises(ValidationFailed) as exc:
        _import(book, session, bad)
    assert any(m.startswith("line 3: leave time") for m in exc.value.errors["file"])
    assert _state(session) == before
    assert AuditEvent.objects.count() == events


def test_not_utf8_and_too_large(book, settings):
    session = make_session()
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        _import(book, session, b"Email,Join Time,Leave Time\n\xff\xfe,\n")
    settings.TAMARIND_WEBINAR_REPORT_MAX_BYTES = 10
    with pytest.raises(services.ReportTooLarge):
        services.attendee_report_import(actor=book.admin, session=session, stream=stream(b"x" * 20), size=20)


def test_matching_by_hand_writes_attendance_and_survives_reimport(book):
    session = make_session()
    contact = ContactFactory(account=book.account, email="ann@customer.example")
    data = csv_bytes(
        [("ann.private@gmail.example", "Ann", 0, 30, "4"), ("ann.private@gmail.example", "Ann", 25, 60, "")]
    )
    _import(book, session, data)
    row = UnmatchedAttendee.objects.get(session=session)
    attendance = services.unmatched_match(actor=book.manager, unmatched=row, contact=contact)
    assert (attendance.contact_id, attendance.minutes_attended, attendance.stayed_to_end, attendance.feedback) == (
        contact.pk,
        60,
        True,
        4,
    )
    row.refresh_from_db()
    assert row.resolved_contact_id == contact.pk and row.resolved_by_id == book.manager.pk
    with pytest.raises(ValidationFailed, match="already matched"):
        services.unmatched_match(actor=book.manager, unmatched=row, contact=contact)
    summary = _import(book, session, data)
    assert (summary.attendances, summary.unmatched, summary.reapplied) == (1, 0, 1)
    assert UnmatchedAttendee.objects.get(session=session).resolved_contact_id == contact.pk
    assert Attendance.objects.get(session=session).contact_id == contact.pk


def test_matching_a_contact_already_attending_is_refused(book):
    session = make_session()
    contact = ContactFactory(account=book.account, email="ann@customer.example")
    _import(book, session, csv_bytes([("ann@customer.example", "", 0, 60, ""), ("alias@x.example", "", 0, 5, "")]))
    row = UnmatchedAttendee.objects.get(session=session)
    with pytest.raises(ValidationFailed, match="already has attendance"):
        services.unmatched_match(actor=book.admin, unmatched=row, contact=contact)
    assert UnmatchedAttendee.objects.get(session=session).resolved_at is None


def test_only_admins_and_managers_write(book):
    session = make_session()
    for user in (book.tam, book.director):
        with pytest.raises(PermissionDenied):
            services.attendee_report_import(actor=user, session=session, stream=stream(b""))
        with pytest.raises(PermissionDenied):
            services.session_create(actor=user, data={})


def test_session_create_update_validate_and_audit(book):
    topic = Topic.objects.get(key="gitops-release")
    data = {
        "topic": topic,
        "round": Round.PROMOTION,
        "title": "GitOps spring",
        "starts_at": START,
        "ends_at": END,
        "host": book.tam,
        "recording_url": "https://videos.example/gitops",
    }
    session = services.session_create(actor=book.manager, data=data)
    assert AuditEvent.objects.filter(object_id=str(session.pk), action="create").exists()
    with pytest.raises(ValidationFailed) as exc:
        services.session_update(
            actor=book.manager, session=session, data={**data, "ends_at": START, "recording_url": "javascript:alert(1)"}
        )
    assert set(exc.value.errors) == {"ends_at", "recording_url"}
    ContactFactory(account=book.account, email="ann@customer.example")
    _import(book, session, csv_bytes([("ann@customer.example", "", 0, 50, "")]))
    assert not Attendance.objects.get(session=session).stayed_to_end
    services.session_update(
        actor=book.manager, session=session, data={**data, "ends_at": START + dt.timedelta(minutes=52)}
    )
    assert Attendance.objects.get(session=session).stayed_to_end


# --- Registrants who did not attend -----------------------------------------------------------------------------

REG_HEADER = "Email,Name,Attended,Join Time,Leave Time,Duration (Minutes),Feedback"


def _reg_csv(rows: list[tuple[str, str, int | None, int | None, str]]) -> bytes:
    """``rows``: (email, name, join minute, leave minute, feedback); join ``None``: a no-show (Zoom's "--")."""
    from tamarind.webinars.tests.factories import at

    lines = [REG_HEADER]
    for email, name, join, leave, feedback in rows:
        if join is None or leave is None:
            lines.append(f"{email},{name},No,--,--,--,")
        else:
            lines.append(f"{email},{name},Yes,{at(join)},{at(leave)},{leave - join},{feedback}")
    return ("\n".join(lines) + "\n").encode()


def _regs(session):
    return sorted(
        Attendance.objects.filter(session=session).values_list(
            "email", "attended", "first_join", "last_leave", "minutes_attended", "stayed_to_end", "feedback"
        )
    )


def test_registrants_who_did_not_attend_are_kept_matched_and_unmatched(book):
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    nora = ContactFactory(account=book.account, email="nora@customer.example")
    data = _reg_csv(
        [
            ("ann@customer.example", "Ann", 0, 60, "5"),
            ("nora@customer.example", "Nora", None, None, ""),
            ("ghost@nowhere.example", "Ghost", None, None, ""),
        ]
    )
    summary = _import(book, session, data)
    assert (summary.rows, summary.attendances, summary.no_shows, summary.unmatched) == (3, 2, 1, 1)
    no_show = Attendance.objects.get(session=session, contact=nora)
    assert (no_show.attended, no_show.first_join, no_show.last_leave, no_show.minutes_attended) == (
        False,
        None,
        None,
        0,
    )
    assert (no_show.stayed_to_end, no_show.feedback) == (False, None)
    ghost = UnmatchedAttendee.objects.get(session=session)
    assert (ghost.email, ghost.attended, ghost.intervals, ghost.first_join, ghost.lines) == (
        "ghost@nowhere.example",
        False,
        [],
        None,
        "4",
    )
    event = AuditEvent.objects.filter(object_type__icontains="session", object_id=str(session.pk)).latest("pk")
    assert event.after["no_shows"] == 1


def test_a_no_show_row_and_attended_rows_count_as_attended(book):
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    data = _reg_csv(
        [
            ("ann@customer.example", "Ann", None, None, ""),
            ("ann@customer.example", "Ann", 0, 20, ""),
            ("ANN@customer.example", "Ann", 30, 58, "4"),
        ]
    )
    summary = _import(book, session, data)
    assert (summary.attendances, summary.no_shows) == (1, 0)
    assert _regs(session) == [
        ("ann@customer.example", True, START, START + dt.timedelta(minutes=58), 48, True, 4),
    ]


def test_reimport_with_registrants_is_idempotent(book):
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    ContactFactory(account=book.account, email="nora@customer.example")
    data = _reg_csv(
        [
            ("ann@customer.example", "Ann", 0, 60, "5"),
            ("nora@customer.example", "Nora", None, None, ""),
            ("x@unknown.example", "X", None, None, ""),
        ]
    )
    _import(book, session, data)
    first = (_regs(session), _state(session))
    _import(book, session, data)
    assert (_regs(session), _state(session)) == first
    assert Attendance.objects.filter(session=session).count() == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("bob@customer.example,Bob,Yes,,,,", "line 3: attended is Yes but the join and leave times are empty"),
        (
            "bob@customer.example,Bob,No,2026-03-10 16:00:00,2026-03-10 16:30:00,30,",
            "line 3: attended is No but the row has a join time and a leave time and a duration",
        ),
        ("bob@customer.example,Bob,No,,,,4", "line 3: attended is No but the row has a feedback"),
        (
            "bob@customer.example,Bob,Yes,2026-03-10 16:30:00,2026-03-10 16:00:00,,",
            "line 3: leave time 2026-03-10T16:00:00+00:00 is before join time 2026-03-10T16:30:00+00:00",
        ),
        ("bob@customer.example,Bob,Perhaps,,,,", 'line 3: attended "Perhaps" is not Yes or No'),
    ],
)
def test_bad_attended_combinations_write_nothing(book, row, message, settings):
    settings.TIME_ZONE = "UTC"
    session = make_session()
    ContactFactory(account=book.account, email="ann@customer.example")
    ContactFactory(account=book.account, email="bob@customer.example")
    _import(
        book,
        session,
        _reg_csv([("ann@customer.example", "Ann", 0, 60, "5"), ("z@unknown.example", "", None, None, "")]),
    )
    before = (_regs(session), _state(session))
    events = AuditEvent.objects.count()
    bad = (REG_HEADER + "\nann@customer.example,Ann,No,--,--,--,\n" + row + "\n").encode()
    with pytest.raises(ValidationFailed) as exc:
        _import(book, session, bad)
    assert message in exc.value.errors["file"]
    assert (_regs(session), _state(session)) == before
    assert AuditEvent.objects.count() == events


def test_matching_an_unmatched_no_show_registers_the_contact(book):
    session = make_session()
    contact = ContactFactory(account=book.account, email="ann@customer.example")
    data = _reg_csv([("ann.private@gmail.example", "Ann", None, None, "")])
    _import(book, session, data)
    row = UnmatchedAttendee.objects.get(session=session)
    attendance = services.unmatched_match(actor=book.manager, unmatched=row, contact=contact)
    assert (attendance.attended, attendance.first_join, attendance.minutes_attended, attendance.stayed_to_end) == (
        False,
        None,
        0,
        False,
    )
    summary = _import(book, session, data)
    assert (summary.attendances, summary.no_shows, summary.unmatched, summary.reapplied) == (1, 1, 0, 1)
    assert not Attendance.objects.get(session=session, contact=contact).attended


def test_a_hand_match_of_a_no_show_joins_the_contacts_attended_rows(book):
    session = make_session()
    contact = ContactFactory(account=book.account, email="ann@customer.example")
    first = _reg_csv([("ann.private@gmail.example", "Ann", None, None, "")])
    _import(book, session, first)
    services.unmatched_match(
        actor=book.manager, unmatched=UnmatchedAttendee.objects.get(session=session), contact=contact
    )
    # The next report has the private email as a no-show and the work email attending: the contact attended.
    both = _reg_csv([("ann.private@gmail.example", "Ann", None, None, ""), ("ann@customer.example", "Ann", 0, 60, "")])
    summary = _import(book, session, both)
    assert (summary.attendances, summary.no_shows, summary.reapplied) == (1, 0, 1)
    a = Attendance.objects.get(session=session, contact=contact)
    assert (a.attended, a.email, a.minutes_attended) == (True, "ann@customer.example", 60)


def test_the_database_holds_the_registration_shape(book):
    from django.db import IntegrityError, transaction

    session = make_session()
    contact = ContactFactory(account=book.account, email="ann@customer.example")
    base = {"session": session, "contact": contact, "account": book.account, "email": contact.email}
    bad = [
        {"attended": False, "first_join": START, "last_leave": END},
        {"attended": False, "minutes_attended": 5},
        {"attended": False, "stayed_to_end": True},
        {"attended": False, "feedback": 4},
        {"attended": True},
        {"attended": True, "first_join": START},
    ]
    for extra in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            Attendance.objects.create(**base, **extra)
    Attendance.objects.create(**base, attended=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        UnmatchedAttendee.objects.create(session=session, email="x@y.example", reason="unknown", attended=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        UnmatchedAttendee.objects.create(
            session=session, email="x@y.example", reason="unknown", attended=False, first_join=START, last_leave=END
        )
    UnmatchedAttendee.objects.create(session=session, email="x@y.example", reason="unknown", attended=False)
