"""Background tasks of the notifications app (django-tasks): thin wrappers around the services."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def send_notification_emails() -> dict[str, Any]:
    """Send the pending immediate emails. Enqueued once per transaction that created notifications."""
    from tamarind.notifications.services import notification_emails_send_pending

    return notification_emails_send_pending()
