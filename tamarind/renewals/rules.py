"""Small pure rules of renewals, exhaustively unit tested: parsing a forecast or an outcome, the outcome an ARR
change implies, the task window, and whether a review is overdue. No database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from tamarind.core.errors import ValidationFailed
from tamarind.renewals.models import Forecast, OutcomeReason, RenewalOutcome
from tamarind.renewals.quarters import add_months

MAX_MONEY = Decimal("999999999999.99")

# CRM forecast categories (Salesforce and our own words) -> our forecast.
FORECAST_SYNONYMS: dict[str, str] = {
    "commit": Forecast.COMMIT,
    "closed": Forecast.COMMIT,
    "likely": Forecast.LIKELY,
    "best case": Forecast.LIKELY,
    "bestcase": Forecast.LIKELY,
    "pipeline": Forecast.LIKELY,
    "at risk": Forecast.AT_RISK,
    "at_risk": Forecast.AT_RISK,
    "atrisk": Forecast.AT_RISK,
    "will churn": Forecast.WILL_CHURN,
    "will_churn": Forecast.WILL_CHURN,
    "churn": Forecast.WILL_CHURN,
    "omitted": Forecast.WILL_CHURN,
}

CHURN_REASONS = frozenset({OutcomeReason.CANCELLATION, OutcomeReason.DOWNGRADE})
EXPANSION_REASONS = frozenset(
    {
        OutcomeReason.SEAT_EXPANSION,
        OutcomeReason.PRODUCT_CHANGE,
        OutcomeReason.PRODUCT_SEAT_MIX,
        OutcomeReason.PRICE_CHANGE,
    }
)


def parse_forecast(value: Any, label: str = "forecast") -> str:
    """A forecast category from our value, its label or a CRM synonym; anything else is refused by name."""
    text = " ".join(str(value or "").replace("-", " ").split()).lower()
    if text in Forecast.values:
        return text
    found = FORECAST_SYNONYMS.get(text)
    if found is None:
        allowed = ", ".join(str(label_) for label_ in Forecast.labels)
        raise ValidationFailed({label: [f"Unknown forecast category {value!r}: use one of {allowed}."]})
    return str(found)


def parse_money(value: Any, label: str, *, required: bool = True) -> Decimal | None:
    """A non-negative amount with at most two decimals (``1,234.50`` and ``$1234.5`` read too)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed({label: ["This field is required."]})
        return None
    if isinstance(value, bool | float):
        value = str(value)
    text = str(value).strip().replace(",", "").lstrip("$").strip()
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationFailed({label: [f"{value!r} is not a number."]}) from None
    if not amount.is_finite():
        raise ValidationFailed({label: [f"{value!r} is not a number."]})
    if amount < 0:
        raise ValidationFailed({label: ["Must not be negative."]})
    if amount > MAX_MONEY:
        raise ValidationFailed({label: [f"At most {MAX_MONEY}."]})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed({label: ["At most two decimal places."]})
    return amount.quantize(Decimal("0.01"))


def outcome_for(arr: Decimal, new_arr: Decimal) -> str:
    """The outcome an ARR change means: zero is churned, less contracted, equal flat, more expanded."""
    if new_arr == 0:
        return RenewalOutcome.CHURNED
    if new_arr < arr:
        return RenewalOutcome.CONTRACTED
    if new_arr > arr:
        return RenewalOutcome.EXPANDED
    return RenewalOutcome.RENEWED_FLAT


def check_outcome(*, outcome: str, arr: Decimal, new_arr: Decimal | None, reason: str) -> None:
    """An outcome must come with its new ARR, agree with it, and carry a reason of its kind (churn reasons for a
    churn or contraction, expansion reasons for an expansion; none needed for flat)."""
    if outcome not in RenewalOutcome.values:
        raise ValidationFailed({"outcome": [f"Choose one of: {', '.join(RenewalOutcome.values)}."]})
    if new_arr is None:
        raise ValidationFailed({"new_arr": ["An outcome needs the new ARR."]})
    implied = outcome_for(arr, new_arr)
    if implied != outcome:
        label = RenewalOutcome(implied).label
        raise ValidationFailed(
            {"outcome": [f"New ARR {new_arr} against {arr} up for renewal is “{label}”, not “{outcome}”."]}
        )
    if reason and reason not in OutcomeReason.values:
        raise ValidationFailed({"outcome_reason": [f"Choose one of: {', '.join(OutcomeReason.values)}."]})
    if outcome in (RenewalOutcome.CHURNED, RenewalOutcome.CONTRACTED) and reason not in CHURN_REASONS:
        raise ValidationFailed(
            {"outcome_reason": ["A churn or contraction needs its reason: cancellation or downgrade."]}
        )
    if outcome == RenewalOutcome.EXPANDED and reason not in EXPANSION_REASONS:
        raise ValidationFailed(
            {"outcome_reason": ["An expansion needs its reason: seat expansion, product change, mix or price change."]}
        )


def task_opens_on(renewal_date: dt.date, lead_months: int) -> dt.date:
    """The day a renewal's task opens: ``lead_months`` before the renewal date."""
    return add_months(renewal_date, -lead_months)


def task_due(renewal_date: dt.date, today: dt.date, lead_months: int) -> bool:
    """Whether the renewal task is due to be open today: from its opening day up to the renewal date."""
    return task_opens_on(renewal_date, lead_months) <= today <= renewal_date


def review_due_on(renewal_date: dt.date, lead_months: int, review_days: int) -> dt.date:
    """The internal renewal review is due ``review_days`` after the renewal task opens."""
    return task_opens_on(renewal_date, lead_months) + dt.timedelta(days=review_days)


def review_overdue(last_held: dt.date | None, today: dt.date, every_days: int) -> bool:
    """A renewal review not held within the cadence (never held counts as overdue)."""
    return last_held is None or (today - last_held).days > every_days


def check_settings(row: Any) -> dict[str, list[str]]:
    """What is wrong with a renewal settings row (by field), empty when it is fine (the DB checks back it up)."""
    problems: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    def whole(field: str, low: int, high: int) -> None:
        value = getattr(row, field)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            bad(field, f"Must be a whole number from {low} to {high}.")

    whole("fiscal_start_month", 1, 12)
    whole("task_lead_months", 1, 24)
    whole("review_due_days", 1, 365)
    whole("term_months", 1, 120)
    whole("reviews_per_month", 1, 31)
    for field in ("gross_target_pct", "net_target_pct"):
        value = getattr(row, field)
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            bad(field, "Must be a number.")
            continue
        if not number.is_finite() or not Decimal(0) < number <= Decimal(1000):
            bad(field, "Must be above 0 and at most 1000.")
        elif number != number.quantize(Decimal("0.01")):
            bad(field, "At most two decimal places.")
    if not isinstance(row.roll_up_to_parent, bool):
        bad("roll_up_to_parent", "Must be true or false.")
    return problems
