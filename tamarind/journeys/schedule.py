"""When a step is due: pure date arithmetic, shared by the daily run, the account panel and the demo.

Day 0 is the account's ``customer_since``; a step on day ``d`` is due ``d`` calendar days later (month ends and
leap days are just days). A recurring step's occurrence ``k`` falls on day ``d + k * repeat``. A run also catches
up on the ``CATCH_UP_DAYS - 1`` days before it (a missed daily run loses nothing): the send row's constraint keeps
a caught-up occurrence from sending twice.
"""

from __future__ import annotations

import datetime as dt

CATCH_UP_DAYS = 3


def occurrence_due(
    *, since: dt.date, day: dt.date, offset: int, repeat: int | None, catch_up: int = CATCH_UP_DAYS
) -> int | None:
    """The occurrence of a step (``offset`` days after ``since``, every ``repeat`` days) due on ``day``, counting
    the ``catch_up`` days up to it; ``None`` when none is."""
    elapsed = (day - since).days - offset
    if elapsed < 0:
        return None
    if not repeat:
        return 0 if elapsed < catch_up else None
    k, rest = divmod(elapsed, repeat)
    return k if rest < min(catch_up, repeat) else None


def occurrence_date(*, since: dt.date, offset: int, repeat: int | None, occurrence: int) -> dt.date:
    return since + dt.timedelta(days=offset + occurrence * (repeat or 0))


def next_date(*, since: dt.date, today: dt.date, offset: int, repeat: int | None) -> dt.date | None:
    """The first date on or after ``today`` a step falls on (``None`` when a one-off step is past)."""
    first = since + dt.timedelta(days=offset)
    if first >= today:
        return first
    if not repeat:
        return None
    k = -(-(today - first).days // repeat)
    return first + dt.timedelta(days=k * repeat)
