"""Calendar-month arithmetic across month ends and leap years: examples, then properties (Hypothesis) checked
against a plain restatement (counting months one by one)."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamarind.core.months import add_months, months_between

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
months = st.integers(min_value=-1200, max_value=1200)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),  # leap year
        (dt.date(2026, 1, 31), 2, dt.date(2026, 3, 31)),  # from the anchor, not chained through 28 February
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
        (dt.date(2024, 2, 29), 48, dt.date(2028, 2, 29)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
        (dt.date(2026, 1, 15), -1, dt.date(2025, 12, 15)),
        (dt.date(2026, 5, 30), 0, dt.date(2026, 5, 30)),
    ],
)
def test_examples(day: dt.date, n: int, expected: dt.date) -> None:
    assert add_months(day, n) == expected


def _restated(day: dt.date, n: int) -> dt.date:
    """One month at a time on (year, month), then the day clamped once at the end."""
    year, month = day.year, day.month
    for _ in range(abs(n)):
        month += 1 if n > 0 else -1
        if month == 13:
            year, month = year + 1, 1
        if month == 0:
            year, month = year - 1, 12
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@given(dates, months)
def test_matches_the_restatement(day: dt.date, n: int) -> None:
    assert add_months(day, n) == _restated(day, n)


@given(dates, months)
def test_lands_in_the_right_month_clamped_at_its_end(day: dt.date, n: int) -> None:
    out = add_months(day, n)
    assert months_between(day, out) == n
    last = calendar.monthrange(out.year, out.month)[1]
    assert out.day == min(day.day, last)
    assert out.day <= day.day and (out.day == day.day or out.day == last)


@given(dates, st.integers(min_value=0, max_value=600), st.integers(min_value=0, max_value=600))
def test_monotone_in_the_date_and_in_the_months(day: dt.date, a: int, b: int) -> None:
    later = day + dt.timedelta(days=a % 40)
    assert add_months(day, b) <= add_months(later, b)
    assert add_months(day, min(a, b)) <= add_months(day, max(a, b))


@given(dates, st.integers(min_value=0, max_value=600))
def test_back_and_forth_loses_at_most_the_clamped_days(day: dt.date, n: int) -> None:
    there_and_back = add_months(add_months(day, n), -n)
    assert 0 <= (day - there_and_back).days <= 3


def test_out_of_range() -> None:
    with pytest.raises(OverflowError):
        add_months(dt.date(9999, 12, 1), 1)
    with pytest.raises(OverflowError):
        add_months(dt.date(1, 1, 1), -1)
