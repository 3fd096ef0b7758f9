"""Demo engagement history: two past iterations with different settings and results.

The book imported by the demo already carries each account's model (high touch, low touch, named, pooled,
digital). Here: iteration 1 ("FY22-Q1: high touch + low touch + named") is recorded over days 300 to 211 ago;
between the iterations a share of low-touch accounts is moved by hand to named (the iteration 2 pilot, each
move dated and with its reason); then iteration 2 ("FY22-Q3: named pilot, triage, usage insights") over days
210 to 121 ago. The comparison page then shows both, side by side, on the onboarding stories and health the demo
already seeded. Everything goes through the services, acting as the admin.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.engagement import services
from tamarind.engagement.models import Iteration
from tamarind.people.models import User


def seed_engagement_demo(*, actor: User, seed: int, today: dt.date | None = None) -> list[Iteration]:
    today = today or timezone.localdate()
    rng = random.Random(seed + 13)
    first = services.iteration_create(
        actor=actor,
        data={
            "name": "FY22-Q1: high touch + low touch + named",
            "starts_on": today - dt.timedelta(days=300),
            "ends_on": today - dt.timedelta(days=211),
            "notes": "Iteration 1 of the TAM-managed model.",
        },
        source="demo",
    )
    low = list(Account.objects.filter(engagement_model="low_touch").order_by("pk").values_list("pk", flat=True))
    pilot = sorted(rng.sample(low, k=len(low) // 4)) if low else []
    moved_on = today - dt.timedelta(days=215)
    for account in Account.objects.filter(pk__in=pilot).select_related("region", "tam"):
        services.account_place(
            actor=actor,
            account=account,
            model_key="named",
            reason="Iteration 2 pilot: a named TAM",
            on=moved_on,
            source="demo",
        )
    second = services.iteration_create(
        actor=actor,
        data={
            "name": "FY22-Q3: named pilot, triage, usage insights",
            "starts_on": today - dt.timedelta(days=210),
            "ends_on": today - dt.timedelta(days=121),
            "notes": "Iteration 2: a quarter of low-touch accounts get a named TAM.",
        },
        source="demo",
    )
    return [first, second]
