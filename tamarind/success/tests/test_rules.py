"""The success rules against a plain restatement of domain section 5, exhaustively at their boundaries."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tamarind.success import rules
from tamarind.success.rules import GREEN, RED, YELLOW, PlanFacts, SettingsValues

TODAY = dt.date(2026, 12, 5)
S = rules.DEFAULT_SETTINGS


def restated(facts: PlanFacts, segment: str, priority: int, settings: SettingsValues, today: dt.date) -> str:
    """Domain section 5 in its own words."""
    if facts.status is None or facts.objectives == 0:
        return RED
    needed = 3 if segment in ("smb", "mid_market") and priority == 1 else 1
    recent = facts.last_activity is not None and (today - facts.last_activity).days <= 60
    if facts.status == "active" and facts.strategy and facts.highlights and facts.open_objectives >= needed and recent:
        return GREEN
    return YELLOW


facts_strategy = st.builds(
    PlanFacts,
    status=st.sampled_from([None, "draft", "active"]),
    strategy=st.booleans(),
    highlights=st.booleans(),
    objectives=st.integers(0, 6),
    open_objectives=st.integers(0, 6),
    last_activity=st.one_of(st.none(), st.integers(0, 120).map(lambda d: TODAY - dt.timedelta(days=d))),
).filter(lambda f: f.open_objectives <= f.objectives)


@given(facts=facts_strategy, segment=st.sampled_from(rules.SEGMENTS), priority=st.integers(1, 4))
def test_color_matches_the_domain_rule(facts: PlanFacts, segment: str, priority: int) -> None:
    color, reasons = rules.plan_color(facts, segment=segment, priority=priority, settings=S, today=TODAY)
    assert color == restated(facts, segment, priority, S, TODAY)
    assert (color == GREEN) == (reasons == [])


@given(idle=st.sampled_from([0, 59, 60, 61, 74]), segment=st.sampled_from(rules.SEGMENTS))
def test_activity_boundary(idle: int, segment: str) -> None:
    facts = PlanFacts("active", True, True, 3, 3, TODAY - dt.timedelta(days=idle))
    color, reasons = rules.plan_color(facts, segment=segment, priority=1, settings=S, today=TODAY)
    if idle <= 60:
        assert color == GREEN
    else:
        assert color == YELLOW
        assert reasons == [f"no activity for {idle} days"]


@given(open_=st.integers(0, 5), segment=st.sampled_from(rules.SEGMENTS), priority=st.integers(1, 4))
def test_objectives_boundary(open_: int, segment: str, priority: int) -> None:
    facts = PlanFacts("active", True, True, max(open_, 1), open_, TODAY)
    color, _ = rules.plan_color(facts, segment=segment, priority=priority, settings=S, today=TODAY)
    needed = 3 if segment != "enterprise" and priority == 1 else 1
    assert (color == GREEN) == (open_ >= needed)


def test_commercial_p1_two_vs_three_objectives_reason() -> None:
    two = PlanFacts("active", True, True, 2, 2, TODAY)
    three = PlanFacts("active", True, True, 3, 3, TODAY)
    assert rules.plan_color(two, segment="mid_market", priority=1, settings=S, today=TODAY) == (
        YELLOW,
        ["2 open objectives; Commercial priority 1 needs 3"],
    )
    assert rules.plan_color(three, segment="mid_market", priority=1, settings=S, today=TODAY) == (GREEN, [])
    assert rules.plan_color(two, segment="enterprise", priority=1, settings=S, today=TODAY) == (GREEN, [])


def test_no_plan_and_no_objectives_are_red_with_reasons() -> None:
    assert rules.plan_color(PlanFacts(None), segment="smb", priority=1, settings=S, today=TODAY) == (
        RED,
        ["no success plan"],
    )
    color, reasons = rules.plan_color(
        PlanFacts("draft", False, True, 0, 0, TODAY), segment="enterprise", priority=2, settings=S, today=TODAY
    )
    assert color == RED
    assert reasons == ["the plan is a draft", "no strategy", "no objectives"]


def test_settings_move_the_thresholds() -> None:
    strict = SettingsValues(
        version=2,
        objectives_needed={seg: {p: 2 for p in rules.PRIORITIES} for seg in rules.SEGMENTS},
        activity_days=30,
    )
    facts = PlanFacts("active", True, True, 1, 1, TODAY - dt.timedelta(days=31))
    color, reasons = rules.plan_color(facts, segment="enterprise", priority=3, settings=strict, today=TODAY)
    assert color == YELLOW
    assert reasons == ["1 open objective; Enterprise priority 3 needs 2", "no activity for 31 days"]


@given(age=st.integers(-5, 400))
def test_new_customer_window(age: int) -> None:
    since = TODAY - dt.timedelta(days=age)
    assert rules.new_customer_window_passed(customer_since=since, today=TODAY, settings=S) == (60 < age <= 365)


def test_new_customer_window_without_date() -> None:
    assert not rules.new_customer_window_passed(customer_since=None, today=TODAY, settings=S)


def test_add_months_clamps_to_month_end() -> None:
    assert rules.add_months(dt.date(2027, 8, 31), -7) == dt.date(2027, 1, 31)
    assert rules.add_months(dt.date(2027, 9, 30), -7) == dt.date(2027, 2, 28)
    assert rules.add_months(dt.date(2027, 1, 15), -13) == dt.date(2025, 12, 15)


@given(offset=st.integers(-3, 3))
def test_ebr_task_window_boundaries(offset: int) -> None:
    renewal = dt.date(2027, 8, 15)
    opens, due = rules.ebr_window(renewal, S)
    assert opens == dt.date(2027, 1, 15)
    assert due == dt.date(2027, 3, 1)
    day = opens + dt.timedelta(days=offset)
    assert rules.ebr_task_due(renewal=renewal, priority=1, today=day, settings=S) == (offset >= 0)
    last = renewal + dt.timedelta(days=offset)
    assert rules.ebr_task_due(renewal=renewal, priority=1, today=last, settings=S) == (offset < 0)
    assert not rules.ebr_task_due(renewal=renewal, priority=2, today=opens, settings=S)


def test_objectives_matrix_check() -> None:
    assert rules.check_objectives_matrix(rules.DEFAULT_OBJECTIVES_NEEDED) == {}
    bad = {**rules.DEFAULT_OBJECTIVES_NEEDED, "enterprise": {"1": 0, "2": 1, "3": 1, "4": "x"}}
    errors = rules.check_objectives_matrix(bad)["objectives_needed"]
    assert "enterprise priority 1: a whole number from 1 to 3." in errors
    assert "enterprise priority 4: a whole number from 1 to 3." in errors
    assert rules.check_objectives_matrix([1]) != {}
