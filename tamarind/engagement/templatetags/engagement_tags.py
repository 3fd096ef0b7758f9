"""Formatting of the comparison's figures: shares and ratios (retention) as percentages, days and counts with one decimal, money whole."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _fmt(value: float | None, metric: Any, *, sign: bool = False) -> str:
    if value is None:
        return "—"
    plus = "+" if sign and value > 0 else ""
    if metric.kind in ("share", "ratio"):
        return f"{plus}{value * 100:.0f}{' pts' if sign else '%'}"
    if metric.unit == "money":
        return f"{plus}{value:,.0f}"
    return f"{plus}{value:.1f}"


@register.filter
def figure(estimate: Any, metric: Any) -> str:
    return _fmt(estimate.value, metric)


@register.filter
def value(number: float | None, metric: Any) -> str:
    return _fmt(number, metric)


@register.filter
def delta(number: float | None, metric: Any) -> str:
    return _fmt(number, metric, sign=True)
