"""The early-warning indicators: each one at its boundary, thresholds as data, and ``evaluate``."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamarind.dashboards import indicators as ind
from tamarind.dashboards.indicators import Signals, Thresholds

TODAY = dt.date(2026, 6, 15)
T = Thresholds()


def ago(n):
    return TODAY - dt.timedelta(days=n)


def keys(s, t=T):
    return [f.key for f in ind.evaluate(s, t, today=TODAY)]


# --- utilization ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "active", "licenses", "fires"),
    [
        ("adoption", 74, 100, True),
        ("adoption", 75, 100, False),
        ("optimize_grow", 10, 100, True),
        ("onboarding", 10, 100, False),  # not after onboarding yet
        ("will_churn", 10, 100, False),
        ("adoption", None, 100, False),
        ("adoption", 10, 0, False),
        ("adoption", 10, None, False),
    ],
)
def test_low_utilization(stage, active, licenses, fires):
    why = ind.low_utilization(Signals(lifecycle_stage=stage, active_users=active, licenses=licenses), T, TODAY)
    assert (why is not None) is fires
    if fires:
        assert f"{active} active of {licenses}" in why and "below 75%" in why


def test_low_utilization_threshold_is_data():
    s = Signals(active_users=60, licenses=100)
    assert ind.low_utilization(s, T, TODAY) is not None
    assert ind.low_utilization(s, Thresholds(utilization_min_pct=Decimal(50)), TODAY) is None


# --- active users ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "prev", "drop", "fires"),
    [
        (9, 10, 0, True),
        (10, 10, 0, False),
        (11, 10, 0, False),
        (None, 10, 0, False),
        (5, None, 0, False),
        (5, 0, 0, False),
        (9, 10, 10, False),
        (8, 10, 10, True),
    ],
)
def test_active_users_falling(now, prev, drop, fires):
    t = Thresholds(active_drop_pct=Decimal(drop))
    why = ind.active_users_falling(Signals(active_users=now, active_users_prev=prev), t, TODAY)
    assert (why is not None) is fires
    if fires:
        assert f"{prev} -> {now}" in why


# --- first value ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("open_", "start_days", "first_value", "fires"),
    [
        (True, 31, None, True),
        (True, 30, None, False),
        (True, 90, ago(1), False),
        (False, 90, None, False),
        (True, None, None, False),
    ],
)
def test_no_first_value(open_, start_days, first_value, fires):
    s = Signals(
        onboarding_open=open_, contract_start=None if start_days is None else ago(start_days), first_value=first_value
    )
    why = ind.no_first_value(s, T, TODAY)
    assert (why is not None) is fires
    if fires:
        assert "31 days" in why and "target 30" in why


def test_no_first_value_target_is_data():
    s = Signals(onboarding_open=True, contract_start=ago(31))
    assert ind.no_first_value(s, Thresholds(first_value_days=45), TODAY) is None


# --- call cadence --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "days", "fires"),
    [(1, 30, False), (1, 31, True), (2, 60, False), (2, 61, True), (3, 400, False), (4, 400, False)],
)
def test_no_call(priority, days, fires):
    why = ind.no_call(Signals(priority=priority, last_engagement=ago(days)), T, TODAY)
    assert (why is not None) is fires
    if fires:
        assert f"{days} days" in why and f"priority {priority}" in why


def test_no_call_never_logged_counts_from_customer_since():
    assert ind.no_call(Signals(priority=1, customer_since=ago(30)), T, TODAY) is None
    assert "no call or meeting logged" in ind.no_call(Signals(priority=1, customer_since=ago(31)), T, TODAY)
    assert ind.no_call(Signals(priority=1), T, TODAY) is None


def test_no_call_cadence_is_data():
    s = Signals(priority=1, last_engagement=ago(40))
    assert ind.no_call(s, Thresholds(cadence_days={1: 45}), TODAY) is None
    assert ind.no_call(Signals(priority=3, last_engagement=ago(40)), Thresholds(cadence_days={3: 20}), TODAY)


# --- tickets --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tickets", "fires"), [(5, False), (6, True), (None, False), (0, False)])
def test_ticket_spike(tickets, fires):
    assert (ind.ticket_spike(Signals(tickets_last_30d=tickets), T, TODAY) is not None) is fires


def test_ticket_spike_threshold_is_data():
    assert ind.ticket_spike(Signals(tickets_last_30d=6), Thresholds(ticket_spike_above=10), TODAY) is None


@pytest.mark.parametrize(("urgent", "text"), [(0, None), (1, "1 open urgent ticket"), (3, "3 open urgent tickets")])
def test_open_urgent(urgent, text):
    assert ind.open_urgent(Signals(open_urgent_tickets=urgent), T, TODAY) == text


# --- renewal --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("renewal", "color", "fires"),
    [
        (dt.date(2026, 12, 15), "yellow", True),  # exactly six months
        (dt.date(2026, 12, 16), "yellow", False),
        (TODAY, "red", True),
        (ago(1), "red", False),  # already past
        (dt.date(2026, 8, 1), "green", False),
        (dt.date(2026, 8, 1), None, False),
        (None, "red", False),
    ],
)
def test_renewal_at_risk(renewal, color, fires):
    why = ind.renewal_at_risk(Signals(next_renewal_date=renewal, health_color=color), T, TODAY)
    assert (why is not None) is fires
    if fires:
        assert color in why and renewal.isoformat() in why


def test_renewal_window_is_data():
    s = Signals(next_renewal_date=dt.date(2026, 9, 1), health_color="red")
    assert ind.renewal_at_risk(s, Thresholds(renewal_months=2), TODAY) is None


def test_add_months_clamps():
    assert ind.add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert ind.add_months(dt.date(2026, 1, 15), 12) == dt.date(2027, 1, 15)


# --- triage ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("color", "days", "fires"),
    [
        ("red", 14, False),
        ("red", 15, True),
        ("yellow", 30, False),
        ("yellow", 31, True),
        ("", 31, True),
        (None, 100, False),
    ],
)
def test_stalled_triage(color, days, fires):
    s = Signals(triage_color=color, triage_last_update=ago(days))
    assert (ind.stalled_triage(s, T, TODAY) is not None) is fires


def test_stalled_triage_days_are_data():
    s = Signals(triage_color="red", triage_last_update=ago(15))
    assert ind.stalled_triage(s, Thresholds(triage_red_days=20), TODAY) is None


# --- evaluate and thresholds -------------------------------------------------------------------------------------


def test_evaluate_names_each_fired_indicator_in_order():
    s = Signals(
        priority=1,
        lifecycle_stage="adoption",
        licenses=100,
        active_users=40,
        active_users_prev=60,
        last_engagement=ago(50),
        tickets_last_30d=9,
        open_urgent_tickets=1,
        next_renewal_date=ago(-30),
        health_color="red",
        triage_color="red",
        triage_last_update=ago(20),
    )
    fired = ind.evaluate(s, T, today=TODAY)
    assert [f.key for f in fired] == [
        "low_utilization",
        "active_users_falling",
        "no_call",
        "ticket_spike",
        "open_urgent",
        "renewal_at_risk",
        "stalled_triage",
    ]
    assert all(f.label == ind.LABELS[f.key] and f.why for f in fired)


def test_a_healthy_account_fires_nothing():
    s = Signals(
        licenses=100,
        active_users=90,
        active_users_prev=80,
        last_engagement=ago(3),
        tickets_last_30d=1,
        health_color="green",
        next_renewal_date=ago(-60),
    )
    assert keys(s) == []


def test_thresholds_from_data_and_overrides():
    t = ind.thresholds_from(
        overrides={"utilization_min_pct": 60, "cadence_days": {"1": 21}},
        first_value_days=40,
        support_green=7,
        triage_red_days=10,
        triage_other_days=20,
    )
    assert t == Thresholds(
        utilization_min_pct=Decimal(60),
        first_value_days=40,
        cadence_days={1: 21},
        ticket_spike_above=7,
        triage_red_days=10,
        triage_other_days=20,
    )
    assert (
        ind.thresholds_from(
            overrides=None, first_value_days=30, support_green=5, triage_red_days=14, triage_other_days=30
        )
        == Thresholds()
    )


def test_renewal_window_follows_the_renewal_task_lead_unless_pinned():
    common = {"first_value_days": 30, "support_green": 5, "triage_red_days": 14, "triage_other_days": 30}
    assert ind.thresholds_from(overrides=None, renewal_months=4, **common).renewal_months == 4
    assert ind.thresholds_from(overrides={"renewal_months": 9}, renewal_months=4, **common).renewal_months == 9
    assert ind.thresholds_from(overrides=None, **common).renewal_months == 6


@given(
    active=st.none() | st.integers(0, 10_000),
    prev=st.none() | st.integers(0, 10_000),
    licenses=st.none() | st.integers(0, 10_000),
    tickets=st.none() | st.integers(0, 100),
    urgent=st.integers(0, 5),
    days=st.integers(-400, 400),
    color=st.sampled_from([None, "green", "yellow", "red"]),
)
def test_evaluate_is_deterministic_and_green_never_renewal_risk(active, prev, licenses, tickets, urgent, days, color):
    s = Signals(
        licenses=licenses,
        active_users=active,
        active_users_prev=prev,
        tickets_last_30d=tickets,
        open_urgent_tickets=urgent,
        last_engagement=ago(days),
        next_renewal_date=ago(days),
        health_color=color,
        triage_color=color,
        triage_last_update=ago(days),
    )
    first = ind.evaluate(s, T, today=TODAY)
    assert first == ind.evaluate(s, T, today=TODAY)
    if color in (None, "green"):
        assert "renewal_at_risk" not in [f.key for f in first]
    assert ("open_urgent" in [f.key for f in first]) is (urgent > 0)


@pytest.mark.parametrize(
    ("days", "kind", "score", "fires"),
    [(0, "nps", 6, True), (90, "nps", 0, True), (91, "nps", 0, False), (10, "nps", 7, False),
     (10, "csat", 2, True), (10, "csat", 3, False), (-1, "nps", 0, False)],
)  # fmt: skip
def test_poor_survey(days, kind, score, fires):
    s = Signals(survey_answers=((TODAY - dt.timedelta(days=days), kind, score),))
    assert (ind.poor_survey(s, T, TODAY) is not None) is fires


def test_poor_survey_limits_are_data():
    s = Signals(survey_answers=((TODAY - dt.timedelta(days=100), "nps", 7),))
    assert ind.poor_survey(s, T, TODAY) is None
    t = ind.thresholds_from(
        overrides={"survey_days": 120},
        first_value_days=30,
        support_green=5,
        triage_red_days=14,
        triage_other_days=30,
        survey_poor={"nps": 7, "csat": 3},
    )
    assert (
        ind.poor_survey(s, t, TODAY)
        == f"a detractor NPS (7) answered {(TODAY - dt.timedelta(days=100)).isoformat()}, within 120 days"
    )
