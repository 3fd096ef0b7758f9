"""Which signals fire on a day, for the whole book, in a fixed number of queries (no per-account work), and the
health-color intervals worked out from ``HealthHistory`` for a rebuild.

What can be rebuilt for past days from stored history (``REBUILD_NOTES``): the health colors only. ``HealthHistory``
keeps a point each day a score changed, so an account's color on any past day is its newest point on or before that
day, exactly what the daily record reads. The indicators read *current* state (the latest usage month on the
account's ``HealthScore``, open onboarding and triage records as they are now, the current success plan): the
stored history does not say what those were on a past day, so they are recorded from the day the daily record runs
and never invented for the past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.dashboards import indicator_sql, indicators
from tamarind.health.models import HealthColor, HealthHistory
from tamarind.signals.models import HEALTH_KEYS

HEALTH_KEY_COLOR = {"health:red": HealthColor.RED.value, "health:yellow": HealthColor.YELLOW.value}

REBUILD_NOTES: dict[str, str] = {
    "health:red": "Rebuilt from the health history (the newest point on or before each day).",
    "health:yellow": "Rebuilt from the health history (the newest point on or before each day).",
}
NOT_REBUILDABLE = (
    "Recorded daily from the day the signal history started; not rebuilt for past days: the indicator reads the "
    "current state (latest usage month, open onboarding and triage records, current plans), which the stored "
    "history does not keep day by day."
)


def signal_keys() -> list[str]:
    """Every signal: the indicators (``INDICATORS`` order, whatever is registered there) and the health colors."""
    return [key for key, _, _ in indicators.INDICATORS] + list(HEALTH_KEYS)


def signal_label(key: str) -> str:
    if key == "health:red":
        return "Health red"
    if key == "health:yellow":
        return "Health yellow"
    return indicators.LABELS.get(key, key)


def rebuild_note(key: str) -> str:
    return REBUILD_NOTES.get(key, NOT_REBUILDABLE)


def health_firing(*, day: dt.date) -> dict[str, set[int]]:
    """The accounts whose health color on ``day`` (the newest history point on or before it) is red / yellow."""
    newest = HealthHistory.objects.filter(account=OuterRef("pk"), day__lte=day).order_by("-day").values("color")[:1]
    rows = (
        Account.objects.annotate(day_color=Subquery(newest))
        .filter(day_color__in=list(HEALTH_KEY_COLOR.values()))
        .values_list("pk", "day_color")
        .order_by()
    )
    out: dict[str, set[int]] = {key: set() for key in HEALTH_KEYS}
    by_color = {color: key for key, color in HEALTH_KEY_COLOR.items()}
    for pk, color in rows:
        out[by_color[color]].add(pk)
    return out


def indicator_firing(*, day: dt.date, thresholds: indicators.Thresholds) -> dict[str, set[int]]:
    """The accounts each indicator fires for today (the SQL twins over the whole book: one query per indicator)."""
    now = timezone.now()
    return {
        key: set(Account.objects.filter(q).values_list("pk", flat=True).order_by())
        for key, q in indicator_sql.indicator_qs(thresholds, today=day, now=now).items()
    }


def health_intervals(
    points: Iterable[tuple[int, dt.date, str]], *, start: dt.date, end: dt.date
) -> Iterator[tuple[int, str, dt.date, dt.date | None]]:
    """The ``health:*`` intervals over days ``start..end`` from history points ordered by (account, day).

    Pure. The color on a day is the newest point on or before it; an interval still firing on ``end`` stays open
    (``None``), as the daily record leaves it. Points after ``end`` are ignored."""
    current: int | None = None
    color = ""
    open_key: str | None = None
    opened: dt.date | None = None

    def close(day: dt.date | None) -> Iterator[tuple[int, str, dt.date, dt.date | None]]:
        nonlocal open_key, opened
        if open_key is not None and current is not None and opened is not None:
            yield current, open_key, opened, day
        open_key, opened = None, None

    def key_for(c: str) -> str | None:
        for key, value in HEALTH_KEY_COLOR.items():
            if value == c:
                return key
        return None

    for account_id, day, new_color in points:
        if account_id != current:
            yield from close(None)
            current, color = account_id, ""
        if day > end:
            continue
        effective = max(day, start)
        if day <= start:
            color = new_color
            key = key_for(color)
            if key != open_key:
                open_key, opened = key, (start if key else None)
            continue
        key = key_for(new_color)
        color = new_color
        if key != open_key:
            yield from close(effective)
            if key is not None:
                open_key, opened = key, effective
    yield from close(None)
