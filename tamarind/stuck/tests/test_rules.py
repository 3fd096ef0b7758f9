"""The stuck-customer rules at their boundaries (pure: no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from tamarind.core.errors import ValidationFailed
from tamarind.stuck import rules
from tamarind.stuck.rules import RuleSpec, StuckFacts

TODAY = dt.date(2026, 6, 15)


def rule(kind: str, **params: int) -> RuleSpec:
    return RuleSpec(key=kind, name=kind, kind=kind, params=params)


# --- low utilization -------------------------------------------------------------------------------------------
UTIL = rule(rules.LOW_UTILIZATION, months=3, min_pct=75)


def util(
    start: dt.date | None = dt.date(2026, 3, 15), licenses: int | None = 100, active: int | None = 74
) -> StuckFacts:
    return StuckFacts(contract_start=start, licenses=licenses, active_users=active)


def test_utilization_fires_below_75_from_the_day_3_months_in() -> None:
    why = rules.low_utilization(util(), UTIL, TODAY)
    assert why is not None and "74 active of 100 licenses (74%)" in why and "below 75%" in why


def test_utilization_exactly_75_does_not_fire() -> None:
    assert rules.low_utilization(util(active=75), UTIL, TODAY) is None


def test_utilization_one_day_short_of_3_months_does_not_fire() -> None:
    assert rules.low_utilization(util(start=dt.date(2026, 3, 16)), UTIL, TODAY) is None


def test_utilization_exact_fraction_no_rounding() -> None:
    # 2 of 3 is 66.7%: below 67; 3 of 4 is exactly 75%.
    assert rules.low_utilization(util(licenses=3, active=2), rule(rules.LOW_UTILIZATION, min_pct=67), TODAY)
    assert rules.low_utilization(util(licenses=4, active=3), UTIL, TODAY) is None


@pytest.mark.parametrize("facts", [util(start=None), util(licenses=None), util(licenses=0), util(active=None)])
def test_utilization_unknown_facts_do_not_fire(facts: StuckFacts) -> None:
    assert rules.low_utilization(facts, UTIL, TODAY) is None


def test_utilization_month_end_clamped() -> None:
    # Contract on Nov 30: three months in is Feb 28 (clamped).
    facts = util(start=dt.date(2025, 11, 30))
    assert rules.low_utilization(facts, UTIL, dt.date(2026, 2, 27)) is None
    assert rules.low_utilization(facts, UTIL, dt.date(2026, 2, 28)) is not None


# --- no first value --------------------------------------------------------------------------------------------
FV = rule(rules.NO_FIRST_VALUE, days=30)


def test_first_value_day_30_does_not_fire_day_31_does() -> None:
    assert rules.no_first_value(StuckFacts(contract_start=TODAY - dt.timedelta(days=30)), FV, TODAY) is None
    why = rules.no_first_value(StuckFacts(contract_start=TODAY - dt.timedelta(days=31)), FV, TODAY)
    assert why == "no first value 31 days after the contract start (by day 30)"


def test_first_value_recorded_or_no_start_does_not_fire() -> None:
    start = TODAY - dt.timedelta(days=90)
    assert rules.no_first_value(StuckFacts(contract_start=start, first_value=start), FV, TODAY) is None
    assert rules.no_first_value(StuckFacts(), FV, TODAY) is None


# --- poor onboarding -------------------------------------------------------------------------------------------
POOR = rule(rules.POOR_ONBOARDING, max_score=2)


@pytest.mark.parametrize(("score", "fires"), [(None, False), (1, True), (2, True), (3, False), (5, False)])
def test_poor_onboarding_at_or_below_max(score: int | None, fires: bool) -> None:
    assert (rules.poor_onboarding(StuckFacts(onboarding_score=score), POOR, TODAY) is not None) is fires


# --- no activity -----------------------------------------------------------------------------------------------
ACT = rule(rules.NO_ACTIVITY, days=30)


def test_activity_30_days_ago_does_not_fire_31_does() -> None:
    assert rules.no_activity(StuckFacts(last_activity=TODAY - dt.timedelta(days=30)), ACT, TODAY) is None
    why = rules.no_activity(StuckFacts(last_activity=TODAY - dt.timedelta(days=31)), ACT, TODAY)
    assert why is not None and why.startswith("31 days without")


def test_activity_never_counts_from_the_contract_start() -> None:
    assert rules.no_activity(StuckFacts(contract_start=TODAY - dt.timedelta(days=30)), ACT, TODAY) is None
    why = rules.no_activity(StuckFacts(contract_start=TODAY - dt.timedelta(days=31)), ACT, TODAY)
    assert why is not None and "since the contract start 31 days ago" in why
    assert rules.no_activity(StuckFacts(), ACT, TODAY) is None


# --- ticket spike ----------------------------------------------------------------------------------------------
SPIKE = rule(rules.TICKET_SPIKE, min_tickets=5, factor=2)


@pytest.mark.parametrize(
    ("last", "prev", "fires"),
    [(None, None, False), (4, 0, False), (5, 0, True), (5, 2, True), (5, 3, False), (6, 3, True), (10, 5, True)],
)
def test_ticket_spike_needs_min_and_factor(last: int | None, prev: int | None, fires: bool) -> None:
    facts = StuckFacts(tickets_30d=last, tickets_prev_30d=prev)
    assert (rules.ticket_spike(facts, SPIKE, TODAY) is not None) is fires


# --- params and evaluate ---------------------------------------------------------------------------------------


def test_clean_params_fills_defaults_and_refuses_bad_values() -> None:
    assert rules.clean_params(rules.TICKET_SPIKE, {}) == {"min_tickets": 5, "factor": 2}
    assert rules.clean_params(rules.NO_ACTIVITY, {"days": 14}) == {"days": 14}
    for bad in ({"days": 0}, {"days": "30"}, {"days": True}, {"days": 731}, {"other": 1}, [1]):
        with pytest.raises(ValidationFailed):
            rules.clean_params(rules.NO_ACTIVITY, bad)
    with pytest.raises(ValidationFailed):
        rules.clean_params("nope", {})


def test_missing_param_takes_the_default() -> None:
    assert rules.no_first_value(
        StuckFacts(contract_start=TODAY - dt.timedelta(days=31)), rule(rules.NO_FIRST_VALUE), TODAY
    )


def test_evaluate_lists_fired_rules_in_order_with_why() -> None:
    facts = StuckFacts(contract_start=TODAY - dt.timedelta(days=40), onboarding_score=1)
    fired = rules.evaluate(facts, [FV, POOR, SPIKE], today=TODAY)
    assert [f["kind"] for f in fired] == [rules.NO_FIRST_VALUE, rules.POOR_ONBOARDING]
    assert all(f["why"] for f in fired)
