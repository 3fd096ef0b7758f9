"""The back-test settings form (its own module so that the other Signals pages' forms do not collide with it).

The form parses; ``services.backtest_settings_update`` checks the bounds and audits, so the page, the Django admin
and any later caller refuse the same values with the same messages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from tamarind.core.forms import IntegerField
from tamarind.signals.models import BacktestSettings
from tamarind.signals.services import MAX_HORIZONS, SETTINGS_BOUNDS


def _bounds(field: str) -> dict[str, Any]:
    low, high = SETTINGS_BOUNDS[field]
    return {"min_value": int(low), "max_value": int(high)}


class HorizonsField(forms.Field):
    """Days before the outcome, written "90, 180, 365"."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> list[int]:
        text = str(value or "")[:200]
        if not text.strip(" ,;"):
            return []  # empty: the required check says so
        parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
        try:
            days = sorted({int(p) for p in parts})
        except ValueError:
            raise forms.ValidationError("Whole numbers of days, separated by commas (e.g. 90, 180, 365).") from None
        if len(days) > MAX_HORIZONS:
            raise forms.ValidationError(f"At most {MAX_HORIZONS} horizons.")
        return days

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value


class BacktestSettingsForm(forms.Form):
    min_outcomes = IntegerField(
        label="Fewest churned or contracted accounts to judge a signal",
        help_text="Below this a signal says 'too few outcomes to judge' instead of a number.",
        **_bounds("min_outcomes"),
    )
    horizons = HorizonsField(
        label="Horizons (days before the outcome)",
        help_text=f"1 to {MAX_HORIZONS} horizons, each 1 to 1095 days, e.g. 90, 180, 365.",
    )
    contraction_share = forms.DecimalField(
        label="ARR fall that counts as a contraction (share)",
        max_digits=4,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=Decimal("0.999"),
        help_text="0.1 is a 10% month-on-month fall. Applies to the outcomes at their next daily refresh.",
    )
    auc_months = IntegerField(label="Health score this many months before the outcome (AUC)", **_bounds("auc_months"))
    trust_min_lift = forms.DecimalField(
        label="Trust: lift above",
        max_digits=6,
        decimal_places=2,
        min_value=Decimal(1),
        max_value=Decimal("9999.99"),
        help_text="A signal may be marked trusted only with a lift above this at the widest horizon.",
    )
    trust_min_outcomes = IntegerField(
        label="Trust: at least this many churned or contracted accounts judged", **_bounds("trust_min_outcomes")
    )

    @classmethod
    def initial_from(cls, row: BacktestSettings) -> dict[str, Any]:
        return {
            "min_outcomes": row.min_outcomes,
            "horizons": row.horizon_days,
            "contraction_share": row.contraction_share,
            "auc_months": row.auc_months,
            "trust_min_lift": row.trust_min_lift,
            "trust_min_outcomes": row.trust_min_outcomes,
        }
