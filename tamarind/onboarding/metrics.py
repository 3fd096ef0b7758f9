"""Time-to-value metrics of an onboarding, as pure functions over dates (no database, no clock).

| metric              | from             | to                | default target |
|---------------------|------------------|-------------------|----------------|
| time to engage      | onboarding start | first engagement  | 14 days        |
| time to first value | contract start   | first value       | 30 days        |
| time to onboard     | onboarding start | onboarding finish | 45 days        |

A metric is counted in whole days from the earlier date to the later one. It is never negative by mistake: when
the later date is before the earlier one the record holds a data error, reported as such and never as a number.
One exception, time to engage: a call or meeting with the customer before the onboarding start (the SAL's kickoff,
a call before the record was opened) means the customer was engaged from day 0, so it counts as 0 days, met. It is
a data error only when dated before the purchase (the contract start, the metric's ``floor_field``).
The targets come from ``OnboardingTargets`` (admin-editable), passed in as ``TargetDays``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TargetDays:
    """The target of each metric, in days."""

    engage: int = 14
    first_value: int = 30
    onboard: int = 45


@dataclass(frozen=True)
class MetricDef:
    """Which dates a metric runs between and which target applies."""

    key: str
    label: str
    start_field: str
    end_field: str
    target: str  # attribute of TargetDays
    start_label: str
    end_label: str
    # When set: an end before the start but not before this date counts as 0 days (reached on day 0); only an
    # end before this date is a data error.
    floor_field: str | None = None
    floor_label: str = ""


ENGAGE = MetricDef(
    "time_to_engage",
    "Time to engage",
    "onboarding_start",
    "first_engagement",
    "engage",
    "onboarding start",
    "first engagement",
    floor_field="contract_start",
    floor_label="contract start",
)
FIRST_VALUE = MetricDef(
    "time_to_first_value",
    "Time to first value",
    "contract_start",
    "first_value",
    "first_value",
    "contract start",
    "first value",
)
ONBOARD = MetricDef(
    "time_to_onboard",
    "Time to onboard",
    "onboarding_start",
    "onboarding_finish",
    "onboard",
    "onboarding start",
    "onboarding finish",
)
METRICS: tuple[MetricDef, ...] = (ENGAGE, FIRST_VALUE, ONBOARD)
METRIC_BY_KEY: dict[str, MetricDef] = {m.key: m for m in METRICS}


class MetricState(enum.StrEnum):
    PENDING = "pending"  # cannot be measured: no start date, a start in the future, or closed without an end
    RUNNING = "running"  # started, milestone not reached, still within target
    OVERDUE = "overdue"  # started, milestone not reached, past target
    MET = "met"  # milestone reached within target
    MISSED = "missed"  # milestone reached after the target
    DATA_ERROR = "data_error"  # the milestone is dated before the start


@dataclass(frozen=True)
class Measure:
    """One metric of one onboarding on a given day.

    ``days`` is the final figure when the milestone is reached (MET/MISSED), the days elapsed so far while the
    clock runs (RUNNING/OVERDUE), and ``None`` when there is no figure (PENDING, DATA_ERROR).
    """

    metric: MetricDef
    start: dt.date | None
    end: dt.date | None
    target: int
    state: MetricState
    days: int | None
    floor: dt.date | None = None

    @property
    def key(self) -> str:
        return self.metric.key

    @property
    def label(self) -> str:
        return self.metric.label

    @property
    def delta(self) -> int | None:
        """Days over the target (positive) or under it (zero or negative); ``None`` without a figure."""
        return None if self.days is None else self.days - self.target

    @property
    def over_by(self) -> int:
        delta = self.delta
        return delta if delta is not None and delta > 0 else 0

    @property
    def under_by(self) -> int:
        """Days to spare under the target (0 when at or over it, or without a figure)."""
        delta = self.delta
        return -delta if delta is not None and delta < 0 else 0

    @property
    def within_target(self) -> bool | None:
        """For a reached milestone: whether it was within target. ``None`` while open or unmeasurable."""
        if self.state == MetricState.MET:
            return True
        if self.state == MetricState.MISSED:
            return False
        return None

    @property
    def error(self) -> str:
        if self.state != MetricState.DATA_ERROR:
            return ""
        return date_order_error(self.metric, self.start, self.end, floor=self.floor)


def elapsed_days(start: dt.date | None, end: dt.date | None) -> int | None:
    """Whole days from ``start`` to ``end``; ``None`` when either is missing or ``end`` is before ``start``.

    The ``None`` for a reversed pair is deliberate: a negative span is a data error, never a figure.
    """
    if start is None or end is None or end < start:
        return None
    return (end - start).days


def engaged_early(metric: MetricDef, start: dt.date | None, end: dt.date | None, floor: dt.date | None) -> bool:
    """Whether ``end`` falls before ``start`` in the way ``metric`` counts as reached on day 0 (time to engage: a
    call before the onboarding start, not before the purchase ``floor``)."""
    if metric.floor_field is None or start is None or end is None or end >= start:
        return False
    return floor is None or end >= floor


def date_order_error(
    metric: MetricDef, start: dt.date | None, end: dt.date | None, *, floor: dt.date | None = None
) -> str:
    """A message when ``end`` is dated before ``start`` (a data error), else ``""``; for a metric with a floor
    (time to engage), only when ``end`` is before the floor."""
    if start is None or end is None or end >= start or engaged_early(metric, start, end, floor):
        return ""
    if metric.floor_field is not None and floor is not None:
        return (
            f"{metric.end_label.capitalize()} ({end.isoformat()}) is before {metric.floor_label} "
            f"({floor.isoformat()}): check the dates."
        )
    return (
        f"{metric.end_label.capitalize()} ({end.isoformat()}) is before {metric.start_label} "
        f"({start.isoformat()}): check the dates."
    )


def measure(
    metric: MetricDef,
    *,
    start: dt.date | None,
    end: dt.date | None,
    target: int,
    today: dt.date,
    is_open: bool = True,
    floor: dt.date | None = None,
) -> Measure:
    """The state and figure of ``metric`` between ``start`` and ``end`` on ``today``. ``floor`` is the record's
    ``metric.floor_field`` date (the contract start, for time to engage)."""
    if start is not None and end is not None:
        if engaged_early(metric, start, end, floor):
            return Measure(metric, start, end, target, MetricState.MET, 0, floor)
        days = elapsed_days(start, end)
        if days is None:
            return Measure(metric, start, end, target, MetricState.DATA_ERROR, None, floor)
        state = MetricState.MET if days <= target else MetricState.MISSED
        return Measure(metric, start, end, target, state, days, floor)
    if start is None or not is_open or today < start:
        return Measure(metric, start, end, target, MetricState.PENDING, None, floor)
    running = (today - start).days
    state = MetricState.OVERDUE if running > target else MetricState.RUNNING
    return Measure(metric, start, end, target, state, running, floor)


def measure_all(
    dates: Mapping[str, dt.date | None], *, targets: TargetDays, today: dt.date, is_open: bool = True
) -> list[Measure]:
    """The three metrics of one onboarding from its dates (keys: the Onboarding date field names)."""
    return [
        measure(
            m,
            start=dates.get(m.start_field),
            end=dates.get(m.end_field),
            target=getattr(targets, m.target),
            today=today,
            is_open=is_open,
            floor=dates.get(m.floor_field) if m.floor_field else None,
        )
        for m in METRICS
    ]


def data_errors(dates: Mapping[str, dt.date | None]) -> dict[str, str]:
    """End-date field -> message, for every metric whose milestone is dated before its start."""
    out: dict[str, str] = {}
    for m in METRICS:
        floor = dates.get(m.floor_field) if m.floor_field else None
        message = date_order_error(m, dates.get(m.start_field), dates.get(m.end_field), floor=floor)
        if message:
            out[m.end_field] = message
    return out


def overdue_since(start: dt.date, target: int) -> dt.date:
    """The first day on which a milestone that started on ``start`` is over a ``target`` of days."""
    return start + dt.timedelta(days=target + 1)
