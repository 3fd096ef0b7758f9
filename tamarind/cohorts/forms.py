"""Parsing of the cohort pages' form posts into the services' arguments (no business rules here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import QueryDict

from tamarind.core.errors import ValidationFailed


def parse_date(raw: str, field: str, errors: dict[str, list[str]], *, required: bool = False) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            errors.setdefault(field, []).append("A date is required.")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.setdefault(field, []).append("Not a date (YYYY-MM-DD).")
        return None


def parse_int(raw: str, field: str, errors: dict[str, list[str]], *, default: int | None = None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 9:
        errors.setdefault(field, []).append("A whole number.")
        return None
    return int(raw)


def cohort_data(post: QueryDict) -> dict[str, Any]:
    """The cohort form's fields (``owner_ids`` from the checkboxes); bad dates and numbers raise."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "name": post.get("name", ""),
        "space_url": post.get("space_url", ""),
        "namespace_url": post.get("namespace_url", ""),
        "engagement_rules": post.get("engagement_rules", ""),
        "scope": post.get("scope", ""),
        "status": post.get("status", "planned"),
        "starts_on": parse_date(post.get("starts_on", ""), "starts_on", errors, required=True),
        "ends_on": parse_date(post.get("ends_on", ""), "ends_on", errors),
        "target_size": parse_int(post.get("target_size", ""), "target_size", errors),
    }
    owner_ids = []
    for raw in post.getlist("owner_ids"):
        value = parse_int(raw, "owner_ids", errors)
        if value is not None:
            owner_ids.append(value)
    data["owner_ids"] = owner_ids
    if errors:
        raise ValidationFailed(errors)
    return data
