"""The pure scorer: each measure at its boundaries under the default model (domain section 6), the weighted
average and its redistribution, the red-sentiment override, staleness, the drag, and properties over generated
inputs and models (Hypothesis). No database anywhere in this module."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tamarind.health.scoring import (
    HUNDRED,
    TWO_PLACES,
    HealthInputs,
    HealthResult,
    MeasureResult,
    Scorer,
    _measure,
    is_stale,
    measure_text,
    months_between,
    rescore_on,
    score,
    utilization_color,
)
from tamarind.health.spec import COLORS, DEFAULT_DEFINITION, MEASURES, HealthSpec, parse_spec

DEFAULT = parse_spec(DEFAULT_DEFINITION)
TODAY = dt.date(2026, 11, 23)


def only(**kw: Any) -> HealthInputs:
    return HealthInputs(**kw)


def usage(active: int, licenses: int = 100, months: int | None = 12, **kw: Any) -> HealthInputs:
    start = None
    if months is not None:
        y, m = divmod(TODAY.month - 1 - months, 12)
        start = dt.date(TODAY.year + y, m + 1, min(TODAY.day, 28))
    return HealthInputs(licenses=licenses, active_users=active, contract_start=start, **kw)


# --- months and the utilization table --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months"),
    [
        (dt.date(2026, 11, 23), 0),
        (dt.date(2026, 10, 24), 0),
        (dt.date(2026, 10, 23), 1),
        (dt.date(2026, 9, 23), 2),
        (dt.date(2025, 11, 23), 12),
        (dt.date(2027, 1, 1), 0),  # a start in the future counts as month 0
    ],
)
def test_months_between(start: dt.date, months: int) -> None:
    assert months_between(start, TODAY) == months


@pytest.mark.parametrize(
    ("pct", "months", "color"),
    [
        # under 10%: red from month 2
        ("9.99", 0, "yellow"),
        ("9.99", 1, "yellow"),
        ("9.99", 2, "red"),
        ("0", 12, "red"),
        # 10-50%: yellow at 2-6 months, red later
        ("10", 1, "green"),
        ("10", 2, "yellow"),
        ("50", 5, "yellow"),
        ("50", 6, "red"),
        # 51-75%: green until 6 months, yellow 6-9, red later
        ("50.01", 5, "green"),
        ("75", 6, "yellow"),
        ("75", 8, "yellow"),
        ("75", 9, "red"),
        # above 75%: green
        ("75.01", 9, "green"),
        ("100", 120, "green"),
        ("140", 3, "green"),
        # contract start unknown: judged as a mature account
        ("60", None, "red"),
        ("80", None, "green"),
    ],
)
def test_utilization_bands_by_contract_age(pct: str, months: int | None, color: str) -> None:
    assert utilization_color(DEFAULT, Decimal(pct), months) == color


# --- each measure alone ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sentiment", "expected"), [("green", 100), ("yellow", 62), ("red", 25)])
def test_sentiment_alone(sentiment: str, expected: int) -> None:
    result = score(DEFAULT, only(sentiment=sentiment, sentiment_at=TODAY), today=TODAY)
    assert result.score == expected
    assert result.color == sentiment
    assert result.measure("sentiment").effective_weight == Decimal(100)


@pytest.mark.parametrize(
    ("priority", "days", "color"),
    [
        (1, 0, "green"),
        (1, 35, "green"),
        (1, 36, "yellow"),
        (1, 60, "yellow"),
        (1, 61, "red"),
        (2, 65, "green"),
        (2, 66, "yellow"),
        (2, 90, "yellow"),
        (2, 91, "red"),
    ],
)
def test_engagement_bands_by_priority(priority: int, days: int, color: str) -> None:
    result = score(DEFAULT, only(priority=priority, last_engagement=TODAY - dt.timedelta(days=days)), today=TODAY)
    m = result.measure("engagement")
    assert m.band == color
    assert m.text(TODAY) == f"{days} days since the last call or meeting"
    assert m.facts == (("last_engagement", TODAY - dt.timedelta(days=days)),)  # a date, not a day count
    assert m.updated_at == TODAY - dt.timedelta(days=days)


@pytest.mark.parametrize("priority", [3, 4])
def test_engagement_is_not_rated_without_bands_for_the_priority(priority: int) -> None:
    result = score(DEFAULT, only(priority=priority, last_engagement=TODAY), today=TODAY)
    assert result.measure("engagement").score is None
    assert result.score is None


def test_no_call_ever_is_a_missing_engagement() -> None:
    assert score(DEFAULT, only(priority=1), today=TODAY).measure("engagement").score is None


@pytest.mark.parametrize(
    ("tickets", "urgent", "color"),
    [(0, 0, "green"), (5, 0, "green"), (6, 0, "yellow"), (15, 0, "yellow"), (16, 0, "red"), (0, 1, "red")],
)
def test_support_bands(tickets: int, urgent: int, color: str) -> None:
    inputs = only(tickets_last_30d=tickets, open_urgent_tickets=urgent, tickets_updated_at=TODAY)
    assert score(DEFAULT, inputs, today=TODAY).measure("support").band == color


def test_urgent_is_red_is_data() -> None:
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["measures"]["support"]["urgent_is_red"] = False
    spec = parse_spec(definition)
    inputs = only(tickets_last_30d=0, open_urgent_tickets=1)
    assert score(spec, inputs, today=TODAY).measure("support").band == "green"


def test_product_usage_is_40_utilization_60_adoption() -> None:
    # utilization red (25 x 40%) + adoption green (100 x 60%) = 70
    inputs = usage(5, months=12, use_cases_adopted=3, use_cases_total=4)
    m = score(DEFAULT, inputs, today=TODAY).measure("product_usage")
    assert m.score == 70
    assert m.band == "yellow"
    assert m.text(TODAY) == "5% utilization (5/100, month 12); 3/4 use cases adopted"


def test_product_usage_with_one_part_missing_uses_the_other() -> None:
    assert score(DEFAULT, usage(80), today=TODAY).measure("product_usage").score == 100
    adoption_only = only(use_cases_adopted=1, use_cases_total=4)  # 25%: yellow
    assert score(DEFAULT, adoption_only, today=TODAY).measure("product_usage").score == 62
    no_licenses = only(licenses=0, active_users=10)
    assert score(DEFAULT, no_licenses, today=TODAY).measure("product_usage").score is None


def test_success_plan_is_absent_today_and_counts_when_present() -> None:
    result = score(DEFAULT, only(sentiment="green"), today=TODAY)
    assert result.measure("success_plan").score is None
    with_plan = score(DEFAULT, only(sentiment="green", success_plan="red"), today=TODAY)
    # 50/60 x 100 + 10/60 x 25 = 87.5 -> 88
    assert with_plan.score == 88


# --- the weighted average and redistribution ----------------------------------------------------------------------


def test_weighted_average_of_everything_present() -> None:
    inputs = HealthInputs(
        priority=1,
        sentiment="yellow",
        sentiment_at=TODAY,
        **{k: v for k, v in usage(80).__dict__.items() if k in ("licenses", "active_users", "contract_start")},
        last_engagement=TODAY - dt.timedelta(days=70),
        tickets_last_30d=2,
        success_plan="green",
    )
    result = score(DEFAULT, inputs, today=TODAY)
    # 50 x 62 + 25 x 100 + 10 x 100 + 10 x 25 + 5 x 100 = 7350 / 100 = 73.5 -> 74 (half up)
    assert result.score == 74
    assert result.color == "yellow"
    assert sum(m.effective_weight for m in result.measures) == Decimal(100)
    assert sum(m.contribution for m in result.measures) == Decimal("73.50")


def test_missing_measures_pass_their_weight_on_proportionally() -> None:
    result = score(DEFAULT, only(sentiment="green", tickets_last_30d=20), today=TODAY)
    # sentiment 50 and support 5 present: 50/55 and 5/55 of the score
    assert result.measure("sentiment").effective_weight == Decimal("90.91")
    assert result.measure("support").effective_weight == Decimal("9.09")
    assert result.measure("product_usage").effective_weight == 0
    assert result.measure("product_usage").contribution == 0
    assert result.score == 93  # (50 x 100 + 5 x 25) / 55 = 93.18


def test_nothing_present_has_no_score() -> None:
    result = score(DEFAULT, HealthInputs(), today=TODAY)
    assert (result.score, result.color, result.drag, result.red_override) == (None, None, None, False)


# --- the red-sentiment override, staleness and the drag -----------------------------------------------------------


def test_red_sentiment_makes_the_whole_score_red() -> None:
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["measures"]["sentiment"]["weight"] = 1
    spec = parse_spec(definition)
    inputs = replace(usage(90), sentiment="red", sentiment_at=TODAY)
    result = score(spec, inputs, today=TODAY)
    assert result.score is not None and result.score >= 75  # the numbers alone say green
    assert result.color == "red"
    assert result.red_override is True


def test_the_override_is_data() -> None:
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["red_sentiment_override"] = False
    definition["measures"]["sentiment"]["weight"] = 1
    result = score(parse_spec(definition), replace(usage(90), sentiment="red"), today=TODAY)
    assert result.color == "green"
    assert result.red_override is False


@pytest.mark.parametrize(("age", "stale"), [(0, False), (89, False), (90, False), (91, True), (400, True)])
def test_staleness_at_its_boundary(age: int, stale: bool) -> None:
    inputs = only(sentiment="green", sentiment_at=TODAY - dt.timedelta(days=age))
    assert score(DEFAULT, inputs, today=TODAY).stale is stale


def test_no_sentiment_is_not_stale() -> None:
    assert score(DEFAULT, usage(80), today=TODAY).stale is False


def test_the_drag_is_the_measure_costing_most_points() -> None:
    inputs = replace(usage(5), sentiment="yellow", sentiment_at=TODAY, tickets_last_30d=0)
    result = score(DEFAULT, inputs, today=TODAY)
    # sentiment loses 50/80 x 38 = 23.75 points; usage 25/80 x 75 = 23.4; support none
    assert result.drag == "sentiment"
    result = score(DEFAULT, replace(inputs, sentiment="green"), today=TODAY)
    assert result.drag == "product_usage"
    assert score(DEFAULT, replace(usage(90), sentiment="green"), today=TODAY).drag is None


def test_breakdown_is_json() -> None:
    result = score(DEFAULT, replace(usage(50), sentiment="green", sentiment_at=TODAY), today=TODAY)
    breakdown = result.breakdown()
    assert [m["key"] for m in breakdown["measures"]] == list(MEASURES)
    assert breakdown["measures"][0]["updated_at"] == TODAY.isoformat()
    assert breakdown["drag"] == "product_usage"


# --- properties ----------------------------------------------------------------------------------------------------

colors = st.sampled_from(COLORS)
maybe = st.none
dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=TODAY)
inputs_strategy = st.builds(
    HealthInputs,
    priority=st.integers(1, 4),
    contract_start=maybe() | dates,
    sentiment=maybe() | colors,
    sentiment_at=maybe() | dates,
    licenses=maybe() | st.integers(0, 10_000),
    active_users=maybe() | st.integers(0, 12_000),
    use_cases_adopted=maybe() | st.integers(0, 12),
    use_cases_total=maybe() | st.integers(0, 10),
    usage_updated_at=maybe() | dates,
    last_engagement=maybe() | dates,
    tickets_last_30d=maybe() | st.integers(0, 40),
    open_urgent_tickets=st.integers(0, 3),
    tickets_updated_at=maybe() | dates,
    success_plan=maybe() | colors,
)


@st.composite
def specs(draw: st.DrawFn) -> HealthSpec:
    """Valid models: the default with generated weights, bands, band scores, staleness and override."""
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    for key in MEASURES:
        definition["measures"][key]["weight"] = draw(st.integers(0, 100))
    assume(any(definition["measures"][k]["weight"] for k in MEASURES))
    yellow = draw(st.integers(2, 90))
    green = draw(st.integers(yellow + 1, 100))
    definition["bands"] = {"green": green, "yellow": yellow}
    definition["band_scores"] = {
        "green": draw(st.integers(green, 100)),
        "yellow": draw(st.integers(yellow, green - 1)),
        "red": draw(st.integers(0, yellow - 1)),
    }
    definition["red_sentiment_override"] = draw(st.booleans())
    definition["staleness_days"] = draw(st.integers(1, 400))
    return parse_spec(definition)


@settings(max_examples=300, deadline=None)
@given(spec=specs(), inputs=inputs_strategy)
def test_score_is_within_0_100_and_its_color_agrees_with_the_bands(spec: HealthSpec, inputs: HealthInputs) -> None:
    result = score(spec, inputs, today=TODAY)
    if result.score is None:
        assert all(m.score is None or spec.weights[m.key] == 0 for m in result.measures)
        return
    assert 0 <= result.score <= 100
    if result.red_override:
        assert result.color == "red" and inputs.sentiment == "red"
    else:
        assert result.color == spec.color_of(result.score)
    for m in result.measures:
        if m.score is not None:
            assert 0 <= m.score <= 100
            assert m.band == spec.color_of(m.score)


@settings(max_examples=200, deadline=None)
@given(spec=specs(), inputs=inputs_strategy)
def test_score_is_deterministic(spec: HealthSpec, inputs: HealthInputs) -> None:
    assert score(spec, inputs, today=TODAY) == score(spec, replace(inputs), today=TODAY)


@settings(max_examples=300, deadline=None)
@given(
    spec=specs(),
    inputs=inputs_strategy,
    licenses=st.integers(1, 5_000),
    low=st.integers(0, 6_000),
    more=st.integers(0, 6_000),
)
def test_score_is_monotone_in_utilization(
    spec: HealthSpec, inputs: HealthInputs, licenses: int, low: int, more: int
) -> None:
    lower = score(spec, replace(inputs, licenses=licenses, active_users=low), today=TODAY)
    higher = score(spec, replace(inputs, licenses=licenses, active_users=low + more), today=TODAY)
    assert (lower.score is not None and higher.score is not None) or spec.weights["product_usage"] == 0
    assert (higher.score or 0) >= (lower.score or 0)
    lo_usage = lower.measure("product_usage").score
    hi_usage = higher.measure("product_usage").score
    assert lo_usage is not None and hi_usage is not None and hi_usage >= lo_usage


@settings(max_examples=200, deadline=None)
@given(spec=specs(), inputs=inputs_strategy)
def test_red_sentiment_overrides_whatever_else(spec: HealthSpec, inputs: HealthInputs) -> None:
    assume(spec.red_sentiment_override and spec.weights["sentiment"] > 0)
    result = score(spec, replace(inputs, sentiment="red"), today=TODAY)
    assert result.color == "red"
    assert result.red_override is True


@settings(max_examples=300, deadline=None)
@given(spec=specs(), inputs=inputs_strategy)
def test_weights_redistribute_proportionally(spec: HealthSpec, inputs: HealthInputs) -> None:
    result = score(spec, inputs, today=TODAY)
    present = [m for m in result.measures if m.score is not None]
    total = sum((spec.weights[m.key] for m in present), Decimal(0))
    if total == 0:
        assert result.score is None
        return
    # effective weights add up to 100 (up to rounding) and keep the model's proportions
    assert abs(sum(m.effective_weight for m in present) - 100) <= Decimal("0.01") * len(present)
    for m in present:
        assert abs(m.effective_weight - spec.weights[m.key] * 100 / total) <= Decimal("0.005")
    for m in result.measures:
        if m.score is None:
            assert m.effective_weight == 0 and m.contribution == 0
    # the score is the sum of the contributions, rounded
    assert abs(sum(m.contribution for m in present) - (result.score or 0)) <= Decimal("0.5") + Decimal("0.005") * len(
        present
    )


@settings(max_examples=200, deadline=None)
@given(spec=specs(), age=st.integers(0, 800))
def test_staleness_is_exactly_older_than_the_setting(spec: HealthSpec, age: int) -> None:
    inputs = HealthInputs(sentiment="green", sentiment_at=TODAY - dt.timedelta(days=age))
    assert score(spec, inputs, today=TODAY).stale is (age > spec.staleness_days)


@settings(max_examples=200, deadline=None)
@given(spec=specs(), inputs=inputs_strategy)
def test_the_drag_costs_the_most_points(spec: HealthSpec, inputs: HealthInputs) -> None:
    result = score(spec, inputs, today=TODAY)
    if result.drag is None:
        assert all(m.score in (None, 100) or m.effective_weight == 0 for m in result.measures)
        return
    drag = result.measure(result.drag)
    assert drag.score is not None
    for m in result.measures:
        if m.score is not None:
            assert m.effective_weight * (100 - m.score) <= drag.effective_weight * (100 - drag.score)


def reference_score(spec: HealthSpec, inputs: HealthInputs, today: dt.date) -> HealthResult:
    """The scorer's rules written the plain way, measure by measure, with no caching: the oracle ``Scorer`` (which
    works out each distinct set of measure scores once) must agree with."""
    raw = [(key, *_measure(spec, key, inputs, today)) for key in MEASURES]
    present = sum((spec.weights[k] for k, s, _, _ in raw if s is not None), Decimal(0))
    measures, total = [], Decimal(0)
    for key, s, facts, updated in raw:
        effective = contribution = Decimal(0)
        if s is not None and present:
            effective = spec.weights[key] * HUNDRED / present
            contribution = effective * s / HUNDRED
            total += contribution
        measures.append(
            MeasureResult(
                key,
                facts,
                s,
                None if s is None else spec.color_of(s),
                spec.weights[key],
                effective.quantize(TWO_PLACES, ROUND_HALF_UP),
                contribution.quantize(TWO_PLACES, ROUND_HALF_UP),
                updated,
            )
        )
    stale = is_stale(spec, inputs.sentiment_at if inputs.sentiment is not None else None, today=today)
    if not present:
        return HealthResult(None, None, tuple(measures), False, None, stale)
    overall = min(max(int(total.quantize(Decimal(1), ROUND_HALF_UP)), 0), 100)
    override = spec.red_sentiment_override and inputs.sentiment == "red"
    lost = [
        (m.effective_weight * (HUNDRED - m.score), -i, m.key) for i, m in enumerate(measures) if m.score is not None
    ]
    worst = max(lost)
    drag = worst[2] if worst[0] > 0 else None
    return HealthResult(overall, "red" if override else spec.color_of(overall), tuple(measures), override, drag, stale)


@settings(max_examples=200, deadline=None)
@given(spec=specs(), batch=st.lists(inputs_strategy, min_size=1, max_size=30))
def test_one_scorer_over_many_accounts_agrees_with_the_plain_rules(spec: HealthSpec, batch: list[HealthInputs]) -> None:
    scorer = Scorer(spec)  # shared across the batch, as a full recompute shares it across the book
    for inputs in batch + batch:
        result = scorer.score(inputs, today=TODAY)
        assert result == reference_score(spec, inputs, TODAY)
        assert scorer.breakdown_json(result) == result.breakdown_json()


@settings(max_examples=200, deadline=None)
@given(spec=specs(), inputs=inputs_strategy)
def test_the_breakdown_text_is_the_breakdown(spec: HealthSpec, inputs: HealthInputs) -> None:
    import json

    result = score(spec, inputs, today=TODAY)
    assert json.loads(result.breakdown_json()) == result.breakdown()


def test_the_scorer_caches_are_bounded() -> None:
    scorer = Scorer(DEFAULT)
    scorer.CACHE_LIMIT = 10
    for active in range(100):
        result = scorer.score(usage(active), today=TODAY)
        assert scorer.breakdown_json(result) == result.breakdown_json()
        assert result == reference_score(DEFAULT, usage(active), TODAY)
    assert len(scorer._measures) <= 10 + 5 and len(scorer._texts) <= 10 + 5


# --- day-dependent text out of the score, and when the day alone may move it ----------------------------------------


def test_each_measure_is_shown_from_its_facts_on_the_day_it_is_read() -> None:
    inputs = HealthInputs(
        priority=1,
        contract_start=dt.date(2026, 1, 23),
        sentiment="yellow",
        sentiment_at=TODAY,
        licenses=50,
        active_users=31,
        use_cases_adopted=3,
        use_cases_total=5,
        last_engagement=TODAY - dt.timedelta(days=40),
        tickets_last_30d=7,
        open_urgent_tickets=2,
        tickets_updated_at=TODAY,
    )
    result = score(DEFAULT, inputs, today=TODAY)
    later = TODAY + dt.timedelta(days=3)
    shown = {m.key: (m.text(TODAY), m.text(later)) for m in result.measures}
    assert shown["sentiment"] == ("Yellow", "Yellow")
    assert shown["product_usage"] == (
        "62% utilization (31/50, month 10); 3/5 use cases adopted",
        "62% utilization (31/50, month 10); 3/5 use cases adopted",
    )
    assert shown["engagement"] == (
        "40 days since the last call or meeting",
        "43 days since the last call or meeting",
    )
    assert shown["support"][0] == "7 tickets in the last 30 days, 2 open urgent"
    assert shown["success_plan"][0] == "no success plan"
    # The stored breakdown says the same once read back (dates as ISO text).
    import json

    stored = {m["key"]: m for m in json.loads(result.breakdown_json())["measures"]}
    for m in result.measures:
        assert measure_text(m.key, stored[m.key]["facts"], today=later) == m.text(later)
    assert "days" not in result.breakdown_json()


@pytest.mark.parametrize(
    ("inputs", "text"),
    [
        (HealthInputs(priority=3, last_engagement=TODAY), "not rated for priority 3"),
        (HealthInputs(priority=1), "no call or meeting logged"),
        (HealthInputs(), "no health review yet"),
    ],
)
def test_missing_measures_say_why(inputs: HealthInputs, text: str) -> None:
    result = score(DEFAULT, inputs, today=TODAY)
    assert text in [m.text(TODAY) for m in result.measures]


def test_usage_text_with_an_unknown_contract_start_and_no_usage() -> None:
    m = score(DEFAULT, usage(40, months=None), today=TODAY).measure("product_usage")
    assert m.text(TODAY) == "40% utilization (40/100, contract start unknown)"
    assert score(DEFAULT, HealthInputs(), today=TODAY).measure("product_usage").text(TODAY) == "no usage data"


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        # priority 1 engagement: green up to 35 days, yellow up to 60: the next edge after day 20 is day 36
        (HealthInputs(priority=1, last_engagement=TODAY - dt.timedelta(days=20)), TODAY + dt.timedelta(days=16)),
        (HealthInputs(priority=1, last_engagement=TODAY - dt.timedelta(days=40)), TODAY + dt.timedelta(days=21)),
        (HealthInputs(priority=1, last_engagement=TODAY - dt.timedelta(days=61)), None),
        (HealthInputs(priority=3, last_engagement=TODAY), None),  # not rated: the day never moves it
        # a sentiment turns stale the day after it is 90 days old
        (HealthInputs(sentiment="green", sentiment_at=TODAY - dt.timedelta(days=10)), TODAY + dt.timedelta(days=81)),
        # the utilization table's columns start at months 2, 6 and 9: a contract started on 31 October reaches month
        # 2 on 31 December; one started on 31 August reaches month 6 on 1 March (28 February is still month 5)
        (HealthInputs(licenses=10, active_users=5, contract_start=dt.date(2026, 10, 31)), dt.date(2026, 12, 31)),
        (HealthInputs(licenses=10, active_users=5, contract_start=dt.date(2026, 8, 31)), dt.date(2027, 3, 1)),
        (HealthInputs(licenses=10, active_users=5, contract_start=dt.date(2025, 8, 31)), None),  # past the last break
        (HealthInputs(), None),
    ],
)
def test_rescore_on_names_the_next_day_the_day_alone_may_move_the_score(
    inputs: HealthInputs, expected: dt.date | None
) -> None:
    assert rescore_on(DEFAULT, inputs, today=TODAY) == expected


@settings(max_examples=300, deadline=None)
@given(spec=specs(), inputs=inputs_strategy, offsets=st.lists(st.integers(1, 900), min_size=1, max_size=8))
def test_until_rescore_on_the_score_is_todays(spec: HealthSpec, inputs: HealthInputs, offsets: list[int]) -> None:
    """What the recompute relies on to skip an account whose inputs did not move: every day before ``rescore_on``
    scores exactly as today (nothing day-dependent is kept in a result), and ``rescore_on`` is after today."""
    today_result = score(spec, inputs, today=TODAY)
    until = rescore_on(spec, inputs, today=TODAY)
    assert until is None or until > TODAY
    for offset in offsets:
        day = TODAY + dt.timedelta(days=offset)
        if until is not None and day >= until:
            continue
        assert score(spec, inputs, today=day) == today_result
    if until is not None:
        assert score(spec, inputs, today=until - dt.timedelta(days=1)) == today_result
