"""The health model as data: its JSON definition, the default (domain section 6) and its validation.

Pure: no database, no Django models. A definition looks like ``DEFAULT_DEFINITION`` below; ``parse_spec``
validates one and returns a typed ``HealthSpec`` (or raises ``SpecError`` naming each bad place, like
``assignment.rules.RuleError``), ``HealthSpec.to_json`` gives the canonical JSON back.

Every number is data:

- ``bands``: the lowest score of Green and of Yellow (below Yellow is Red), for each measure and the overall score;
- ``band_scores``: the score a measure judged by color gets (Green 100, Yellow 62, Red 25 by default), each
  inside its own band, so a measure's color and its score always agree;
- ``measures``: weight of each measure (sentiment, product usage, success plan, engagement, support) and its rule;
- ``red_sentiment_override``: a Red TAM sentiment makes the whole score Red;
- ``staleness_days``: a sentiment older than this is stale.

Validation enforces more than types: weights are not negative and not all zero, thresholds increase, and the
utilization table never rates more utilization worse than less at the same contract age (so the score is
monotone in utilization for every valid model, not only the default one).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

GREEN, YELLOW, RED = "green", "yellow", "red"
COLORS: tuple[str, ...] = (GREEN, YELLOW, RED)
COLOR_RANK = {RED: 0, YELLOW: 1, GREEN: 2}
COLOR_LABELS = {GREEN: "Green", YELLOW: "Yellow", RED: "Red"}

SENTIMENT, PRODUCT_USAGE, SUCCESS_PLAN, ENGAGEMENT, SUPPORT = (
    "sentiment",
    "product_usage",
    "success_plan",
    "engagement",
    "support",
)
MEASURES: tuple[str, ...] = (SENTIMENT, PRODUCT_USAGE, SUCCESS_PLAN, ENGAGEMENT, SUPPORT)
MEASURE_LABELS = {
    SENTIMENT: "TAM sentiment",
    PRODUCT_USAGE: "Product usage",
    SUCCESS_PLAN: "Success plan",
    ENGAGEMENT: "Engagement",
    SUPPORT: "Support",
}

# Domain section 6, as the first version of the model. Admins change it in the model editor; this is only the seed.
# Utilization (active users / licenses, in percent) is rated by a table: rows by utilization (each row's ``max``
# is its upper bound, ``inclusive`` or not; the last row has none), columns by whole months since the contract
# started (``month_breaks`` [2, 6, 9] make the columns <2, 2-5, 6-8 and 9+ months). "<10% red after 2 months;
# 10-50% yellow at 2-6 months, red later; 51-75% green until 6 months, yellow 6-9, red later; >75% green".
# What the domain leaves open is chosen here and editable: under 10% in the first two months is Yellow, 10-50%
# in the first two months Green; engagement is not rated for priorities 3 and 4 (no call cadence).
DEFAULT_DEFINITION: dict[str, Any] = {
    "bands": {"green": 75, "yellow": 50},
    "band_scores": {"green": 100, "yellow": 62, "red": 25},
    "red_sentiment_override": True,
    "staleness_days": 90,
    "measures": {
        "sentiment": {"weight": 50},
        "product_usage": {
            "weight": 25,
            "utilization_share": 40,
            "adoption_share": 60,
            "month_breaks": [2, 6, 9],
            "utilization": [
                {"max": "10", "inclusive": False, "colors": ["yellow", "red", "red", "red"]},
                {"max": "50", "inclusive": True, "colors": ["green", "yellow", "red", "red"]},
                {"max": "75", "inclusive": True, "colors": ["green", "green", "yellow", "red"]},
                {"max": None, "inclusive": False, "colors": ["green", "green", "green", "green"]},
            ],
            "adoption": {"green": 50, "yellow": 25},
        },
        "success_plan": {"weight": 10},
        "engagement": {
            "weight": 10,
            "by_priority": {"1": {"green": 35, "yellow": 60}, "2": {"green": 65, "yellow": 90}},
        },
        "support": {"weight": 5, "green": 5, "yellow": 15, "urgent_is_red": True},
    },
}


class SpecError(ValueError):
    """A definition that cannot be used; ``errors`` maps a place ("measures.support.green") to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class UtilizationRow:
    """Utilization up to ``max`` percent (None: no upper bound), one color per contract-age column."""

    max: Decimal | None
    inclusive: bool
    colors: tuple[str, ...]

    def contains(self, pct: Decimal) -> bool:
        if self.max is None:
            return True
        return pct <= self.max if self.inclusive else pct < self.max


@dataclass(frozen=True)
class DayBands:
    """Green up to ``green`` days (inclusive), Yellow up to ``yellow``, Red after."""

    green: int
    yellow: int


@dataclass(frozen=True)
class HealthSpec:
    """A validated health model definition."""

    green_min: int
    yellow_min: int
    band_scores: Mapping[str, int]
    red_sentiment_override: bool
    staleness_days: int
    weights: Mapping[str, Decimal]
    utilization_share: Decimal
    adoption_share: Decimal
    month_breaks: tuple[int, ...]
    utilization: tuple[UtilizationRow, ...]
    adoption_green: Decimal
    adoption_yellow: Decimal
    engagement: Mapping[int, DayBands]
    support_green: int
    support_yellow: int
    urgent_is_red: bool

    def color_of(self, value: Decimal | int) -> str:
        """The band of a 0-100 score."""
        if value >= self.green_min:
            return GREEN
        if value >= self.yellow_min:
            return YELLOW
        return RED

    def to_json(self) -> dict[str, Any]:
        def num(d: Decimal) -> int | str:
            return int(d) if d == d.to_integral_value() else str(d)

        return {
            "bands": {"green": self.green_min, "yellow": self.yellow_min},
            "band_scores": dict(self.band_scores),
            "red_sentiment_override": self.red_sentiment_override,
            "staleness_days": self.staleness_days,
            "measures": {
                SENTIMENT: {"weight": num(self.weights[SENTIMENT])},
                PRODUCT_USAGE: {
                    "weight": num(self.weights[PRODUCT_USAGE]),
                    "utilization_share": num(self.utilization_share),
                    "adoption_share": num(self.adoption_share),
                    "month_breaks": list(self.month_breaks),
                    "utilization": [
                        {
                            "max": None if r.max is None else str(r.max),
                            "inclusive": r.inclusive,
                            "colors": list(r.colors),
                        }
                        for r in self.utilization
                    ],
                    "adoption": {"green": num(self.adoption_green), "yellow": num(self.adoption_yellow)},
                },
                SUCCESS_PLAN: {"weight": num(self.weights[SUCCESS_PLAN])},
                ENGAGEMENT: {
                    "weight": num(self.weights[ENGAGEMENT]),
                    "by_priority": {
                        str(p): {"green": b.green, "yellow": b.yellow} for p, b in sorted(self.engagement.items())
                    },
                },
                SUPPORT: {
                    "weight": num(self.weights[SUPPORT]),
                    "green": self.support_green,
                    "yellow": self.support_yellow,
                    "urgent_is_red": self.urgent_is_red,
                },
            },
        }


class _Reader:
    """Collects every error of one definition instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)

    def obj(self, value: Any, where: str, keys: set[str], *, optional: frozenset[str] = frozenset()) -> Mapping:
        if not isinstance(value, Mapping):
            self.fail(where, "Expected an object.")
            return {}
        missing = keys - optional - set(value)
        unknown = set(value) - keys
        if missing:
            self.fail(where, f"Missing: {', '.join(sorted(missing))}.")
        if unknown:
            self.fail(where, f"Unknown key(s): {', '.join(sorted(map(str, unknown)))}.")
        return value

    def integer(self, value: Any, where: str, *, lo: int = 0, hi: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"Expected a whole number, not {value!r}.")
            return lo
        if value < lo or (hi is not None and value > hi):
            self.fail(where, f"Expected {lo} to {hi}." if hi is not None else f"Expected at least {lo}.")
            return lo
        return value

    def number(self, value: Any, where: str, *, lo: int = 0, hi: int | None = None) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            self.fail(where, f"Expected a number, not {value!r}.")
            return Decimal(lo)
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(where, f"Expected a number, not {value!r}.")
            return Decimal(lo)
        if not d.is_finite() or d < lo or (hi is not None and d > hi):
            self.fail(where, f"Expected {lo} to {hi}." if hi is not None else f"Expected at least {lo}.")
            return Decimal(lo)
        return d

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, "Expected true or false.")
            return False
        return value

    def color(self, value: Any, where: str) -> str:
        if value not in COLORS:
            self.fail(where, f"Expected one of {', '.join(COLORS)}, not {value!r}.")
            return RED
        return str(value)


def parse_spec(definition: Any) -> HealthSpec:
    """Validate a JSON definition and return it typed, or raise ``SpecError`` naming each bad place."""
    r = _Reader()
    top = r.obj(definition, "__all__", {"bands", "band_scores", "red_sentiment_override", "staleness_days", "measures"})
    if r.errors:
        raise SpecError(r.errors)
    bands = r.obj(top["bands"], "bands", {"green", "yellow"})
    green_min = r.integer(bands.get("green"), "bands.green", lo=1, hi=100)
    yellow_min = r.integer(bands.get("yellow"), "bands.yellow", lo=1, hi=100)
    if not r.errors and yellow_min >= green_min:
        r.fail("bands", "Yellow starts below Green.")
    raw_scores = r.obj(top["band_scores"], "band_scores", set(COLORS))
    band_scores = {c: r.integer(raw_scores.get(c), f"band_scores.{c}", lo=0, hi=100) for c in COLORS}
    if "bands" not in r.errors and not any(k.startswith("band_scores") for k in r.errors):
        lows = {GREEN: green_min, YELLOW: yellow_min, RED: 0}
        highs = {GREEN: 100, YELLOW: green_min - 1, RED: yellow_min - 1}
        for c in COLORS:
            if not lows[c] <= band_scores[c] <= highs[c]:
                r.fail(f"band_scores.{c}", f"A {c} measure scores within its band ({lows[c]}-{highs[c]}).")
    override = r.boolean(top["red_sentiment_override"], "red_sentiment_override")
    staleness = r.integer(top["staleness_days"], "staleness_days", lo=1, hi=3650)

    measures = r.obj(top["measures"], "measures", set(MEASURES))
    weights: dict[str, Decimal] = {}
    for key in MEASURES:
        m = measures.get(key)
        weights[key] = r.number(m.get("weight") if isinstance(m, Mapping) else None, f"measures.{key}.weight", hi=100)
    if not any(weights.values()) and not r.errors:
        r.fail("measures", "At least one measure needs a weight above 0.")

    usage = r.obj(
        measures.get(PRODUCT_USAGE, {}),
        "measures.product_usage",
        {"weight", "utilization_share", "adoption_share", "month_breaks", "utilization", "adoption"},
    )
    u_share = r.number(usage.get("utilization_share"), "measures.product_usage.utilization_share", hi=100)
    a_share = r.number(usage.get("adoption_share"), "measures.product_usage.adoption_share", hi=100)
    if u_share + a_share == 0:
        r.fail("measures.product_usage", "Utilization and adoption cannot both have share 0.")
    breaks_raw = usage.get("month_breaks")
    breaks: list[int] = []
    if not isinstance(breaks_raw, list):
        r.fail("measures.product_usage.month_breaks", "Expected a list of months.")
    else:
        breaks = [
            r.integer(b, f"measures.product_usage.month_breaks.{i}", lo=1, hi=600) for i, b in enumerate(breaks_raw)
        ]
        if any(b >= a for b, a in itertools.pairwise(breaks)):
            r.fail("measures.product_usage.month_breaks", "Months increase from left to right.")
    rows = _utilization_rows(r, usage.get("utilization"), columns=len(breaks) + 1)
    adoption = r.obj(usage.get("adoption", {}), "measures.product_usage.adoption", {"green", "yellow"})
    ad_green = r.number(adoption.get("green"), "measures.product_usage.adoption.green", hi=100)
    ad_yellow = r.number(adoption.get("yellow"), "measures.product_usage.adoption.yellow", hi=100)
    if ad_yellow > ad_green:
        r.fail("measures.product_usage.adoption", "Yellow starts at or below Green.")

    r.obj(measures.get(SENTIMENT, {}), "measures.sentiment", {"weight"})
    r.obj(measures.get(SUCCESS_PLAN, {}), "measures.success_plan", {"weight"})
    eng = r.obj(measures.get(ENGAGEMENT, {}), "measures.engagement", {"weight", "by_priority"})
    by_priority: dict[int, DayBands] = {}
    raw_bp = eng.get("by_priority")
    if not isinstance(raw_bp, Mapping):
        r.fail("measures.engagement.by_priority", "Expected an object of priority -> days.")
    else:
        for p, days in raw_bp.items():
            where = f"measures.engagement.by_priority.{p}"
            if str(p) not in ("1", "2", "3", "4"):
                r.fail(where, "Priorities are 1 to 4.")
                continue
            d = r.obj(days, where, {"green", "yellow"})
            g = r.integer(d.get("green"), f"{where}.green", hi=3650)
            y = r.integer(d.get("yellow"), f"{where}.yellow", hi=3650)
            if y < g:
                r.fail(where, "Yellow's days are at least Green's.")
            by_priority[int(p)] = DayBands(g, y)
    sup = r.obj(measures.get(SUPPORT, {}), "measures.support", {"weight", "green", "yellow", "urgent_is_red"})
    s_green = r.integer(sup.get("green"), "measures.support.green", hi=100000)
    s_yellow = r.integer(sup.get("yellow"), "measures.support.yellow", hi=100000)
    if s_yellow < s_green:
        r.fail("measures.support", "Yellow's ticket count is at least Green's.")
    urgent = r.boolean(sup.get("urgent_is_red"), "measures.support.urgent_is_red")
    if r.errors:
        raise SpecError(r.errors)
    return HealthSpec(
        green_min=green_min,
        yellow_min=yellow_min,
        band_scores=band_scores,
        red_sentiment_override=override,
        staleness_days=staleness,
        weights=weights,
        utilization_share=u_share,
        adoption_share=a_share,
        month_breaks=tuple(breaks),
        utilization=tuple(rows),
        adoption_green=ad_green,
        adoption_yellow=ad_yellow,
        engagement=by_priority,
        support_green=s_green,
        support_yellow=s_yellow,
        urgent_is_red=urgent,
    )


def _utilization_rows(r: _Reader, raw: Any, *, columns: int) -> list[UtilizationRow]:
    where = "measures.product_usage.utilization"
    if not isinstance(raw, list) or not raw:
        r.fail(where, "Expected a non-empty list of rows.")
        return []
    rows: list[UtilizationRow] = []
    for i, item in enumerate(raw):
        at = f"{where}.{i}"
        row = r.obj(item, at, {"max", "inclusive", "colors"})
        last = i == len(raw) - 1
        top: Decimal | None = None
        if last:
            if row.get("max") is not None:
                r.fail(f"{at}.max", "The last row has no upper bound (max: null).")
        else:
            top = r.number(row.get("max"), f"{at}.max", hi=100000)
        inclusive = r.boolean(row.get("inclusive", False), f"{at}.inclusive")
        colors = row.get("colors")
        if not isinstance(colors, list) or len(colors) != columns:
            r.fail(f"{at}.colors", f"Expected {columns} colors, one per contract-age column.")
            colors = [RED] * columns
        rows.append(UtilizationRow(top, inclusive, tuple(r.color(c, f"{at}.colors.{j}") for j, c in enumerate(colors))))
    bounds = [row.max for row in rows[:-1] if row.max is not None]
    if len(bounds) == len(rows) - 1 and any(b >= a for b, a in itertools.pairwise(bounds)):
        r.fail(where, "Row bounds increase from top to bottom.")
    for i in range(1, len(rows)):
        for col in range(columns):
            if COLOR_RANK[rows[i].colors[col]] < COLOR_RANK[rows[i - 1].colors[col]]:
                r.fail(
                    f"{where}.{i}.colors.{col}",
                    "More utilization cannot rate worse than less at the same contract age.",
                )
    return rows


# --- Words for people (the model editor and the version pages) --------------------------------------------------


def _pct_word(d: Decimal | str) -> str:
    return f"{Decimal(str(d)).normalize():f}%"


def month_column_labels(month_breaks: list[int] | tuple[int, ...]) -> list[str]:
    """The utilization table's column headings: ``[2, 6, 9]`` -> under 2 months, 2-5, 6-8, 9+ months."""
    if not month_breaks:
        return ["any contract age"]
    labels = [f"under {month_breaks[0]} months"]
    for start, end in itertools.pairwise(month_breaks):
        labels.append(f"{start} months" if end - start == 1 else f"{start}-{end - 1} months")
    labels.append(f"{month_breaks[-1]}+ months")
    return labels


def utilization_row_labels(rows: list[tuple[Any, bool]]) -> list[str]:
    """Each utilization row's range in words from its ``(max, inclusive)`` and the row above it:
    ``[("10", False), ("50", True), (None, False)]`` -> under 10%, 10% to 50%, over 50%."""
    labels: list[str] = []
    lower: str | None = None  # how the row above ended: "10%" (from 10% on) or "over 50%"
    for top, inclusive in rows:
        if top is None:
            labels.append("any" if lower is None else (lower if lower.startswith("over") else f"{lower} and more"))
            break
        upper = _pct_word(top)
        if lower is None:
            labels.append(f"up to {upper}" if inclusive else f"under {upper}")
        else:
            labels.append(f"{lower} to {upper}" + ("" if inclusive else " (excluded)"))
        lower = f"over {upper}" if inclusive else upper
    return labels


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _place_label(place: str) -> str:
    parts = place.split(".")
    names = {
        "bands.green": "Overall bands: Green from",
        "bands.yellow": "Overall bands: Yellow from",
        "red_sentiment_override": "A Red TAM sentiment makes the score Red",
        "staleness_days": "A sentiment is stale after (days)",
        "measures.product_usage.utilization_share": "Product usage: utilization share",
        "measures.product_usage.adoption_share": "Product usage: adoption share",
        "measures.product_usage.month_breaks": "Product usage: utilization table columns (months)",
        "measures.product_usage.utilization": "Product usage: utilization table",
        "measures.product_usage.adoption.green": "Use-case adoption: Green from",
        "measures.product_usage.adoption.yellow": "Use-case adoption: Yellow from",
        "measures.support.green": "Support: Green up to (tickets a month)",
        "measures.support.yellow": "Support: Yellow up to (tickets a month)",
        "measures.support.urgent_is_red": "Support: an open urgent ticket makes it Red",
    }
    if place in names:
        return names[place]
    if parts[0] == "band_scores" and len(parts) == 2:
        return f"Score of a {COLOR_LABELS.get(parts[1], parts[1])} measure"
    if parts[0] == "measures" and len(parts) == 3 and parts[2] == "weight":
        return f"Weight: {MEASURE_LABELS.get(parts[1], parts[1])}"
    if parts[:3] == ["measures", "engagement", "by_priority"] and len(parts) == 5:
        return f"Engagement, priority {parts[3]}: {COLOR_LABELS.get(parts[4], parts[4])} up to (days)"
    return place


def _value_word(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value_word(v) for v in value)
    return str(value)


def definition_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """What changed from one definition to the next, for people: ``(what, before, after)`` per changed setting.

    The utilization table is compared as a whole (a row added or moved changes every row below it), and shown
    cell by cell with its row and column in words when only colors changed.
    """
    if before is None:
        return []
    old = _flatten(before)
    new = _flatten(after)
    table = "measures.product_usage.utilization"
    changes: list[tuple[str, str, str]] = []
    for place in [p for p in new if p != table] + [p for p in old if p not in new and p != table]:
        if old.get(place) != new.get(place):
            changes.append((_place_label(place), _value_word(old.get(place)), _value_word(new.get(place))))
    old_rows, new_rows = old.get(table) or [], new.get(table) or []
    if old_rows != new_rows:
        same_shape = (
            len(old_rows) == len(new_rows)
            and all(
                (a.get("max"), a.get("inclusive"), len(a.get("colors", [])))
                == (b.get("max"), b.get("inclusive"), len(b.get("colors", [])))
                for a, b in zip(old_rows, new_rows, strict=True)
            )
            and old.get("measures.product_usage.month_breaks") == new.get("measures.product_usage.month_breaks")
        )
        if same_shape:
            rows = utilization_row_labels([(r.get("max"), bool(r.get("inclusive"))) for r in new_rows])
            cols = month_column_labels(list(new.get("measures.product_usage.month_breaks") or []))
            for i, (a, b) in enumerate(zip(old_rows, new_rows, strict=True)):
                for j, (ca, cb) in enumerate(zip(a["colors"], b["colors"], strict=True)):
                    if ca != cb:
                        where = f"Utilization {rows[i]} at {cols[j] if j < len(cols) else j}"
                        changes.append((where, COLOR_LABELS.get(ca, ca), COLOR_LABELS.get(cb, cb)))
        else:

            def shape(rows: list[Any]) -> str:
                labels = utilization_row_labels([(r.get("max"), bool(r.get("inclusive"))) for r in rows])
                return "; ".join(
                    f"{label}: {'/'.join(COLOR_LABELS.get(c, c) for c in r.get('colors', []))}"
                    for label, r in zip(labels, rows, strict=False)
                )

            changes.append(("Product usage: utilization table", shape(old_rows), shape(new_rows)))
    return changes


def definition_summary(definition: Any) -> dict[str, Any]:
    """A valid definition laid out for reading: weights with their share of the score, the utilization table with
    its rows and columns in words, engagement days per priority (``None``: not rated)."""
    spec = parse_spec(definition)
    total = sum(spec.weights.values(), Decimal(0))
    return {
        "spec": spec,
        "weights": [
            (
                MEASURE_LABELS[k],
                _pct_word(spec.weights[k]),
                _pct_word((spec.weights[k] * 100 / total).quantize(Decimal("0.1"))) if total else "0%",
            )
            for k in MEASURES
        ],
        "weight_total": _pct_word(total),
        "columns": month_column_labels(spec.month_breaks),
        "rows": [
            (label, list(row.colors))
            for label, row in zip(
                utilization_row_labels([(r.max, r.inclusive) for r in spec.utilization]), spec.utilization, strict=True
            )
        ],
        "engagement": [(p, spec.engagement.get(p)) for p in (1, 2, 3, 4)],
        "usage_shares": (_pct_word(spec.utilization_share), _pct_word(spec.adoption_share)),
        "adoption": (_pct_word(spec.adoption_green), _pct_word(spec.adoption_yellow)),
    }
