"""When a step is due: pure date arithmetic, shared by the daily run, the account panel and the demo.

Day 0 is the account's ``customer_since``; a step on day ``d`` is due ``d`` calendar days later (month ends and
leap days are just days). A recurring step's occurrence ``k`` falls on day ``d + k * repeat``, or, for a step
repeating every ``repeat_months`` calendar months, on the date of day ``d`` plus ``k * repeat_months`` months
(clamped at month ends, always counted from day ``d``: a first date of 31 January repeats on 31 July, 31 January,
... and on 28 or 29 February when February is due: it never drifts). A run also catches
up on the ``CATCH_UP_DAYS - 1`` days before it (a missed daily run loses nothing): the send row's constraint keeps
a caught-up occurrence from sending twice.
"""

from __future__ import annotations

import datetime as dt

from tamarind.core.months import add_months, months_between

CATCH_UP_DAYS = 3


def occurrence_due(
    *,
    since: dt.date,
    day: dt.date,
    offset: int,
    repeat: int | None,
    catch_up: int = CATCH_UP_DAYS,
    repeat_months: int | None = None,
) -> int | None:
    """The occurrence of a step (``offset`` days after ``since``, every ``repeat`` days or ``repeat_months``
    months) due on ``day``, counting the ``catch_up`` days up to it; ``None`` when none is."""
    elapsed = (day - since).days - offset
    if elapsed < 0:
        return None
    if repeat_months:
        first = since + dt.timedelta(days=offset)
        # The occurrence on or before ``day`` is in ``day``'s month or the one before (month lengths differ).
        k = months_between(first, day) // repeat_months
        for candidate in (k, k - 1):
            if candidate < 0:
                continue
            on = add_months(first, candidate * repeat_months)
            if on <= day:
                return candidate if (day - on).days < catch_up else None
        return None
    if not repeat:
        return 0 if elapsed < catch_up else None
    k, rest = divmod(elapsed, repeat)
    return k if rest < min(catch_up, repeat) else None


def occurrence_date(
    *, since: dt.date, offset: int, repeat: int | None, occurrence: int, repeat_months: int | None = None
) -> dt.date:
    if repeat_months:
        return add_months(since + dt.timedelta(days=offset), occurrence * repeat_months)
    return since + dt.timedelta(days=offset + occurrence * (repeat or 0))


def next_date(
    *, since: dt.date, today: dt.date, offset: int, repeat: int | None, repeat_months: int | None = None
) -> dt.date | None:
    """The first date on or after ``today`` a step falls on (``None`` when a one-off step is past)."""
    first = since + dt.timedelta(days=offset)
    if first >= today:
        return first
    if repeat_months:
        k = max(0, months_between(first, today) // repeat_months - 1)
        while (on := add_months(first, k * repeat_months)) < today:
            k += 1
        return on
    if not repeat:
        return None
    k = -(-(today - first).days // repeat)
    return first + dt.timedelta(days=k * repeat)
