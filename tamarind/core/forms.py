"""Form helpers shared by the apps' views."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tamarind.core.errors import ValidationFailed
from tamarind.core.values import DATE_RANGE_MESSAGE, INT64_MESSAGE, MAX_INT64, MIN_INT64, date_out_of_range


def validate_date_in_range(value: Any) -> None:
    if value is not None and date_out_of_range(value):
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


def validate_int64(value: Any) -> None:
    if value is not None and not MIN_INT64 <= value <= MAX_INT64:
        raise ValidationError(INT64_MESSAGE, code="int64")


class DateField(forms.DateField):
    """A date within the product's years (``core.values``): 9999-12-31 is refused on the form, not a 500 later."""

    default_validators = [validate_date_in_range]


class DateTimeField(forms.DateTimeField):
    """A date and time within the product's years, checked before any time zone arithmetic on it."""

    default_validators = [validate_date_in_range]


class IntegerField(forms.IntegerField):
    """An integer the database can hold (64 bits), whatever narrower bounds the form adds."""

    default_validators = [validate_int64]


def add_service_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Show a service's validation errors on the form, on the field when the form has it."""
    for field, messages in exc.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
