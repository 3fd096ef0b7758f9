"""Template helpers used across apps: money, query-string building for sort/pagination links."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.http import QueryDict

register = template.Library()

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}


@register.filter
def money(value: Any, currency: str = "USD") -> str:
    """``1234567.5`` -> ``$1,234,568``: whole units, thousands separated, symbol or code."""
    if value in (None, ""):
        return "—"
    amount = Decimal(value).quantize(Decimal(1))
    symbol = _SYMBOLS.get(currency or "USD")
    text = f"{amount:,.0f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.filter
def compact_money(value: Any) -> str:
    """``3600000`` -> ``$3.6M``, for stats and capacity figures."""
    if value in (None, ""):
        return "—"
    amount = Decimal(value)
    for limit, suffix in ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(amount) >= limit:
            return f"${amount / limit:.1f}{suffix}"
    return f"${amount:.0f}"


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with ``changes`` applied (``None`` removes a key); for sort and page links."""
    request = context["request"]
    params: QueryDict = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context: dict[str, Any], key: str) -> str:
    """Link target for a sortable column header: toggles between ``key`` and ``-key``."""
    current = context["request"].GET.get("sort", "")
    new = f"-{key}" if current == key else key
    return query(context, sort=new, page=None)


@register.filter
def sort_arrow(current: str, key: str) -> str:
    if current == key:
        return "▲"
    if current == f"-{key}":
        return "▼"
    return ""
