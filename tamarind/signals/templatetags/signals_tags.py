"""Formatting of back-test figures."""

from __future__ import annotations

from django import template

register = template.Library()

STATUS_TEXT = {
    "too_few": "Too few outcomes to judge.",
    "never_fired": "Never fired before an outcome in this window.",
    "no_outcomes": "No outcomes in this window.",
}


@register.filter
def fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value * 100:.0f}%"
    if kind == "x":
        return f"{value:.2f}×"
    if kind == "int":
        return f"{value:.0f}"
    return f"{value:.2f}"


@register.filter
def pct_width(value: float | None) -> str:
    return "0" if value is None else f"{max(0.0, min(1.0, value)) * 100:.0f}"


@register.filter
def status_text(status: str) -> str:
    return STATUS_TEXT.get(status, status)


@register.filter
def add_pair(first: object, second: object) -> list[object]:
    """``[first, second]`` without the ``None`` (a template pairs two rows)."""
    return [x for x in (first, second) if x is not None]
