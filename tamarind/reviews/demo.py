"""The reviews part of the demo book (called by ``accounts.demo.build_demo``): each region's schedules, a past of
completed reviews and 1:1s with their decisions (some left overdue, as in life), and twelve weeks of burn-down
counts that mostly burn down. Kept fast: decisions beyond the first few per review are written in bulk."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tamarind.people.models import Region, Role, User
from tamarind.reviews import services
from tamarind.reviews.burndown import burndown_snapshot
from tamarind.reviews.cadence import due_dates, meeting_start
from tamarind.reviews.models import (
    BurndownCount,
    Decision,
    ReviewItem,
    ReviewKind,
    ReviewOccurrence,
    ReviewSchedule,
)

PAST_DAYS = 21
ONE_ON_ONE_TAMS = 2  # the 1:1 history of a few TAMs per region is enough to show the carry-over


def _past_occurrences(schedule: ReviewSchedule, tams: list[int], today: dt.date) -> list[ReviewOccurrence]:
    rows = []
    owner = schedule.owner_id or schedule.region.manager_id
    for day in due_dates(schedule.cadence, today - dt.timedelta(days=PAST_DAYS), today - dt.timedelta(days=1)):
        for subject in tams if schedule.kind == ReviewKind.ONE_ON_ONE else [None]:
            rows.append(
                ReviewOccurrence(
                    schedule=schedule,
                    kind=schedule.kind,
                    region_id=schedule.region_id,
                    owner_id=owner,
                    subject_id=subject,
                    due_on=day,
                    due_at=meeting_start(day, schedule.meeting_time, schedule.time_zone),
                )
            )
    ReviewOccurrence.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        ReviewOccurrence.objects.filter(schedule=schedule, due_on__lt=today)
        .select_related("region")
        .order_by("due_on", "id")
    )


def _hold(review: ReviewOccurrence, manager: User, rng: random.Random, today: dt.date) -> None:
    """Open a past review, decide on its items (a task or two, the rest noted or carried over), complete it."""
    review = services.review_open(actor=manager, review=review, today=review.due_on)
    items = list(review.items.filter(decision="").select_related("account"))
    tams = {i.account.tam_id for i in items if i.account is not None and i.account.tam_id}
    for item in items[:1]:
        owner = review.subject_id or (next(iter(tams)) if tams else manager.pk)
        services.review_item_decide(
            actor=manager,
            review=review,
            item=item,
            decision=Decision.TASK,
            owner=owner,
            due_on=review.due_on + dt.timedelta(days=7),
            note=f"Follow up: {item.label}"[:200],
            source="demo",
        )
    rest = [i.pk for i in items[1:]]
    carried = [pk for pk in rest if rng.random() < 0.15]
    now = timezone.now()
    ReviewItem.objects.filter(pk__in=carried).update(decision=Decision.CARRIED_OVER, decided_at=now, decided_by=manager)
    ReviewItem.objects.filter(pk__in=set(rest) - set(carried)).update(
        decision=Decision.NOTED, decided_at=now, decided_by=manager, decision_note="Discussed; no change."
    )
    services.review_notes_update(
        actor=manager, review=review, notes=rng.choice(["Good progress.", "Two risks to watch.", "Quiet fortnight."])
    )
    services.review_complete(actor=manager, review=review, source="demo")


def seed_reviews_story(*, seed: int, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    rng = random.Random(seed + 12)
    services.review_schedules_ensure(today=today - dt.timedelta(days=PAST_DAYS))
    held = overdue = 0
    for region in Region.objects.select_related("manager").order_by("name"):
        manager = region.manager
        if manager is None:
            continue
        tams = list(
            User.objects.filter(role=Role.TAM, region=region, is_active=True)
            .order_by("full_name")
            .values_list("pk", flat=True)
        )[:ONE_ON_ONE_TAMS]
        for schedule in ReviewSchedule.objects.filter(region=region).select_related("region").order_by("kind"):
            past = _past_occurrences(schedule, tams, today)
            for i, review in enumerate(past):
                newest = i >= len(past) - (len(tams) if schedule.kind == ReviewKind.ONE_ON_ONE else 1)
                # The newest renewal and onboarding reviews of some regions slip: overdue on My week.
                if newest and schedule.kind in (ReviewKind.RENEWAL, ReviewKind.ONBOARDING) and rng.random() < 0.6:
                    overdue += 1
                    continue
                with transaction.atomic():
                    _hold(review, manager, rng, today)
                held += 1
    services.occurrences_schedule(today=today)
    burndown_snapshot(today=today)
    return {"held": held, "overdue": overdue, "burndown_rows": seed_burndown_history(seed=seed, today=today)}


def seed_burndown_history(*, seed: int, today: dt.date, weeks: int = 12) -> int:
    """Twelve weeks of daily counts ending at today's real ones: higher in the past and burning down, with noise
    (a few exceptions stay flat or creep up, so the chart shows both)."""
    rng = random.Random(seed + 13)
    current = list(BurndownCount.objects.filter(day=today))
    trend = {key: rng.choice([1.8, 1.5, 1.3, 1.0, 0.8]) for key in {c.exception for c in current}}
    rows = []
    for back in range(1, weeks * 7 + 1):
        day = today - dt.timedelta(days=back)
        share = back / (weeks * 7)
        for c in current:
            factor = 1 + (trend[c.exception] - 1) * share
            rows.append(
                BurndownCount(
                    day=day,
                    exception=c.exception,
                    region_id=c.region_id,
                    tam_id=c.tam_id,
                    count=max(0, round(c.count * factor + rng.uniform(-0.6, 0.6))),
                )
            )
    BurndownCount.objects.filter(Q(day__lt=today) & Q(day__gte=today - dt.timedelta(days=weeks * 7))).delete()
    BurndownCount.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
