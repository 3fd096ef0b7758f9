"""The pure rules: forecasts and money parsed, outcomes against the new ARR, the task window, the review cadence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tamarind.core.errors import ValidationFailed
from tamarind.renewals import rules
from tamarind.renewals.models import RenewalSettings


@pytest.mark.parametrize(
    ("raw", "want"),
    [("Commit", "commit"), ("Best Case", "likely"), ("pipeline", "likely"), ("At Risk", "at_risk"),
     ("at-risk", "at_risk"), ("will_churn", "will_churn"), ("Omitted", "will_churn")],
)  # fmt: skip
def test_forecasts(raw: str, want: str) -> None:
    assert rules.parse_forecast(raw) == want


@pytest.mark.parametrize("raw", ["", "maybe", None, "commitment"])
def test_unknown_forecasts_are_named(raw: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.parse_forecast(raw)
    assert "forecast" in exc.value.errors


@pytest.mark.parametrize(
    ("raw", "want"), [("1,234.50", Decimal("1234.50")), ("$10", Decimal("10.00")), (5, Decimal("5.00")), ("0", 0)]
)
def test_money(raw: object, want: Decimal) -> None:
    assert rules.parse_money(raw, "arr") == want


@pytest.mark.parametrize("raw", ["-1", "abc", "1.005", "NaN", "Infinity", "1e20", ""])
def test_bad_money(raw: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.parse_money(raw, "arr")
    assert "arr" in exc.value.errors


@pytest.mark.parametrize(
    ("arr", "new", "outcome"),
    [
        (100, 0, "churned"),
        (100, 50, "contracted"),
        (100, 100, "renewed_flat"),
        (100, 150, "expanded"),
        (0, 0, "churned"),
    ],
)
def test_outcome_for(arr: int, new: int, outcome: str) -> None:
    assert rules.outcome_for(Decimal(arr), Decimal(new)) == outcome


def test_check_outcome() -> None:
    rules.check_outcome(outcome="renewed_flat", arr=Decimal(1), new_arr=Decimal(1), reason="")
    rules.check_outcome(outcome="churned", arr=Decimal(1), new_arr=Decimal(0), reason="cancellation")
    rules.check_outcome(outcome="expanded", arr=Decimal(1), new_arr=Decimal(2), reason="price_change")
    for kwargs, field in (
        ({"outcome": "expanded", "new_arr": None, "reason": "price_change"}, "new_arr"),
        ({"outcome": "won", "new_arr": Decimal(1), "reason": ""}, "outcome"),
        ({"outcome": "expanded", "new_arr": Decimal(1), "reason": "price_change"}, "outcome"),
        ({"outcome": "churned", "new_arr": Decimal(0), "reason": ""}, "outcome_reason"),
        ({"outcome": "contracted", "new_arr": Decimal("0.5"), "reason": "price_change"}, "outcome_reason"),
        ({"outcome": "expanded", "new_arr": Decimal(2), "reason": "downgrade"}, "outcome_reason"),
        ({"outcome": "expanded", "new_arr": Decimal(2), "reason": "bogus"}, "outcome_reason"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            rules.check_outcome(arr=Decimal(1), **kwargs)  # type: ignore[arg-type]
        assert field in exc.value.errors


def test_task_window_and_review_due() -> None:
    day = dt.date(2027, 8, 31)
    assert rules.task_opens_on(day, 6) == dt.date(2027, 2, 28)
    assert not rules.task_due(day, dt.date(2027, 2, 27), 6)
    assert rules.task_due(day, dt.date(2027, 2, 28), 6)
    assert rules.task_due(day, day, 6)
    assert not rules.task_due(day, day + dt.timedelta(days=1), 6)
    assert rules.review_due_on(day, 6, 60) == dt.date(2027, 4, 29)


def test_review_overdue() -> None:
    today = dt.date(2026, 12, 5)
    assert rules.review_overdue(None, today, 15)
    assert not rules.review_overdue(today - dt.timedelta(days=15), today, 15)
    assert rules.review_overdue(today - dt.timedelta(days=16), today, 15)
    assert RenewalSettings(reviews_per_month=2).review_every_days == 15
    assert RenewalSettings(reviews_per_month=4).review_every_days == 8


def test_check_settings() -> None:
    ok = SimpleNamespace(
        fiscal_start_month=2, task_lead_months=6, review_due_days=60, term_months=12, reviews_per_month=2,
        gross_target_pct=Decimal(90), net_target_pct=Decimal(130), roll_up_to_parent=False,
    )  # fmt: skip
    assert rules.check_settings(ok) == {}
    bad = SimpleNamespace(**{**vars(ok), "fiscal_start_month": 0, "term_months": True, "net_target_pct": "x"})
    assert set(rules.check_settings(bad)) == {"fiscal_start_month", "term_months", "net_target_pct"}
