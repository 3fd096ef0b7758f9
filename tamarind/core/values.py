"""Checking plain values from forms and the API before a service stores them: each mistake raised as
``ValidationFailed`` under the field's label, with a message a person can act on."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from tamarind.core.errors import ValidationFailed

# Every date and time the product accepts lies in these years: far enough from the calendar's ends (1 and 9999)
# that no computation on it (a renewal a year on, a week's start, a time zone's offset) leaves Python's range.
MIN_YEAR = 1900
MAX_YEAR = 2999
MIN_DATE = dt.date(MIN_YEAR, 1, 1)
MAX_DATE = dt.date(MAX_YEAR, 12, 31)
DATE_RANGE_MESSAGE = f"Must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}."
# The database's integers are 64-bit signed.
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
INT64_MESSAGE = f"Must be between {MIN_INT64} and {MAX_INT64}."
NUL_MESSAGE = "Must not contain NUL characters."


def date_out_of_range(value: dt.date | dt.datetime) -> bool:
    """True for a date, or a date and time (in any time zone, or none), outside ``MIN_DATE``..``MAX_DATE``."""
    return not MIN_YEAR <= value.year <= MAX_YEAR


def input_problem(value: Any) -> str | None:
    """What is wrong with a value any form, API or file field may carry, whatever its type (text with a NUL,
    an integer beyond 64 bits, a date outside the product's years), looking inside lists and dicts; or None."""
    if isinstance(value, str):
        return NUL_MESSAGE if "\x00" in value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if MIN_INT64 <= value <= MAX_INT64 else INT64_MESSAGE
    if isinstance(value, dt.date):  # datetimes too
        return DATE_RANGE_MESSAGE if date_out_of_range(value) else None
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
        return next((p for p in map(input_problem, items) if p), None)
    if isinstance(value, list | tuple | set | frozenset):
        return next((p for p in map(input_problem, value) if p), None)
    return None


def clean_text(value: Any, label: str, *, required: bool = False, max_length: int | None = None) -> str:
    """Text without surrounding blanks; ``None`` is empty; NUL characters are refused (PostgreSQL cannot
    store them, and silently dropping part of what someone typed would change it)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed({label: ["Must be text."]})
    if "\x00" in value:
        raise ValidationFailed({label: [NUL_MESSAGE]})
    value = value.strip()
    if required and not value:
        raise ValidationFailed({label: ["This field is required."]})
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed({label: [f"At most {max_length} characters."]})
    return value


def clean_date(value: Any, label: str) -> dt.date | None:
    """A date, or an ISO ``YYYY-MM-DD`` string of one; empty is ``None``; a datetime is refused."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        raise ValidationFailed({label: ["Must be a date, not a date and time."]})
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value)
    if isinstance(value, dt.date):
        if date_out_of_range(value):
            raise ValidationFailed({label: [DATE_RANGE_MESSAGE]})
        return value
    raise ValidationFailed({label: [f"Must be a date (YYYY-MM-DD), got {value!r}."]})
