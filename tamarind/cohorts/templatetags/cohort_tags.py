"""Formatting of the cohort report's figures: a share as a percentage, a mean with one decimal."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def num(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{value * 100:.0f}%"
    return f"{value:.1f}"


@register.filter
def signed(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{value * 100:+.0f} pts"
    return f"{value:+.1f}"
