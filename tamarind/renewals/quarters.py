"""Fiscal quarters, pure (no Django, no database).

The fiscal year starts on the first day of ``start_month`` (1 = January; many software companies start in February).
A fiscal year is named by the calendar year it ends in: with a February start, FY27 runs from 1 February 2026 to
31 January 2027, and its first quarter (FY27-Q1) is February to April 2026. With a January start FY27 is calendar
2027. Every "this quarter", "next quarter" and label follows the setting, at its boundaries and across year ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def _check_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"The fiscal year's first month must be 1-12, not {start_month!r}.")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _month_end(year, month).day
    return dt.date(year, month, min(day.day, last))


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return nxt - dt.timedelta(days=1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return _month_end(day.year, day.month)


@dataclass(frozen=True, order=True)
class Quarter:
    """One fiscal quarter: ``fiscal_year`` (the calendar year the fiscal year ends in), ``number`` 1-4, and the
    fiscal year's first month it was computed with."""

    fiscal_year: int
    number: int
    start_month: int = 1

    @property
    def start(self) -> dt.date:
        # FY N starts in calendar year N-1 unless the fiscal year is the calendar year (January start).
        first_year = self.fiscal_year if self.start_month == 1 else self.fiscal_year - 1
        return add_months(dt.date(first_year, self.start_month, 1), 3 * (self.number - 1))

    @property
    def end(self) -> dt.date:
        """The last day of the quarter (inclusive)."""
        return add_months(self.start, 3) - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"FY{self.fiscal_year % 100:02d}-Q{self.number}"

    @property
    def key(self) -> str:
        """A stable key for URLs and CSV: ``2027-1``."""
        return f"{self.fiscal_year}-{self.number}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def shift(self, quarters: int) -> Quarter:
        index = self.fiscal_year * 4 + (self.number - 1) + quarters
        year, number = divmod(index, 4)
        return Quarter(year, number + 1, self.start_month)

    def __str__(self) -> str:
        return self.label


def quarter_of(day: dt.date, start_month: int = 1) -> Quarter:
    """The fiscal quarter ``day`` falls in."""
    _check_month(start_month)
    offset = (day.month - start_month) % 12  # months since the fiscal year began
    fiscal_year = day.year if start_month == 1 or day.month < start_month else day.year + 1
    return Quarter(fiscal_year, offset // 3 + 1, start_month)


def quarters_from(day: dt.date, count: int, start_month: int = 1) -> list[Quarter]:
    """The quarter of ``day`` and the ``count - 1`` after it."""
    first = quarter_of(day, start_month)
    return [first.shift(i) for i in range(count)]


def parse_quarter_key(key: str, start_month: int = 1) -> Quarter | None:
    """``2027-1`` -> FY27-Q1; ``None`` for anything else."""
    year, _, number = key.partition("-")
    if not (year.isdigit() and number.isdigit() and len(year) == 4):
        return None
    n = int(number)
    return Quarter(int(year), n, start_month) if 1 <= n <= 4 else None
