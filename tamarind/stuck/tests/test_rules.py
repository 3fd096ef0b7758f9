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


# --- poor survey -----------------------------------------------------------------------------------------------
SURVEY = rule(rules.POOR_SURVEY, days=90, nps_max=6, csat_max=2)


def answered(days_ago: int, kind: str, score: int) -> StuckFacts:
    return StuckFacts(survey_answers=((TODAY - dt.timedelta(days=days_ago), kind, score),))


@pytest.mark.parametrize(
    ("kind", "score", "fires"),
    [("nps", 0, True), ("nps", 6, True), ("nps", 7, False), ("nps", 10, False),
     ("csat", 1, True), ("csat", 2, True), ("csat", 3, False), ("csat", 5, False)],
)  # fmt: skip
def test_poor_survey_at_or_below_the_kind_limit(kind: str, score: int, fires: bool) -> None:
    assert (rules.poor_survey(answered(5, kind, score), SURVEY, TODAY) is not None) is fires


def test_poor_survey_day_90_fires_day_91_does_not() -> None:
    why = rules.poor_survey(answered(90, "nps", 6), SURVEY, TODAY)
    assert why == f"NPS 6 on 0-10 answered {(TODAY - dt.timedelta(days=90)).isoformat()}, within 90 days"
    assert rules.poor_survey(answered(91, "nps", 6), SURVEY, TODAY) is None


def test_poor_survey_names_the_worst_and_counts_and_params_move_it() -> None:
    facts = StuckFacts(
        survey_answers=(
            (TODAY - dt.timedelta(days=3), "csat", 2),
            (TODAY - dt.timedelta(days=20), "nps", 1),
            (TODAY - dt.timedelta(days=30), "nps", 9),
        )
    )
    why = rules.poor_survey(facts, SURVEY, TODAY)
    assert why is not None and why.startswith("NPS 1 on 0-10") and "(2 poor answers)" in why
    assert rules.poor_survey(facts, rule(rules.POOR_SURVEY, days=10), TODAY) is not None  # the CSAT 2, 3 days ago
    assert rules.poor_survey(facts, rule(rules.POOR_SURVEY, days=10, csat_max=1), TODAY) is None
    assert rules.poor_survey(StuckFacts(), SURVEY, TODAY) is None
    assert rules.clean_params(rules.POOR_SURVEY, {}) == {"days": 90, "nps_max": 6, "csat_max": 2}
    with pytest.raises(ValidationFailed):
        rules.clean_params(rules.POOR_SURVEY, {"days": 366})


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
