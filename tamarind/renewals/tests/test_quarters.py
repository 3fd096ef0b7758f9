"""Fiscal quarters at their boundaries and across year ends, for fiscal years starting in January and February."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamarind.renewals.quarters import Quarter, add_months, parse_quarter_key, quarter_of, quarters_from

days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
start_months = st.sampled_from([1, 2]) | st.integers(min_value=1, max_value=12)


@given(day=days, start=start_months)
def test_a_day_lies_inside_its_quarter(day: dt.date, start: int) -> None:
    q = quarter_of(day, start)
    assert q.start <= day <= q.end
    assert q.contains(day)
    assert 1 <= q.number <= 4


@given(day=days, start=start_months)
def test_quarters_tile_the_calendar(day: dt.date, start: int) -> None:
    q = quarter_of(day, start)
    nxt = q.shift(1)
    assert nxt.start == q.end + dt.timedelta(days=1)
    assert quarter_of(q.end + dt.timedelta(days=1), start) == nxt
    assert quarter_of(q.start - dt.timedelta(days=1), start) == q.shift(-1)
    assert q.shift(4).fiscal_year == q.fiscal_year + 1 and q.shift(4).number == q.number


@given(day=days, start=start_months)
def test_the_fiscal_year_is_named_by_the_year_it_ends_in(day: dt.date, start: int) -> None:
    q = quarter_of(day, start)
    fiscal_year_end = Quarter(q.fiscal_year, 4, start).end
    assert fiscal_year_end.year == q.fiscal_year
    assert Quarter(q.fiscal_year, 1, start).start.month == start


@given(day=days)
def test_january_start_is_the_calendar(day: dt.date) -> None:
    q = quarter_of(day, 1)
    assert q.fiscal_year == day.year
    assert q.number == (day.month - 1) // 3 + 1


@pytest.mark.parametrize(
    ("day", "start", "label"),
    [
        (dt.date(2026, 1, 31), 2, "FY26-Q4"),
        (dt.date(2026, 2, 1), 2, "FY27-Q1"),
        (dt.date(2026, 4, 30), 2, "FY27-Q1"),
        (dt.date(2026, 5, 1), 2, "FY27-Q2"),
        (dt.date(2026, 12, 31), 2, "FY27-Q4"),
        (dt.date(2027, 1, 1), 2, "FY27-Q4"),
        (dt.date(2027, 2, 1), 2, "FY28-Q1"),
        (dt.date(2026, 12, 31), 1, "FY26-Q4"),
        (dt.date(2027, 1, 1), 1, "FY27-Q1"),
        (dt.date(2027, 3, 31), 1, "FY27-Q1"),
        (dt.date(2027, 4, 1), 1, "FY27-Q2"),
    ],
)
def test_labels_at_the_boundaries(day: dt.date, start: int, label: str) -> None:
    assert quarter_of(day, start).label == label


def test_this_quarter_and_the_next_three_cross_the_year_end() -> None:
    got = [q.label for q in quarters_from(dt.date(2026, 12, 15), 4, 2)]
    assert got == ["FY27-Q4", "FY28-Q1", "FY28-Q2", "FY28-Q3"]
    assert quarters_from(dt.date(2026, 12, 15), 4, 2)[1].start == dt.date(2027, 2, 1)


def test_add_months_clamps_and_keys_parse() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2024, 8, 31), -6) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2026, 3, 15), -15) == dt.date(2024, 12, 15)
    assert parse_quarter_key("2027-1", 2) == Quarter(2027, 1, 2)
    assert parse_quarter_key("2027-5") is None
    assert parse_quarter_key("x") is None
    with pytest.raises(ValueError):
        quarter_of(dt.date(2026, 1, 1), 13)
