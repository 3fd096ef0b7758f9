"""Calendar-month arithmetic: a date plus or minus whole months, clamped at month ends (31 January plus one month is
28 or 29 February), as ``dateutil.relativedelta`` and PostgreSQL's ``date + interval 'n months'`` do. Kept here
rather than adding python-dateutil as a dependency (it is only a transitive one) for two small functions."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (negative: back), its day of month clamped to the target
    month's last day. Raises ``OverflowError`` outside years 1-9999."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(f"{day.isoformat()} plus {months} months is outside years 1-9999")
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def months_between(start: dt.date, end: dt.date) -> int:
    """The calendar months from ``start``'s month to ``end``'s (days ignored): 31 Jan to 1 Feb is 1."""
    return (end.year - start.year) * 12 + (end.month - start.month)
