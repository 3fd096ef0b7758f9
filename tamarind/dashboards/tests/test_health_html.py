"""The health dashboard's figure tables written in Python: every value escaped, the cells the template's were."""

import datetime as dt
from decimal import Decimal

from tamarind.dashboards import health_html
from tamarind.dashboards.health_selectors import MixCell, MixLine, TrendPoint


def line(key, label, **cells):
    return MixLine(
        key=key,
        label=label,
        cells={c: MixCell(*cells.get(c, (0, Decimal(0)))) for c in ("green", "yellow", "red", "none")},
    )


def test_the_mix_table_escapes_labels_and_rounds_arr_half_up():
    html = health_html.mix_table(
        [{"key": "region", "title": "Region", "lines": [line("region-1", "<b>R&D</b>", red=(2, Decimal("1000.50")))]}]
    )
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in html and "<b>" not in html
    assert '<tbody data-mix="region"><tr class="dash-group"><th colspan="6">By region</th></tr>' in html
    assert (
        '<td class="num" data-color="red"><span class="badge red">2</span><span class="dash-sub muted">1,001</span>'
        in html
    )
    assert '<td class="num" data-color="green"><span class="muted">0</span></td>' in html


def test_an_empty_grouping_says_so():
    html = health_html.mix_table([{"key": "tam", "title": "TAM", "lines": []}])
    assert "No accounts." in html


def test_the_trend_table_is_newest_first():
    points = [
        TrendPoint(dt.date(2026, 1, d), {"green": d, "yellow": 0, "red": 1, "none": 0}, {}, stale=d) for d in (1, 2)
    ]
    html = health_html.trend_table(points)
    assert html.index('data-day="2026-01-02"') < html.index('data-day="2026-01-01"')
    assert '<td class="num" data-color="green">2</td>' in html
