"""Checking plain values from forms and the API before a service stores them: each mistake raised as
``ValidationFailed`` under the field's label, with a message a person can act on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tamarind.core.errors import ValidationFailed


def clean_text(value: Any, label: str, *, required: bool = False, max_length: int | None = None) -> str:
    """Text without NUL characters or surrounding blanks; ``None`` is empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed({label: ["Must be text."]})
    value = value.replace("\x00", "").strip()
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
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed({label: [f"Must be a date (YYYY-MM-DD), got {value!r}."]})
