"""Helpers for review tests: a schedule and an occurrence in ``book``'s east region."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tamarind.reviews.cadence import meeting_start
from tamarind.reviews.models import ReviewKind, ReviewOccurrence, ReviewSchedule


def schedule(region: Any, kind: str = ReviewKind.TRIAGE_HEALTH, cadence: str = "monthly") -> ReviewSchedule:
    found, _ = ReviewSchedule.objects.get_or_create(
        region=region, kind=kind, defaults={"cadence": cadence, "starts_on": dt.date(2026, 1, 1)}
    )
    return found


def occurrence(
    region: Any, kind: str = ReviewKind.TRIAGE_HEALTH, *, subject: Any = None, due_on: dt.date | None = None
) -> ReviewOccurrence:
    s = schedule(region, kind)
    day = due_on or timezone.localdate()
    return ReviewOccurrence.objects.create(
        schedule=s,
        kind=kind,
        region=region,
        owner=region.manager,
        subject=subject,
        due_on=day,
        due_at=meeting_start(day, s.meeting_time, s.time_zone),
    )
