"""Reading webinars: the invitation list, the metrics against a plain restatement (and their query count), the
scoping of attendance by account visibility."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tamarind.testing.factories import AccountFactory, ContactFactory
from tamarind.webinars import selectors
from tamarind.webinars.models import Attendance, Round, Topic
from tamarind.webinars.tests.factories import START, make_session

pytestmark = pytest.mark.django_db
DAY = START.date()


def test_invitees_are_reachable_contacts_of_net_new_customers(book):
    session = make_session()
    fresh = AccountFactory(region=book.east, customer_since=DAY - dt.timedelta(days=30))
    edge = AccountFactory(region=book.west, customer_since=DAY - dt.timedelta(days=90))
    old = AccountFactory(region=book.east, customer_since=DAY - dt.timedelta(days=91))
    future = AccountFactory(region=book.east, customer_since=DAY + dt.timedelta(days=1))
    a = ContactFactory(account=fresh)
    b = ContactFactory(account=edge)
    ContactFactory(account=fresh, opted_out=True)
    ContactFactory(account=old)
    ContactFactory(account=future)
    assert set(selectors.invitees_for(session)) == {a, b}
    assert set(selectors.invitees_for(session, days=10)) == set()


def _restate(sessions, accounts, attendance, days):
    """The metrics said plainly: for each (round, topic), net-new accounts of any of its sessions; of those,
    the ones with a contact registered for one of its sessions they were net-new for, and the ones with a contact
    who attended; registrants and attendees counted the same way; staying and feedback over attendees only."""
    out = {}
    for key in {(s.round, s.topic_id) for s in sessions}:
        mine = [s for s in sessions if (s.round, s.topic_id) == key]
        net_new, registered, attended, registrants, rows = set(), set(), set(), 0, []
        for s in mine:
            day = s.starts_at.date()
            nn = {
                a.pk for a in accounts if a.customer_since and day - dt.timedelta(days=days) <= a.customer_since <= day
            }
            net_new |= nn
            for att in attendance:
                if att.session_id == s.pk and att.account_id in nn:
                    registered.add(att.account_id)
                    registrants += 1
                    if att.attended:
                        attended.add(att.account_id)
                        rows.append(att)
        scores = [r.feedback for r in rows if r.feedback is not None]
        out[key] = (
            len(net_new),
            len(registered),
            len(attended),
            registrants,
            len(rows),
            sum(1 for r in rows if r.stayed_to_end),
            round(sum(scores) / len(scores), 6) if scores else None,
        )
    return out


def _season(book, rng, n_accounts):
    topics = list(Topic.objects.all())
    accounts = [
        AccountFactory(
            region=rng.choice([book.east, book.west]), customer_since=DAY - dt.timedelta(days=rng.randint(-20, 200))
        )
        for _ in range(n_accounts)
    ]
    contacts = [ContactFactory(account=a) for a in accounts for _ in range(2)]
    sessions = []
    for i in range(6):
        start = START + dt.timedelta(days=rng.randint(-60, 60))
        sessions.append(
            make_session(
                topic=topics[i % 3],
                round=rng.choice(Round.values),
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
            )
        )
    rows = []
    for s in sessions:
        chosen = rng.sample(contacts, k=min(len(contacts), 11))
        for c in chosen[8:]:  # registered, did not attend
            rows.append(Attendance(session=s, contact=c, account_id=c.account_id, email=c.email, attended=False))
        for c in chosen[:8]:
            rows.append(
                Attendance(
                    session=s,
                    contact=c,
                    account_id=c.account_id,
                    email=c.email,
                    first_join=s.starts_at,
                    last_leave=s.ends_at,
                    minutes_attended=60,
                    stayed_to_end=rng.random() < 0.7,
                    feedback=rng.choice([None, 3, 4, 5]),
                )
            )
    Attendance.objects.bulk_create(rows)
    return sessions, accounts, rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_match_a_plain_restatement(book, seed, settings):
    settings.TIME_ZONE = "UTC"
    rng = random.Random(seed)
    sessions, accounts, rows = _season(book, rng, 12)
    data = selectors.season(user=book.admin)
    expected = _restate(sessions, accounts, rows, 90)
    got = {}
    for row in data["grid"]:
        for c in row["cells"]:
            cell = c["cell"]
            if cell.sessions:
                avg = cell.feedback_avg
                got[(c["round"], row["topic"].pk)] = (
                    len(cell.net_new),
                    len(cell.registered),
                    len(cell.attended),
                    cell.registrants,
                    cell.attendees,
                    cell.stayed,
                    round(avg, 6) if avg is not None else None,
                )
    assert got == expected


def test_metrics_cover_only_visible_accounts(book, settings):
    settings.TIME_ZONE = "UTC"
    sessions, accounts, rows = _season(book, random.Random(7), 10)
    east = [a for a in accounts if a.region_id == book.east.pk]
    data = selectors.season(user=book.tam)
    expected = _restate(sessions, east, [r for r in rows if r.account_id in {a.pk for a in east}], 90)
    for row in data["grid"]:
        for c in row["cells"]:
            if c["cell"].sessions:
                assert len(c["cell"].net_new) == expected[(c["round"], row["topic"].pk)][0]


def test_judge_against_targets():
    targets = selectors.webinar_settings()
    cell = selectors.Cell(net_new={1, 2}, attended={1}, attendees=5, stayed=4, feedback_sum=8, feedback_count=2)
    assert selectors.judge(cell, targets) == {"attendance": True, "stayed": True, "feedback": False}
    cell = selectors.Cell(net_new={1, 2, 3}, attended={1}, attendees=5, stayed=3, feedback_sum=9, feedback_count=2)
    assert selectors.judge(cell, targets) == {"attendance": False, "stayed": False, "feedback": True}
    assert selectors.judge(selectors.Cell(), targets) == {"attendance": None, "stayed": None, "feedback": None}


def test_season_query_count_does_not_grow(book, django_assert_num_queries):
    _season(book, random.Random(1), 3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        selectors.season(user=book.tam)
    _season(book, random.Random(2), 15)
    with django_assert_num_queries(len(small.captured_queries)):
        selectors.season(user=book.tam)


def test_attendance_follows_account_visibility(book):
    session = make_session()
    east = ContactFactory(account=book.account)
    west = ContactFactory(account=AccountFactory(region=book.west))
    for c in (east, west):
        Attendance.objects.create(
            session=session, contact=c, account_id=c.account_id, email=c.email, first_join=START, last_leave=START
        )
    assert {a.contact_id for a in selectors.attendance_for_user(book.tam, session)} == {east.pk}
    assert {a.contact_id for a in selectors.attendance_for_user(book.admin, session)} == {east.pk, west.pk}
    assert [
        r.contact_id for r in selectors.account_panel(user=book.sal, account=book.account)["webinar_attendance"]
    ] == [east.pk]


def test_registrants_who_did_not_attend_count_as_registered_not_attended(book, settings):
    settings.TIME_ZONE = "UTC"
    session = make_session()
    accounts = [AccountFactory(region=book.east, customer_since=DAY - dt.timedelta(days=10)) for _ in range(4)]
    came = ContactFactory(account=accounts[0])
    also_came = ContactFactory(account=accounts[1])
    stayed_away = ContactFactory(account=accounts[1])  # same account as an attendee: the account attended
    only_registered = ContactFactory(account=accounts[2])
    for c, feedback in ((came, 5), (also_came, 3)):
        Attendance.objects.create(
            session=session,
            contact=c,
            account_id=c.account_id,
            email=c.email,
            first_join=START,
            last_leave=session.ends_at,
            minutes_attended=60,
            stayed_to_end=c == came,
            feedback=feedback,
        )
    for c in (stayed_away, only_registered):
        Attendance.objects.create(session=session, contact=c, account_id=c.account_id, email=c.email, attended=False)
    cell = selectors.session_metrics(user=book.admin, session=session)["cell"]
    # 4 net-new accounts: 3 registered, 2 attended (the target's figure: registering alone does not count).
    assert (len(cell.net_new), len(cell.registered), len(cell.attended)) == (4, 3, 2)
    assert cell.attendance_rate == 0.5 and cell.registration_rate == 0.75
    # People: 4 registrants, 2 attendees, 2 no-shows; staying and feedback over the 2 attendees only.
    assert (cell.registrants, cell.attendees, cell.no_shows, cell.show_up_rate) == (4, 2, 2, 0.5)
    assert (cell.stayed, cell.stayed_rate, cell.feedback_avg) == (1, 0.5, 4.0)
    counts = selectors.registration_counts(book.admin, session)
    assert counts == {"attended_count": 2, "no_show_count": 2}
    listed = list(selectors.attendance_for_user(book.admin, session))
    assert [a.attended for a in listed] == [True, True, False, False]
    assert {a.contact_id for a in selectors.attendance_for_user(book.admin, session, attended=False)} == {
        stayed_away.pk,
        only_registered.pk,
    }


def test_compute_cells_with_only_no_shows():
    day = DAY
    _, by_session = selectors.compute_cells([(1, "1", 7, day)], {10: day, 11: day}, [(1, 10, False, False, None)], 90)
    cell = by_session[1]
    assert (len(cell.registered), len(cell.attended), cell.registrants, cell.attendees) == (1, 0, 1, 0)
    assert cell.attendance_rate == 0.0 and cell.show_up_rate == 0.0
    assert cell.stayed_rate is None and cell.feedback_avg is None
