"""Periodic work of the reviews app (see ``tamarind.core.periodic``)."""

from datetime import timedelta

from tamarind.core.periodic import PeriodicSpec

JOBS: list[PeriodicSpec] = [
    PeriodicSpec(
        key="reviews.schedule",
        func="tamarind.reviews.services.occurrences_schedule",
        every=timedelta(hours=1),
        description=(
            "Give every region its review schedules and create the occurrences due up to the horizon on each "
            "cadence (a 1:1 per active TAM); idempotent."
        ),
    ),
]
JOBS.append(
    PeriodicSpec(
        key="reviews.burndown_snapshot",
        func="tamarind.reviews.burndown.burndown_snapshot",
        every=timedelta(days=1),
        description=(
            "Count today's burn-down exceptions per region and TAM (replacing today's earlier count), so the "
            "burn-down chart shows each exception over weeks."
        ),
    )
)
JOBS.append(
    PeriodicSpec(
        key="reviews.weekly_digest",
        func="tamarind.reviews.digest.weekly_digest_send",
        every=timedelta(days=7),
        description="Email each TAM Manager their week: overdue reviews, the burn-down's movement, new risks.",
    )
)
