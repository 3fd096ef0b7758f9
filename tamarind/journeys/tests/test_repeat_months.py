"""Steps repeating every so many calendar months (the survey "every 6 months"): occurrences fall on the same day of
the month, clamped at month ends, counted from the first date (no drift); the daily run, narrowed to start-date
windows, queues exactly those, whatever the month lengths; the migration that turns day repeats into months."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamarind.core.errors import ValidationFailed
from tamarind.core.months import add_months
from tamarind.journeys import schedule, services
from tamarind.journeys.models import Send
from tamarind.journeys.tests.factories import contact, only_programs, program, small_account

dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


def _due_dates(since: dt.date, offset: int, months: int, catch_up: int, start: dt.date, days: int) -> list:
    return [
        (d, k)
        for i in range(days)
        if (k := schedule.occurrence_due(
            since=since, day=(d := start + dt.timedelta(days=i)), offset=offset, repeat=None,
            repeat_months=months, catch_up=catch_up,
        ))
        is not None
    ]  # fmt: skip


def test_every_six_months_from_a_month_end() -> None:
    since = dt.date(2025, 8, 1)
    # day 30 after 1 August is 31 August: then 28 February, 31 August, 29 February (2028), ...
    got = _due_dates(since, 30, 6, 1, since, 365 * 3)
    assert got == [
        (dt.date(2025, 8, 31), 0),
        (dt.date(2026, 2, 28), 1),
        (dt.date(2026, 8, 31), 2),
        (dt.date(2027, 2, 28), 3),
        (dt.date(2027, 8, 31), 4),
        (dt.date(2028, 2, 29), 5),
    ]
    assert schedule.next_date(since=since, today=dt.date(2026, 3, 1), offset=30, repeat=None, repeat_months=6) == (
        dt.date(2026, 8, 31)
    )
    assert schedule.occurrence_date(since=since, offset=30, repeat=None, occurrence=3, repeat_months=6) == dt.date(
        2027, 2, 28
    )


@settings(max_examples=60, deadline=None)
@given(dates, st.integers(min_value=0, max_value=400), st.integers(min_value=1, max_value=13))
def test_due_exactly_on_the_clamped_month_dates_with_catch_up(since: dt.date, offset: int, months: int) -> None:
    first = since + dt.timedelta(days=offset)
    expected = {add_months(first, k * months): k for k in range(0, 40)}
    start, span = first - dt.timedelta(days=3), 365 * 2
    for d, k in _due_dates(since, offset, months, schedule.CATCH_UP_DAYS, start, span):
        on = add_months(first, k * months)
        assert expected[on] == k and 0 <= (d - on).days < schedule.CATCH_UP_DAYS
    exact = _due_dates(since, offset, months, 1, start, span)
    assert [d for d, _ in exact] == sorted(on for on in expected if start <= on < start + dt.timedelta(days=span))
    nxt = schedule.next_date(since=since, today=start + dt.timedelta(days=200), offset=offset, repeat=None,
                             repeat_months=months)  # fmt: skip
    assert nxt == min(on for on in expected if on >= start + dt.timedelta(days=200))


@pytest.mark.django_db
def test_the_daily_run_queues_month_occurrences_for_every_start_date() -> None:
    """Accounts started on each day of a span crossing month ends: running every day for a year queues, per
    account, exactly the month occurrences (the start-date windows lose none and add none)."""
    p = program(key="monthly", steps=[{"day": 3, "repeat_months": 2, "name": "Every two months"}])
    only_programs(p)
    first_since = dt.date(2026, 1, 25)
    people = {}
    for i in range(12):  # 25 January to 5 February
        since = first_since + dt.timedelta(days=i)
        people[contact(small_account(since)).pk] = since
    start = first_since
    for i in range(0, 370, 2):  # every other day: the catch-up days make up for the skipped ones
        services.journey_run(day=start + dt.timedelta(days=i))
    got: dict[int, list[tuple[int, dt.date]]] = {}
    for contact_id, k, on in Send.objects.values_list("contact_id", "occurrence", "due_on").order_by("due_on"):
        got.setdefault(contact_id, []).append((k, on))
    end = start + dt.timedelta(days=368)
    for contact_id, since in people.items():
        first = since + dt.timedelta(days=3)
        expected = [(k, add_months(first, 2 * k)) for k in range(0, 10) if add_months(first, 2 * k) <= end]
        assert got[contact_id] == expected, since


@pytest.mark.django_db
def test_repeat_in_days_or_months_not_both() -> None:
    p = program(key="both", steps=[])
    data = {"name": "NPS", "kind": "nps", "day": 90, "subject": "How are we doing?", "body": "{{ survey_url }}"}
    with pytest.raises(ValidationFailed, match="not both"):
        services.step_create(actor=None, program=p, data={**data, "repeat_days": 182, "repeat_months": 6})
    with pytest.raises(ValidationFailed, match="from 1 to 120"):
        services.step_create(actor=None, program=p, data={**data, "repeat_months": 0})
    step = services.step_create(actor=None, program=p, data={**data, "repeat_months": "6"})
    assert (step.repeat_days, step.repeat_months) == (None, 6)
    step = services.step_update(actor=None, step=step, data={"repeat_months": "", "repeat_days": 30})
    assert (step.repeat_days, step.repeat_months) == (30, None)


def test_the_migration_turns_month_like_day_repeats_into_months() -> None:
    migration = importlib.import_module("tamarind.journeys.migrations.0005_repeats_in_months")
    assert [migration.months_for(d) for d in (30, 31, 61, 91, 182, 183, 365, 730)] == [1, 1, 2, 3, 6, 6, 12, 24]
    assert [migration.months_for(d) for d in (1, 7, 14, 27, 28, 45, 100, 200)] == [None] * 8
