"""Errors services raise; views and the API turn them into 400/403/404 answers."""

from __future__ import annotations


class ValidationFailed(Exception):
    """Input that breaks a rule. ``errors`` maps a field name (or ``__all__``) to its messages."""

    def __init__(self, errors: dict[str, list[str]] | str) -> None:
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors = errors
        super().__init__(
            "; ".join(f"{k}: {', '.join(v)}" if k != "__all__" else ", ".join(v) for k, v in errors.items())
        )
