"""Due dates of each cadence across month ends, leap years and daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import pytest

from tamarind.core.errors import ValidationFailed
from tamarind.reviews.cadence import due_dates, meeting_start

D = dt.date


def test_weekly_every_seven_days_from_the_first_date_across_a_month_end():
    assert due_dates("weekly", D(2026, 1, 26), D(2026, 2, 17)) == [
        D(2026, 1, 26),
        D(2026, 2, 2),
        D(2026, 2, 9),
        D(2026, 2, 16),
    ]


def test_twice_monthly_is_the_15th_and_the_last_day_of_each_month():
    assert due_dates("twice_monthly", D(2026, 1, 1), D(2026, 4, 30)) == [
        D(2026, 1, 15),
        D(2026, 1, 31),
        D(2026, 2, 15),
        D(2026, 2, 28),
        D(2026, 3, 15),
        D(2026, 3, 31),
        D(2026, 4, 15),
        D(2026, 4, 30),
    ]


def test_twice_monthly_in_a_leap_february():
    assert due_dates("twice_monthly", D(2028, 2, 1), D(2028, 2, 29)) == [D(2028, 2, 15), D(2028, 2, 29)]


def test_twice_monthly_starts_no_earlier_than_the_first_date():
    assert due_dates("twice_monthly", D(2026, 1, 20), D(2026, 2, 20)) == [D(2026, 1, 31), D(2026, 2, 15)]


def test_monthly_anchor_31_falls_on_short_months_last_day_and_never_drifts():
    assert due_dates("monthly", D(2026, 1, 31), D(2026, 5, 31)) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
    ]


def test_monthly_anchor_29_in_leap_and_common_years_and_across_the_year_end():
    assert due_dates("monthly", D(2027, 11, 29), D(2028, 3, 1)) == [
        D(2027, 11, 29),
        D(2027, 12, 29),
        D(2028, 1, 29),
        D(2028, 2, 29),
    ]


def test_until_before_start_gives_nothing_and_until_is_included():
    assert due_dates("monthly", D(2026, 3, 10), D(2026, 3, 9)) == []
    assert due_dates("weekly", D(2026, 3, 10), D(2026, 3, 10)) == [D(2026, 3, 10)]


@pytest.mark.parametrize("bad", ["daily", "", "WEEKLY", "fortnightly"])
def test_an_invalid_cadence_is_refused_clearly(bad):
    with pytest.raises(ValidationFailed) as exc:
        due_dates(bad, D(2026, 1, 1), D(2026, 2, 1))
    assert "Unknown cadence" in str(exc.value.errors["cadence"])


def test_weekly_meeting_keeps_its_local_time_across_the_spring_daylight_saving_change():
    days = due_dates("weekly", D(2026, 2, 23), D(2026, 3, 9))  # US DST starts 2026-03-08
    starts = [meeting_start(d, dt.time(9, 0), "America/New_York") for d in days]
    assert [s.hour for s in starts] == [9, 9, 9]
    assert [s.astimezone(dt.UTC).hour for s in starts] == [14, 14, 13]
    assert [s.date() for s in starts] == days


def test_autumn_change_in_europe():
    before = meeting_start(D(2026, 10, 19), dt.time(10, 0), "Europe/Paris")
    after = meeting_start(D(2026, 10, 26), dt.time(10, 0), "Europe/Paris")
    assert (before.astimezone(dt.UTC).hour, after.astimezone(dt.UTC).hour) == (8, 9)


def test_a_local_time_skipped_by_the_change_moves_forward_by_the_gap():
    start = meeting_start(D(2026, 3, 8), dt.time(2, 30), "America/New_York")
    assert (start.hour, start.minute) == (3, 30)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)
