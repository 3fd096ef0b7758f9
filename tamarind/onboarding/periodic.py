"""Periodic work of the onboarding app (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS: list[PeriodicSpec] = [
    PeriodicSpec(
        key="onboarding.overdue_milestones",
        func="tamarind.onboarding.services.onboarding_raise_overdue",
        every=timedelta(hours=1),
        description=(
            "Raise an 'onboarding milestone overdue' task for the TAM of each open onboarding that is past a "
            "time-to-value target without its milestone (first engagement, first value, onboarding finish)."
        ),
    ),
]
