"""Periodic work of the renewals app (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS: list[PeriodicSpec] = [
    PeriodicSpec(
        key="renewals.tasks",
        func="tamarind.renewals.services.renewal_tasks_raise",
        every=timedelta(days=1),
        description=(
            "Raise the renewal task of each open renewal whose window opened (6 months before its date by default) "
            "and its internal renewal review task (due 60 days after), once per renewal."
        ),
    ),
    PeriodicSpec(
        key="renewals.arr_snapshot",
        func="tamarind.renewals.services.arr_snapshot_take",
        every=timedelta(days=1),
        description=(
            "Record each account's ARR for the month at month end (on the month's last day, or the day after for "
            "a month that ended without one); a second run changes nothing."
        ),
    ),
]
