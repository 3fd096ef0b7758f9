"""The health model definition: the default parses, round-trips, and every kind of bad definition is refused
with the place named. No database."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from tamarind.health.spec import DEFAULT_DEFINITION, MEASURES, SpecError, parse_spec


def changed(path: str, value: Any) -> dict[str, Any]:
    """The default definition with one place replaced (``measures.support.green``); ``...`` deletes it."""
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    *parents, last = path.split(".")
    node: Any = definition
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is ...:
        del node[last]
    else:
        node[last] = value
    return definition


def errors_of(definition: Any) -> dict[str, list[str]]:
    with pytest.raises(SpecError) as exc:
        parse_spec(definition)
    return exc.value.errors


def test_the_default_is_domain_section_6() -> None:
    spec = parse_spec(DEFAULT_DEFINITION)
    assert {k: int(w) for k, w in spec.weights.items()} == {
        "sentiment": 50,
        "product_usage": 25,
        "success_plan": 10,
        "engagement": 10,
        "support": 5,
    }
    assert (spec.green_min, spec.yellow_min) == (75, 50)
    assert spec.staleness_days == 90
    assert spec.red_sentiment_override is True
    assert (spec.utilization_share, spec.adoption_share) == (Decimal(40), Decimal(60))
    assert spec.engagement[1].green == 35 and spec.engagement[1].yellow == 60
    assert spec.engagement[2].green == 65 and spec.engagement[2].yellow == 90
    assert (spec.support_green, spec.support_yellow, spec.urgent_is_red) == (5, 15, True)


def test_round_trip_through_json() -> None:
    spec = parse_spec(DEFAULT_DEFINITION)
    assert spec.to_json() == DEFAULT_DEFINITION
    assert parse_spec(spec.to_json()) == spec


def test_decimal_weights_round_trip() -> None:
    spec = parse_spec(changed("measures.support.weight", "5.5"))
    assert spec.weights["support"] == Decimal("5.5")
    assert parse_spec(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("bands.green", 40, "bands"),  # Yellow would start above Green
        ("bands.green", 101, "bands.green"),
        ("bands.yellow", "fifty", "bands.yellow"),
        ("band_scores.green", 70, "band_scores.green"),  # outside the Green band
        ("band_scores.yellow", 80, "band_scores.yellow"),
        ("band_scores.red", 50, "band_scores.red"),
        ("red_sentiment_override", "yes", "red_sentiment_override"),
        ("staleness_days", 0, "staleness_days"),
        ("staleness_days", True, "staleness_days"),
        ("measures.support.weight", -1, "measures.support.weight"),
        ("measures.support.weight", "x", "measures.support.weight"),
        ("measures.support.weight", 101, "measures.support.weight"),
        ("measures.support.green", 20, "measures.support"),  # yellow 15 < green 20
        ("measures.support.urgent_is_red", 1, "measures.support.urgent_is_red"),
        ("measures.engagement.by_priority", [], "measures.engagement.by_priority"),
        ("measures.engagement.by_priority.1.yellow", 10, "measures.engagement.by_priority.1"),
        ("measures.engagement.by_priority.5", {"green": 1, "yellow": 2}, "measures.engagement.by_priority.5"),
        ("measures.product_usage.month_breaks", [6, 2, 9], "measures.product_usage.month_breaks"),
        ("measures.product_usage.month_breaks", "2,6", "measures.product_usage.month_breaks"),
        ("measures.product_usage.utilization", [], "measures.product_usage.utilization"),
        ("measures.product_usage.utilization.0.colors", ["red"], "measures.product_usage.utilization.0.colors"),
        ("measures.product_usage.utilization.3.max", "90", "measures.product_usage.utilization.3.max"),
        ("measures.product_usage.adoption.yellow", 60, "measures.product_usage.adoption"),
        ("measures.product_usage.utilization_share", 0, None),  # fine alone
        ("measures.sentiment.extra", 1, "measures.sentiment"),
        ("measures.support.green", ..., "measures.support"),
        ("extra", 1, "__all__"),
    ],
)
def test_bad_places_are_named(path: str, value: Any, where: str | None) -> None:
    definition = changed(path, value)
    if where is None:
        parse_spec(definition)
        return
    assert where in errors_of(definition)


def test_both_usage_shares_zero_is_refused() -> None:
    definition = changed("measures.product_usage.utilization_share", 0)
    definition["measures"]["product_usage"]["adoption_share"] = 0
    assert "measures.product_usage" in errors_of(definition)


def test_all_weights_zero_is_refused() -> None:
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    for key in MEASURES:
        definition["measures"][key]["weight"] = 0
    assert "measures" in errors_of(definition)


def test_utilization_rows_must_not_rate_more_usage_worse() -> None:
    definition = changed("measures.product_usage.utilization.2.colors", ["green", "yellow", "red", "red"])
    definition["measures"]["product_usage"]["utilization"][1]["colors"] = ["green", "green", "red", "red"]
    assert "measures.product_usage.utilization.2.colors.1" in errors_of(definition)


def test_utilization_bounds_increase() -> None:
    definition = changed("measures.product_usage.utilization.1.max", "80")
    assert "measures.product_usage.utilization" in errors_of(definition)


def test_not_an_object() -> None:
    assert "__all__" in errors_of([1, 2])
    assert "__all__" in errors_of({"bands": {}})


def test_every_error_is_reported_at_once() -> None:
    definition = changed("staleness_days", -3)
    definition["measures"]["support"]["weight"] = "lots"
    assert {"staleness_days", "measures.support.weight"} <= set(errors_of(definition))
