"""The demo season: sessions imported through the service, with registrants who did not attend among them."""

from __future__ import annotations

import datetime as dt

import pytest

from tamarind.testing.factories import AccountFactory
from tamarind.webinars.demo import seed_webinars_demo
from tamarind.webinars.models import Attendance, Session, UnmatchedAttendee

pytestmark = pytest.mark.django_db


def test_demo_has_attendees_and_registrants_who_did_not_attend(book):
    today = dt.date(2026, 6, 1)
    for i in range(30):
        AccountFactory(region=book.east, customer_since=today - dt.timedelta(days=10 * i))
    got = seed_webinars_demo(actor=book.admin, seed=7, today=today)
    assert got["sessions"] == Session.objects.count() == 12 and got["imported"] > 0
    assert Attendance.objects.filter(attended=True).exists()
    no_shows = Attendance.objects.filter(attended=False)
    assert no_shows.exists()
    assert not no_shows.filter(first_join__isnull=False).exists()
    assert UnmatchedAttendee.objects.filter(attended=True).exists()
    assert UnmatchedAttendee.objects.filter(attended=False).exists()
