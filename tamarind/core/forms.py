"""Form helpers shared by the apps' views."""

from __future__ import annotations

from django import forms

from tamarind.core.errors import ValidationFailed


def add_service_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Show a service's validation errors on the form, on the field when the form has it."""
    for field, messages in exc.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
