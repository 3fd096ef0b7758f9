from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def pct(value: float | Decimal | None) -> str:
    """A share as a whole percentage; an em dash when there is nothing to measure."""
    if value is None:
        return "—"
    return f"{round(float(value) * 100)}%"


@register.filter
def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
