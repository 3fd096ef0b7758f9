"""Periodic work of the Service Desk (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS = [
    PeriodicSpec(
        key="servicedesk.overdue_notify",
        func="tamarind.servicedesk.services.requests_overdue_notify",
        every=timedelta(minutes=15),
        description="Tell each pool's manager of requests past their first-response time without an answer.",
    )
]
