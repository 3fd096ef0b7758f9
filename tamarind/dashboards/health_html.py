"""The health dashboard's figure tables (behind the charts' "Figures" summaries), written as HTML in Python.

A book of 100,000 accounts gives the Overview a mix table of about 80 lines (regions, TAMs, segments, priorities)
of six cells each and a trend table of 90 days: rendered by template loops they cost more than every query of the
page together, so they are written here (every value escaped) and the template includes the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOR_HEADS = {"green": "Green", "yellow": "Yellow", "red": "Red", "none": "Not scored"}


def whole(amount: Decimal) -> str:
    """An amount rounded to a whole number with thousands separators (as ``floatformat:0|intcomma``)."""
    return f"{int(amount.quantize(Decimal(1), ROUND_HALF_UP)):,}"


def mix_table(sections: Iterable[dict[str, Any]]) -> SafeString:
    """The mix figures: a ``tbody`` per grouping (``data-mix``), a row per line (``data-line``), a cell per color
    (``data-color``) with its accounts and ARR."""
    parts = [
        '<table class="data middle dash-table"><thead><tr><th>Group</th><th class="num">Accounts</th>',
        *(f'<th class="num">{head}</th>' for head in COLOR_HEADS.values()),
        "</tr></thead>",
    ]
    for section in sections:
        parts.append(f'<tbody data-mix="{escape(section["key"])}"><tr class="dash-group"><th colspan="6">By ')
        parts.append(f"{escape(section['title'].lower())}</th></tr>")
        lines = section["lines"]
        if not lines:
            parts.append('<tr><td colspan="6" class="muted">No accounts.</td></tr>')
        for line in lines:
            parts.append(
                f'<tr data-line="{escape(line.key)}"><td>{escape(line.label)}</td><td class="num">{line.accounts}'
                f'<span class="dash-sub muted">{whole(line.arr)}</span></td>'
            )
            for color, cell in line.cells.items():
                if cell.accounts:
                    badge = f' class="badge {color}"' if color != "none" else ""
                    parts.append(
                        f'<td class="num" data-color="{color}"><span{badge}>{cell.accounts}</span>'
                        f'<span class="dash-sub muted">{whole(cell.arr)}</span></td>'
                    )
                else:
                    parts.append(f'<td class="num" data-color="{color}"><span class="muted">0</span></td>')
            parts.append("</tr>")
        parts.append("</tbody>")
    parts.append("</table>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or a number


def trend_table(points: Iterable[Any]) -> SafeString:
    """The trend figures, newest day first: accounts per color and stale reviews (``data-day``, ``data-color``)."""
    parts = [
        '<table class="data middle dash-table"><thead><tr><th>Day</th>',
        *(f'<th class="num">{head}</th>' for head in COLOR_HEADS.values()),
        '<th class="num">Stale</th></tr></thead><tbody>',
    ]
    for p in reversed(list(points)):
        day = p.day.isoformat()
        parts.append(f'<tr data-day="{day}"><td class="nowrap">{day}</td>')
        parts.extend(f'<td class="num" data-color="{c}">{p.accounts[c]}</td>' for c in COLOR_HEADS)
        parts.append(f'<td class="num">{p.stale}</td></tr>')
    parts.append("</tbody></table>")
    return mark_safe("".join(parts))  # noqa: S308 - only numbers and ISO dates above
