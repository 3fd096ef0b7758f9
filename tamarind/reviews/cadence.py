"""Due dates of a review cadence: small pure functions, exhaustively tested (``tests/test_cadence.py``).

- weekly: every 7 days from the schedule's first date;
- twice a month: the 15th and the last day of each month (from the first date on);
- monthly: the first date's day of the month, on the month's last day when the month is shorter (an anchor of
  the 31st gives 28/29 February, 31 March, 30 April: the anchor never drifts).

The meeting's start is the due date at the schedule's local time in its time zone, so a weekly 10:00 stays
10:00 local across a daylight-saving change (its UTC hour moves).
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections.abc import Iterator

from tamarind.core.errors import ValidationFailed

CADENCES = ("weekly", "twice_monthly", "monthly")


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _months_from(start: dt.date) -> Iterator[tuple[int, int]]:
    year, month = start.year, start.month
    while True:
        yield year, month
        month += 1
        if month > 12:
            year, month = year + 1, 1


def due_dates(cadence: str, starts_on: dt.date, until: dt.date) -> list[dt.date]:
    """Every due date of ``cadence`` from ``starts_on`` up to ``until`` (both included)."""
    if cadence not in CADENCES:
        raise ValidationFailed({"cadence": [f"Unknown cadence {cadence!r}: choose one of {', '.join(CADENCES)}."]})
    out: list[dt.date] = []
    if until < starts_on:
        return out
    if cadence == "weekly":
        day = starts_on
        while day <= until:
            out.append(day)
            day += dt.timedelta(days=7)
        return out
    for year, month in _months_from(starts_on):
        if dt.date(year, month, 1) > until:
            break
        last = _last_day(year, month)
        days = [15, last] if cadence == "twice_monthly" else [min(starts_on.day, last)]
        for d in days:
            day = dt.date(year, month, d)
            if starts_on <= day <= until:
                out.append(day)
    return out


def meeting_start(day: dt.date, at: dt.time, time_zone: str) -> dt.datetime:
    """The aware start of a meeting held on ``day`` at local time ``at`` in ``time_zone``. A local time skipped
    by a daylight-saving change (02:30 on the spring-forward night) is moved forward by the gap, as calendars do."""
    zone = zoneinfo.ZoneInfo(time_zone)
    naive = dt.datetime.combine(day, at)
    local = naive.replace(tzinfo=zone)
    # A non-existent local time does not survive the round trip through UTC: move it on by the gap.
    round_trip = local.astimezone(dt.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:
        local = round_trip
    return local
