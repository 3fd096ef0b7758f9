"""Template filters of the scheduler pages: intervals and run durations in words."""

from __future__ import annotations

import datetime as dt

from django import template

from tamarind.scheduler.forms import split_interval

register = template.Library()


@register.filter
def interval(every: dt.timedelta | None) -> str:
    """``timedelta(days=1)`` -> ``1 day``; ``timedelta(minutes=90)`` -> ``90 minutes``."""
    if not isinstance(every, dt.timedelta):
        return "—"
    value, unit = split_interval(every)
    return f"{value} {unit[:-1] if value == 1 else unit}"


@register.filter
def took(duration: dt.timedelta | None) -> str:
    """A run's duration: ``0.04 s``, ``12.3 s``, ``4 min 05 s``, ``1 h 02 min``."""
    if not isinstance(duration, dt.timedelta):  # also the template's "" for a missing run
        return "—"
    seconds = duration.total_seconds()
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
