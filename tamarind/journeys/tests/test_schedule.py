"""When steps fall due: days since start across month ends and leap days, recurring occurrences, catch-up."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tamarind.journeys import schedule

dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


def test_day_offsets_cross_month_ends_and_leap_days() -> None:
    since = dt.date(2024, 1, 31)
    assert schedule.occurrence_due(since=since, day=dt.date(2024, 1, 31), offset=0, repeat=None, catch_up=1) == 0
    # day 30 after 31 January of a leap year is 1 March (29 days in February)
    assert schedule.occurrence_due(since=since, day=dt.date(2024, 3, 1), offset=30, repeat=None, catch_up=1) == 0
    assert schedule.occurrence_due(since=since, day=dt.date(2024, 2, 29), offset=30, repeat=None, catch_up=1) is None
    # and 2 March in a common year
    assert (
        schedule.occurrence_due(since=dt.date(2025, 1, 31), day=dt.date(2025, 3, 2), offset=30, repeat=None, catch_up=1)
        == 0
    )


def test_catch_up_covers_missed_days_only() -> None:
    since = dt.date(2026, 1, 1)
    assert [
        schedule.occurrence_due(since=since, day=since + dt.timedelta(days=d), offset=7, repeat=None)
        for d in range(5, 12)
    ] == [None, None, 0, 0, 0, None, None]


def test_recurring_occurrences() -> None:
    since = dt.date(2025, 6, 30)
    first = since + dt.timedelta(days=90)
    assert schedule.occurrence_due(since=since, day=first, offset=90, repeat=182, catch_up=1) == 0
    assert (
        schedule.occurrence_due(since=since, day=first + dt.timedelta(days=182), offset=90, repeat=182, catch_up=1) == 1
    )
    assert (
        schedule.occurrence_due(since=since, day=first + dt.timedelta(days=181), offset=90, repeat=182, catch_up=1)
        is None
    )
    assert schedule.next_date(
        since=since, today=first + dt.timedelta(days=1), offset=90, repeat=182
    ) == first + dt.timedelta(days=182)
    assert schedule.next_date(since=since, today=first + dt.timedelta(days=1), offset=90, repeat=None) is None


@given(
    since=dates,
    gap=st.integers(0, 2000),
    offset=st.integers(0, 400),
    repeat=st.none() | st.integers(1, 400),
    catch_up=st.integers(1, 5),
)
def test_due_matches_a_plain_restatement(
    since: dt.date, gap: int, offset: int, repeat: int | None, catch_up: int
) -> None:
    """Due on ``day`` exactly when some occurrence's date (since + offset + k * repeat, by calendar arithmetic) lies
    in the ``catch_up`` days ending on ``day``; the occurrence is that k, and its date is what ``occurrence_date`` says."""
    day = since + dt.timedelta(days=gap)
    window = {day - dt.timedelta(days=i) for i in range(catch_up)}
    ks = range(0, 2001) if repeat else range(1)
    expected = [k for k in ks if since + dt.timedelta(days=offset + k * (repeat or 0)) in window]
    got = schedule.occurrence_due(since=since, day=day, offset=offset, repeat=repeat, catch_up=catch_up)
    if repeat and repeat < catch_up:
        # several occurrences in the window: the run takes the latest; the others were due on earlier days
        assert got == (max(expected) if expected else None)
    else:
        assert got == (expected[0] if expected else None)
    if got is not None:
        on = schedule.occurrence_date(since=since, offset=offset, repeat=repeat, occurrence=got)
        assert on in window and (on - since).days == offset + got * (repeat or 0)


@given(since=dates, gap=st.integers(0, 2000), offset=st.integers(0, 400), repeat=st.none() | st.integers(1, 400))
def test_next_date_is_the_first_occurrence_on_or_after_today(
    since: dt.date, gap: int, offset: int, repeat: int | None
) -> None:
    today = since + dt.timedelta(days=gap)
    got = schedule.next_date(since=since, today=today, offset=offset, repeat=repeat)
    ks = range(0, 2001) if repeat else range(1)
    occurrences = [since + dt.timedelta(days=offset + k * (repeat or 0)) for k in ks]
    assert got == min((d for d in occurrences if d >= today), default=None)
