"""The pure evaluator: every operator and field, the default rules at their boundaries, and properties over
generated accounts and rule sets (Hypothesis). No database anywhere in this module."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamarind.assignment.models import DEFAULT_DEFINITION
from tamarind.assignment.rules import (
    FIELDS,
    MATCHES,
    NUMBER_OPS,
    SET_OPS,
    AccountFacts,
    Condition,
    RuleError,
    RuleSpec,
    compile_rules,
    condition_holds,
    describe,
    evaluate,
    parse_rules,
)

DEFAULT = parse_rules(DEFAULT_DEFINITION)


def facts(**overrides: Any) -> AccountFacts:
    base: dict[str, Any] = {
        "arr": Decimal("120000"),
        "segment": "enterprise",
        "tier": 2,
        "region": 1,
        "priority": 1,
        "licenses": 100,
        "engagement_model": "",
        "lifecycle_stage": "onboarding",
        "has_parent": False,
    }
    base.update(overrides)
    return AccountFacts(**base)


# --- the default rules (domain section 3) at their boundaries ------------------------------------------------


@pytest.mark.parametrize(
    ("arr", "expected"),
    [
        ("50000", False),  # exactly 50,000 does not qualify
        ("50000.00", False),
        ("50000.01", True),
        ("49999.99", False),
        ("0", False),
        ("1000000000", True),
    ],
)
def test_default_rules_arr_is_strictly_above_50000(arr: str, expected: bool) -> None:
    assert evaluate(DEFAULT, facts(arr=Decimal(arr))).qualifies is expected
    assert compile_rules(DEFAULT)(facts(arr=Decimal(arr))) is expected


@pytest.mark.parametrize(
    ("segment", "expected"), [("enterprise", True), ("mid_market", True), ("smb", False), ("public_sector", False)]
)
def test_default_rules_segment(segment: str, expected: bool) -> None:
    assert evaluate(DEFAULT, facts(segment=segment)).qualifies is expected


@pytest.mark.parametrize(("rung", "expected"), [(0, False), (1, False), (2, True), (3, True), (None, False)])
def test_default_rules_tier_at_or_above_premium_silver(rung: int | None, expected: bool) -> None:
    # Premium and Silver share rung 2, so both names qualify the same way; an account with no tier cannot qualify.
    assert evaluate(DEFAULT, facts(tier=rung)).qualifies is expected


def test_the_verdict_explains_each_condition() -> None:
    verdict = evaluate(DEFAULT, facts(arr=Decimal("50000"), segment="smb"))
    assert verdict.qualifies is False
    assert [r.holds for r in verdict.results] == [False, False, True]
    assert [r.fact for r in verdict.results] == [Decimal("50000"), "smb", 2]


# --- each operator ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "fact", "expected"),
    [
        ("gt", 10, 11, True),
        ("gt", 10, 10, False),
        ("gte", 10, 10, True),
        ("gte", 10, 9, False),
        ("lt", 10, 9, True),
        ("lt", 10, 10, False),
        ("lte", 10, 10, True),
        ("lte", 10, 11, False),
        ("eq", 10, 10, True),
        ("eq", 10, 11, False),
        ("ne", 10, 11, True),
        ("ne", 10, 10, False),
    ],
)
def test_order_operators(op: str, value: int, fact: int, expected: bool) -> None:
    condition = Condition("licenses", op, value)
    assert condition_holds(condition, facts(licenses=fact)) is expected
    assert compile_rules(RuleSpec("all", (condition,)))(facts(licenses=fact)) is expected


def test_set_operators() -> None:
    inside = Condition("segment", "in", frozenset({"smb", "mid_market"}))
    outside = Condition("segment", "not_in", frozenset({"smb", "mid_market"}))
    assert condition_holds(inside, facts(segment="smb"))
    assert not condition_holds(inside, facts(segment="enterprise"))
    assert condition_holds(outside, facts(segment="enterprise"))
    assert not condition_holds(outside, facts(segment="smb"))


def test_bool_operator() -> None:
    child = Condition("has_parent", "is", True)
    assert condition_holds(child, facts(has_parent=True))
    assert not condition_holds(child, facts(has_parent=False))


@pytest.mark.parametrize("op", [*NUMBER_OPS])
def test_a_missing_fact_satisfies_no_order_condition(op: str) -> None:
    assert not condition_holds(Condition("tier", op, 2), facts(tier=None))


@pytest.mark.parametrize("op", SET_OPS)
def test_a_missing_fact_satisfies_no_set_condition(op: str) -> None:
    assert not condition_holds(Condition("region", op, frozenset({1})), facts(region=None))


def test_match_all_and_any_and_the_empty_sets() -> None:
    yes = Condition("licenses", "gt", 0)
    no = Condition("licenses", "lt", 0)
    assert evaluate(RuleSpec("all", (yes, no)), facts()).qualifies is False
    assert evaluate(RuleSpec("any", (yes, no)), facts()).qualifies is True
    assert evaluate(RuleSpec("all", ()), facts()).qualifies is True
    assert evaluate(RuleSpec("any", ()), facts()).qualifies is False


# --- parsing and validation ---------------------------------------------------------------------------------


def test_parse_types_values() -> None:
    spec = parse_rules(DEFAULT_DEFINITION)
    assert spec.conditions[0].value == Decimal("50000")
    assert spec.conditions[1].value == frozenset({"enterprise", "mid_market"})
    assert spec.conditions[2].value == 2


def test_round_trip_through_json() -> None:
    assert parse_rules(DEFAULT.to_json()) == DEFAULT


@pytest.mark.parametrize(
    ("definition", "where", "message"),
    [
        ([], "__all__", "is an object"),
        ({"match": "most"}, "match", "'all' or 'any'"),
        ({"conditions": {}}, "conditions", "are a list"),
        ({"conditions": [{"field": "arr"}]}, "conditions.0", "exactly"),
        ({"conditions": [{"field": "colour", "op": "eq", "value": 1}]}, "conditions.0.field", "Unknown field"),
        ({"conditions": [{"field": "segment", "op": "gt", "value": 1}]}, "conditions.0.op", "takes in, not_in"),
        ({"conditions": [{"field": "arr", "op": "gt", "value": "lots"}]}, "conditions.0.value", "got 'lots'"),
        ({"conditions": [{"field": "arr", "op": "gt", "value": "NaN"}]}, "conditions.0.value", "decimal"),
        ({"conditions": [{"field": "arr", "op": "gt", "value": "-5"}]}, "conditions.0.value", "never negative"),
        ({"conditions": [{"field": "arr", "op": "gt", "value": True}]}, "conditions.0.value", "decimal"),
        ({"conditions": [{"field": "tier", "op": "gte", "value": -1}]}, "conditions.0.value", "0 or more"),
        ({"conditions": [{"field": "tier", "op": "gte", "value": 2.5}]}, "conditions.0.value", "rung"),
        ({"conditions": [{"field": "segment", "op": "in", "value": []}]}, "conditions.0.value", "non-empty list"),
        ({"conditions": [{"field": "segment", "op": "in", "value": "smb"}]}, "conditions.0.value", "non-empty list"),
        ({"conditions": [{"field": "has_parent", "op": "is", "value": "maybe"}]}, "conditions.0.value", "bool"),
        ({"match": "all", "extra": 1}, "__all__", "Unknown key"),
    ],
)
def test_parse_rejects_with_the_place_and_reason(definition: Any, where: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rules(definition)
    assert where in caught.value.errors
    assert message in " ".join(caught.value.errors[where])


def test_parse_checks_codes_against_the_vocabulary_when_given() -> None:
    definition = {
        "conditions": [
            {"field": "segment", "op": "in", "value": ["enterprise", "giant"]},
            {"field": "region", "op": "in", "value": [1, 99]},
        ]
    }
    with pytest.raises(RuleError) as caught:
        parse_rules(definition, choices={"segment": ["enterprise"]}, regions=[1])
    assert caught.value.errors == {
        "conditions.0.value": ["Unknown segment value(s): giant."],
        "conditions.1.value": ["Unknown region value(s): 99."],
    }


def test_describe_in_words() -> None:
    names = {"segment": {"enterprise": "Enterprise", "mid_market": "Mid-Market"}, "tier": {2: "Premium/Silver"}}
    assert [describe(c, names=names) for c in DEFAULT.conditions] == [
        "ARR is greater than 50000",
        "Segment is one of Enterprise, Mid-Market",
        "Product tier is at least Premium/Silver",
    ]


# --- properties over generated accounts and rule sets ------------------------------------------------------------

SEGMENTS = ["smb", "mid_market", "enterprise"]
STAGES = ["onboarding", "adoption", "optimize_grow", "will_churn"]

account_facts = st.builds(
    AccountFacts,
    arr=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    segment=st.sampled_from(SEGMENTS),
    tier=st.one_of(st.none(), st.integers(0, 3)),
    region=st.one_of(st.none(), st.integers(1, 6)),
    priority=st.integers(1, 4),
    licenses=st.integers(0, 100_000),
    engagement_model=st.sampled_from(["", "high_touch", "digital"]),
    lifecycle_stage=st.sampled_from(STAGES),
    has_parent=st.booleans(),
)


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(FIELDS)))
    spec = FIELDS[name]
    op = draw(st.sampled_from(spec.ops))
    scalar: dict[str, Any] = {
        "decimal": st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False).map(str),
        "int": st.integers(0, 100_000),
        "rung": st.integers(0, 3),
        "region": st.integers(1, 6),
        "bool": st.booleans(),
        "choice": st.sampled_from(SEGMENTS + STAGES + ["high_touch", "digital"]),
    }
    value = draw(st.lists(scalar[spec.kind], min_size=1, max_size=4)) if op in SET_OPS else draw(scalar[spec.kind])
    return {"field": name, "op": op, "value": value}


rule_sets = st.fixed_dictionaries(
    {"match": st.sampled_from(MATCHES), "conditions": st.lists(conditions(), min_size=0, max_size=6)}
)


@settings(max_examples=300, deadline=None)
@given(definition=rule_sets, account=account_facts)
def test_compiled_and_explaining_forms_agree(definition: dict[str, Any], account: AccountFacts) -> None:
    spec = parse_rules(definition)
    verdict = evaluate(spec, account)
    assert compile_rules(spec)(account) is verdict.qualifies
    combine = all if spec.match == "all" else any
    assert verdict.qualifies is combine(r.holds for r in verdict.results)
    assert len(verdict.results) == len(spec.conditions)


@settings(max_examples=200, deadline=None)
@given(definition=rule_sets, account=account_facts)
def test_evaluation_is_deterministic_and_survives_a_json_round_trip(
    definition: dict[str, Any], account: AccountFacts
) -> None:
    spec = parse_rules(definition)
    again = parse_rules(spec.to_json())
    assert again == spec
    assert evaluate(spec, account) == evaluate(again, account)


@settings(max_examples=200, deadline=None)
@given(account=account_facts, threshold=st.decimals(min_value=0, max_value=10**9, places=2))
def test_raising_arr_never_disqualifies_under_an_arr_floor(account: AccountFacts, threshold: Decimal) -> None:
    """Monotone: with a "greater than" floor on ARR, more ARR can only help."""
    spec = parse_rules({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": str(threshold)}]})
    richer = account._replace(arr=account.arr + Decimal("0.01"))
    assert compile_rules(spec)(richer) >= compile_rules(spec)(account)


@settings(max_examples=200, deadline=None)
@given(account=account_facts)
def test_default_rules_match_the_domain_definition(account: AccountFacts) -> None:
    expected = (
        account.arr > 50000
        and account.segment in ("mid_market", "enterprise")
        and account.tier is not None
        and account.tier >= 2
    )
    assert compile_rules(DEFAULT)(account) is expected


@settings(max_examples=100, deadline=None)
@given(definition=rule_sets, account=account_facts)
def test_not_in_is_the_complement_of_in_for_known_facts(definition: dict[str, Any], account: AccountFacts) -> None:
    for c in parse_rules(definition).conditions:
        if c.op == "in" and account[list(AccountFacts._fields).index(c.field)] is not None:
            flipped = Condition(c.field, "not_in", c.value)
            assert condition_holds(c, account) is not condition_holds(flipped, account)


def test_compiled_rules_read_facts_at_an_offset_in_a_longer_row() -> None:
    row = (42, *facts(), "trailing", None)
    assert compile_rules(DEFAULT, offset=1)(row) is True
    assert compile_rules(DEFAULT, offset=1)((42, *facts(segment="smb"), "x", None)) is False


def test_values_are_bound_never_written_into_the_compiled_source() -> None:
    sneaky = 'x") or True or ("'
    spec = parse_rules({"match": "all", "conditions": [{"field": "segment", "op": "in", "value": [sneaky]}]})
    assert compile_rules(spec)(facts(segment="enterprise")) is False
    assert compile_rules(spec)(facts(segment=sneaky)) is True
