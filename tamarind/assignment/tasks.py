"""Background work of the assignment app: thin wrappers around its services."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from tamarind.assignment import services


@task()
def reevaluate_book() -> dict[str, Any]:
    """Evaluate every account against the live rules (after a new version is saved)."""
    return services.qualification_refresh(actor=None, account_ids=None, source="rules").summary()
