"""Background tasks of the digital journey (django-tasks): thin wrappers around the services."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def deliver_sends() -> dict[str, Any]:
    """Deliver the queued sends that are due (a batch; the periodic job enqueues it after each run)."""
    from tamarind.journeys.services import sends_deliver

    return sends_deliver()
