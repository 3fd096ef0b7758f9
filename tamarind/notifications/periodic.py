"""Periodic work of the notifications app, run by the scheduler (see ``tamarind.core.periodic``)."""

from __future__ import annotations

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS: list[PeriodicSpec] = [
    PeriodicSpec(
        key="notifications.daily_digest",
        func="tamarind.notifications.services.notification_digest_send",
        every=timedelta(days=1),
        description="Email everyone who chose the daily digest their unread notifications not yet emailed.",
    ),
    PeriodicSpec(
        key="notifications.send_pending",
        func="tamarind.notifications.services.notification_emails_send_pending",
        every=timedelta(minutes=10),
        description=(
            "Catch-up for immediate emails: send what a failed or lost email task left behind (the mail "
            "server was down, the queue dropped the task)."
        ),
    ),
]
