"""The time-to-value metrics: pure functions over dates, every state and boundary."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamarind.onboarding.metrics import (
    ENGAGE,
    FIRST_VALUE,
    METRICS,
    ONBOARD,
    MetricState,
    TargetDays,
    data_errors,
    date_order_error,
    elapsed_days,
    measure,
    measure_all,
    overdue_since,
)

D = dt.date(2025, 3, 1)


def days(n):
    return D + dt.timedelta(days=n)


# --- elapsed_days -------------------------------------------------------------------------------------------


def test_elapsed_days_counts_whole_days():
    assert elapsed_days(D, days(14)) == 14
    assert elapsed_days(D, D) == 0


def test_elapsed_days_is_none_when_a_date_is_missing():
    assert elapsed_days(None, D) is None
    assert elapsed_days(D, None) is None
    assert elapsed_days(None, None) is None


def test_elapsed_days_is_never_negative():
    assert elapsed_days(days(1), D) is None


def test_elapsed_days_across_a_leap_day_and_a_year_end():
    assert elapsed_days(dt.date(2024, 2, 28), dt.date(2024, 3, 1)) == 2
    assert elapsed_days(dt.date(2024, 12, 31), dt.date(2025, 1, 1)) == 1


@given(st.dates(), st.dates())
def test_elapsed_days_is_none_or_non_negative(a, b):
    result = elapsed_days(a, b)
    if b < a:
        assert result is None
    else:
        assert result == (b - a).days >= 0


# --- measure: reached milestones ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "state", "delta", "over", "under"),
    [
        (days(0), MetricState.MET, -14, 0, 14),
        (days(13), MetricState.MET, -1, 0, 1),
        (days(14), MetricState.MET, 0, 0, 0),  # exactly on target is within it
        (days(15), MetricState.MISSED, 1, 1, 0),
        (days(40), MetricState.MISSED, 26, 26, 0),
    ],
)
def test_reached_milestone_against_target(end, state, delta, over, under):
    m = measure(ENGAGE, start=D, end=end, target=14, today=days(100))
    assert m.state == state
    assert m.days == (end - D).days
    assert (m.delta, m.over_by, m.under_by) == (delta, over, under)
    assert m.within_target is (state == MetricState.MET)
    assert m.error == ""


def test_reached_milestone_ignores_today_and_openness():
    a = measure(ONBOARD, start=D, end=days(30), target=45, today=D - dt.timedelta(days=5), is_open=False)
    assert a.state == MetricState.MET and a.days == 30


def test_end_before_start_is_a_data_error_not_a_negative_figure():
    m = measure(FIRST_VALUE, start=days(10), end=days(3), target=30, today=days(50))
    assert m.state == MetricState.DATA_ERROR
    assert m.days is None and m.delta is None and m.over_by == 0 and m.under_by == 0
    assert m.within_target is None
    assert "First value (2025-03-04) is before contract start (2025-03-11)" in m.error


# --- measure: the clock running -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today_offset", "state", "figure"),
    [
        (0, MetricState.RUNNING, 0),
        (14, MetricState.RUNNING, 14),  # the last day within target
        (15, MetricState.OVERDUE, 15),  # the first day over
        (60, MetricState.OVERDUE, 60),
    ],
)
def test_open_milestone_runs_until_today(today_offset, state, figure):
    m = measure(ENGAGE, start=D, end=None, target=14, today=days(today_offset))
    assert m.state == state and m.days == figure
    assert m.within_target is None


def test_running_counts_days_left_and_overdue_days_over():
    assert measure(ENGAGE, start=D, end=None, target=14, today=days(10)).under_by == 4
    assert measure(ENGAGE, start=D, end=None, target=14, today=days(20)).over_by == 6


def test_overdue_since_is_the_first_day_over():
    first = overdue_since(D, 14)
    assert measure(ENGAGE, start=D, end=None, target=14, today=first).state == MetricState.OVERDUE
    before = first - dt.timedelta(days=1)
    assert measure(ENGAGE, start=D, end=None, target=14, today=before).state == MetricState.RUNNING


@pytest.mark.parametrize(
    ("start", "today", "is_open"),
    [
        (None, D, True),  # nothing to count from
        (days(5), D, True),  # starts in the future: not a negative figure
        (D, days(30), False),  # closed without its milestone: no running clock
    ],
)
def test_pending_when_there_is_nothing_to_count(start, today, is_open):
    m = measure(ENGAGE, start=start, end=None, target=14, today=today, is_open=is_open)
    assert m.state == MetricState.PENDING and m.days is None and m.delta is None


def test_end_without_start_is_pending():
    m = measure(ENGAGE, start=None, end=D, target=14, today=days(3))
    assert m.state == MetricState.PENDING and m.days is None


@given(
    st.one_of(st.none(), st.dates()),
    st.one_of(st.none(), st.dates()),
    st.integers(min_value=1, max_value=400),
    st.dates(),
    st.booleans(),
)
def test_measure_never_gives_a_negative_figure(start, end, target, today, is_open):
    m = measure(ONBOARD, start=start, end=end, target=target, today=today, is_open=is_open)
    assert m.days is None or m.days >= 0
    assert (m.state == MetricState.DATA_ERROR) == (start is not None and end is not None and end < start)
    if m.days is not None:
        assert m.over_by >= 0 and m.under_by >= 0 and not (m.over_by and m.under_by)


# --- all three ----------------------------------------------------------------------------------------------


def test_measure_all_uses_each_metrics_dates_and_target():
    dates = {
        "contract_start": D,
        "onboarding_start": days(5),
        "first_engagement": days(12),
        "first_value": days(40),
        "onboarding_finish": None,
    }
    result = measure_all(dates, targets=TargetDays(engage=7, first_value=30, onboard=45), today=days(60))
    by_key = {m.key: m for m in result}
    assert [m.key for m in result] == [m.key for m in METRICS]
    assert by_key["time_to_engage"].state == MetricState.MET and by_key["time_to_engage"].days == 7
    assert by_key["time_to_first_value"].state == MetricState.MISSED and by_key["time_to_first_value"].over_by == 10
    assert by_key["time_to_onboard"].state == MetricState.OVERDUE and by_key["time_to_onboard"].days == 55


def test_measure_all_takes_targets_from_the_argument_not_constants():
    dates = {"onboarding_start": D, "first_engagement": days(20)}
    assert measure_all(dates, targets=TargetDays(engage=21), today=D)[0].state == MetricState.MET
    assert measure_all(dates, targets=TargetDays(engage=14), today=D)[0].state == MetricState.MISSED


def test_default_targets_are_the_domain_defaults():
    assert TargetDays() == TargetDays(engage=14, first_value=30, onboard=45)


def test_data_errors_names_each_reversed_pair_by_its_later_field():
    dates = {
        "contract_start": days(10),
        "onboarding_start": days(10),
        "first_engagement": days(2),
        "first_value": days(1),
        "onboarding_finish": days(12),
    }
    errors = data_errors(dates)
    assert set(errors) == {"first_engagement", "first_value"}
    assert "before contract start" in errors["first_engagement"]


def test_date_order_error_is_empty_for_ordered_or_missing_dates():
    assert date_order_error(ENGAGE, D, D) == ""
    assert date_order_error(ENGAGE, D, None) == ""
    assert date_order_error(ENGAGE, None, D) == ""
