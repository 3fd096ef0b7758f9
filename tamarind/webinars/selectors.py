"""Reading webinars: the settings row, topics and sessions (the gated fetches), a session's attendance (scoped by
account visibility) and unmatched attendees, the invitation list of a session (``invitees_for``: for the digital
journey), the season's metrics against the targets, and the account page's attendance panel. A fixed number of
queries each, whatever the data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.contacts.models import Contact
from tamarind.people.models import Role, User
from tamarind.webinars.models import Attendance, Round, Session, Topic, UnmatchedAttendee, WebinarSettings

MAX_PK = 2**63


def webinar_settings() -> WebinarSettings:
    """The targets and rules (the row the migration seeds; recreated with the defaults if someone deleted it)."""
    row, _ = WebinarSettings.objects.get_or_create(pk=1)
    return row


def topics(*, active_only: bool = False) -> list[Topic]:
    qs = Topic.objects.order_by("position", "key")
    return list(qs.filter(is_active=True) if active_only else qs)


def _gate_view(user: User) -> None:
    if not policy.can_view_webinars(user):
        raise PermissionDenied("Webinars are for TAMs, managers, directors and admins.")


def session_for_user(user: User, session_id: int | str, *, write: bool = False) -> Session:
    """The one gated fetch of a session: 403 for people without webinars (or writing read-only), 404 unknown."""
    _gate_view(user)
    try:
        pk = int(session_id)
    except (TypeError, ValueError):
        raise Http404("No such webinar session.") from None
    if not 0 < pk < MAX_PK:
        raise Http404("No such webinar session.")
    session = Session.objects.with_refs().filter(pk=pk).first()
    if session is None:
        raise Http404("No such webinar session.")
    if write and not policy.can_edit_webinars(user):
        raise PermissionDenied("Admins and TAM Managers change webinar sessions.")
    return session


def unmatched_for_user(user: User, unmatched_id: int | str, *, write: bool = False) -> UnmatchedAttendee:
    """The gated fetch of an unmatched attendee (its session's access)."""
    _gate_view(user)
    try:
        pk = int(unmatched_id)
    except (TypeError, ValueError):
        raise Http404("No such unmatched attendee.") from None
    if not 0 < pk < MAX_PK:
        raise Http404("No such unmatched attendee.")
    row = UnmatchedAttendee.objects.select_related("session__topic", "resolved_contact__account").filter(pk=pk).first()
    if row is None:
        raise Http404("No such unmatched attendee.")
    if write and not policy.can_edit_webinars(user):
        raise PermissionDenied("Admins and TAM Managers match attendees.")
    return row


def contact_for_match(user: User, contact_id: int | str) -> Contact:
    """A contact to match an attendee to: one at an account ``user`` may read (else 404)."""
    try:
        pk = int(contact_id)
    except (TypeError, ValueError):
        raise Http404("No such contact.") from None
    if not 0 < pk < MAX_PK:
        raise Http404("No such contact.")
    contact = Contact.objects.select_related("account").filter(pk=pk).first()
    if contact is None or not policy.can_read_account(user, contact.account):
        raise Http404("No such contact.")
    return contact


def session_list(*, topic: int | None = None, round: str = "") -> QuerySet[Session]:
    qs = Session.objects.with_refs().order_by("-starts_at", "-id")
    if topic:
        qs = qs.filter(topic_id=topic)
    if round:
        qs = qs.filter(round=round)
    return qs


def attendance_for_user(user: User, session: Session, *, attended: bool | None = None) -> QuerySet[Attendance]:
    """The session's registrations at accounts ``user`` may read: attendees earliest first, then the registrants
    who did not attend; contact and account joined. ``attended``: only attendees (true) or only no-shows (false)."""
    qs = session.attendances.select_related("contact", "account").order_by("-attended", "first_join", "pk")
    if attended is not None:
        qs = qs.filter(attended=attended)
    scope = policy.webinar_attendance_scope(user)
    return qs if scope is None else qs.filter(scope)


def registration_counts(user: User, session: Session) -> dict[str, int]:
    """How many of the session's registrants at accounts ``user`` may read attended, and how many did not (the
    page lists only the first rows: these count them all). One query."""
    qs = session.attendances.all()
    scope = policy.webinar_attendance_scope(user)
    if scope is not None:
        qs = qs.filter(scope)
    got = qs.aggregate(
        n_attended=Count("pk", filter=Q(attended=True)), n_no_shows=Count("pk", filter=Q(attended=False))
    )
    return {"attended_count": got["n_attended"] or 0, "no_show_count": got["n_no_shows"] or 0}


def unmatched(session: Session) -> QuerySet[UnmatchedAttendee]:
    """Unmatched attendees of the session: those still to match first, then the matched (kept)."""
    return session.unmatched.select_related("resolved_contact__account").order_by("resolved_at", "email", "pk")


def match_candidates(user: User, rows: Iterable[UnmatchedAttendee], *, limit: int = 20) -> dict[int, list[Contact]]:
    """Contacts an unmatched attendee may be matched to, per row: those with the same email (the ambiguous case),
    then those at an email domain shared with it, at accounts ``user`` may read. One query."""
    rows = [r for r in rows if not r.is_resolved]
    if not rows:
        return {}
    emails = {r.email for r in rows}
    domains = {r.email.rsplit("@", 1)[-1] for r in rows if "@" in r.email}
    cond = Q(email__in=emails)
    for d in sorted(domains):
        cond |= Q(email__iendswith="@" + d)
    qs = Contact.objects.filter(cond).select_related("account").order_by("email", "account__name", "pk")
    scope = policy.account_scope(user)
    if scope is not None:
        qs = qs.filter(account__in=Account.objects.filter(scope))
    found = list(qs[: limit * len(rows) * 2])
    out: dict[int, list[Contact]] = {}
    for r in rows:
        domain = "@" + r.email.rsplit("@", 1)[-1]
        same = [c for c in found if c.email == r.email]
        near = [c for c in found if c.email != r.email and c.email.endswith(domain)]
        out[r.pk] = (same + near)[:limit]
    return out


def net_new_window(session: Session, days: int) -> tuple[dt.date, dt.date]:
    """Customers who started in this window (inclusive) are net-new for ``session``."""
    day = timezone.localdate(session.starts_at)
    return day - dt.timedelta(days=days), day


def invitees_for(session: Session, *, days: int | None = None) -> QuerySet[Contact]:
    """The invitation list of a session, for the digital journey: the reachable (not opted-out) contacts of the
    net-new customers of the round's target: accounts whose ``customer_since`` is within ``days`` (default: the
    settings' ``net_new_days``) before the session's day."""
    n = webinar_settings().net_new_days if days is None else days
    start, end = net_new_window(session, n)
    accounts = Account.objects.filter(customer_since__gte=start, customer_since__lte=end)
    return (
        Contact.objects.reachable().filter(account__in=accounts).select_related("account").order_by("account_id", "pk")
    )


# --- Metrics ------------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """Registration and attendance of net-new customers for a set of sessions (a topic in a round, or one session).

    The definitions (the pages' help text says the same):
    - attendance rate (the target's figure): net-new customers with a contact who attended / all net-new
      customers, registered or not: registering without attending does not count as attending;
    - registered: net-new customers with a contact who registered (attended or not);
    - show-up rate: attendees / registrants (people: a registrant who did not come is in the denominator);
    - stayed to the end and feedback: over attendees only (a registrant who did not come has neither).
    """

    sessions: int = 0
    net_new: set[int] = field(default_factory=set)
    registered: set[int] = field(default_factory=set)
    attended: set[int] = field(default_factory=set)
    registrants: int = 0
    attendees: int = 0
    stayed: int = 0
    feedback_sum: int = 0
    feedback_count: int = 0

    @property
    def attendance_rate(self) -> float | None:
        return len(self.attended) / len(self.net_new) if self.net_new else None

    @property
    def registration_rate(self) -> float | None:
        return len(self.registered) / len(self.net_new) if self.net_new else None

    @property
    def no_shows(self) -> int:
        return self.registrants - self.attendees

    @property
    def show_up_rate(self) -> float | None:
        return self.attendees / self.registrants if self.registrants else None

    @property
    def stayed_rate(self) -> float | None:
        return self.stayed / self.attendees if self.attendees else None

    @property
    def feedback_avg(self) -> float | None:
        return self.feedback_sum / self.feedback_count if self.feedback_count else None


def judge(cell: Cell, targets: WebinarSettings) -> dict[str, bool | None]:
    """Each figure against its target (``None``: nothing to judge yet)."""
    a, s, f = cell.attendance_rate, cell.stayed_rate, cell.feedback_avg
    return {
        "attendance": None if a is None else Decimal(str(a)) >= targets.attendance_target,
        "stayed": None if s is None else Decimal(str(s)) >= targets.stayed_target,
        "feedback": None if f is None else Decimal(str(f)) > targets.feedback_target,
    }


def compute_cells(
    sessions: list[tuple[int, str, int, dt.date]],
    since: dict[int, dt.date],
    attendance: list[tuple[int, int, bool, bool, int | None]],
    days: int,
) -> tuple[dict[tuple[str, int], Cell], dict[int, Cell]]:
    """Pure: cells per (round, topic) and per session from ``sessions`` (id, round, topic id, day), the accounts'
    start dates, and registration rows (session id, account id, attended, stayed, feedback). An account is net-new
    for a session when it started within ``days`` before the session's day; only net-new accounts' rows count.
    Every row is a registrant; only attended rows count as attendees (and for staying and feedback)."""
    by_key: dict[tuple[str, int], Cell] = {}
    by_session: dict[int, Cell] = {}
    net_new_of: dict[int, set[int]] = {}
    key_of: dict[int, tuple[str, int]] = {}
    for sid, rnd, topic_id, day in sessions:
        lo = day - dt.timedelta(days=days)
        nn = {a for a, s in since.items() if lo <= s <= day}
        net_new_of[sid] = nn
        key_of[sid] = (rnd, topic_id)
        cell = by_key.setdefault((rnd, topic_id), Cell())
        cell.sessions += 1
        cell.net_new |= nn
        by_session[sid] = Cell(sessions=1, net_new=set(nn))
    for sid, account_id, attended, stayed, feedback in attendance:
        if sid not in net_new_of or account_id not in net_new_of[sid]:
            continue
        for cell in (by_key[key_of[sid]], by_session[sid]):
            cell.registered.add(account_id)
            cell.registrants += 1
            if not attended:
                continue
            cell.attended.add(account_id)
            cell.attendees += 1
            cell.stayed += int(stayed)
            if feedback is not None:
                cell.feedback_sum += feedback
                cell.feedback_count += 1
    return by_key, by_session


def season(*, user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """The season overview: topics x rounds, each cell the attendance of net-new customers (at accounts ``user``
    may read) against the targets, with counts; and the sessions. Five queries, whatever the data."""
    targets = webinar_settings()
    all_topics = topics()
    session_rows = list(Session.objects.with_refs().order_by("starts_at", "pk"))
    facts = [(s.pk, s.round, s.topic_id, timezone.localdate(s.starts_at)) for s in session_rows]
    since = _net_new_since(user, [f[3] for f in facts], targets.net_new_days)
    att = Attendance.objects.filter(session_id__in=[s.pk for s in session_rows])
    scope = policy.webinar_attendance_scope(user)
    if scope is not None:
        att = att.filter(scope)
    rows = (
        list(att.values_list("session_id", "account_id", "attended", "stayed_to_end", "feedback"))
        if session_rows
        else []
    )
    by_key, by_session = compute_cells(facts, since, rows, targets.net_new_days)
    grid = []
    for topic in all_topics:
        cells = []
        for value, label in Round.choices:
            cell = by_key.get((value, topic.pk), Cell())
            cells.append({"round": value, "label": label, "cell": cell, "meets": judge(cell, targets)})
        grid.append({"topic": topic, "cells": cells})
    for s in session_rows:
        s.cell = by_session[s.pk]  # type: ignore[attr-defined]
    return {"targets": targets, "grid": grid, "rounds": Round.choices, "sessions": session_rows}


def _net_new_since(user: User, days: list[dt.date], n: int) -> dict[int, dt.date]:
    """Start dates of the accounts ``user`` may read that are net-new for some session day. One query."""
    if not days:
        return {}
    lo, hi = min(days) - dt.timedelta(days=n), max(days)
    qs = Account.objects.visible_to(user).filter(customer_since__gte=lo, customer_since__lte=hi)
    return {pk: since for pk, since in qs.values_list("pk", "customer_since") if since is not None}


def session_metrics(*, user: User, session: Session) -> dict[str, Any]:
    """One session's attendance of net-new customers against the targets. Three queries."""
    targets = webinar_settings()
    day = timezone.localdate(session.starts_at)
    since = _net_new_since(user, [day], targets.net_new_days)
    att = session.attendances.all()
    scope = policy.webinar_attendance_scope(user)
    if scope is not None:
        att = att.filter(scope)
    rows = list(att.values_list("session_id", "account_id", "attended", "stayed_to_end", "feedback"))
    _, by_session = compute_cells(
        [(session.pk, session.round, session.topic_id, day)], since, rows, targets.net_new_days
    )
    cell = by_session[session.pk]
    return {"cell": cell, "meets": judge(cell, targets), "targets": targets}


def account_panel(*, user: User, account: Account) -> dict[str, Any]:
    """The account page's webinar panel: its contacts' registrations, attended or not, newest session first (one
    query; the account is already gated by the page)."""
    rows = list(
        account.webinar_attendances.select_related("session__topic", "contact").order_by("-session__starts_at", "-pk")[
            :20
        ]
    )
    return {"webinar_attendance": rows, "webinar_can_view": policy.can_view_webinars(user)}


def host_choices() -> list[User]:
    """People who may host a session: active admins, managers and TAMs."""
    return list(
        User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.MANAGER, Role.TAM]).order_by("full_name", "pk")
    )
