"""The pure health scorer: one account's inputs and a health model in, a score that explains itself out.

No database, no Django models. Inputs arrive as a ``HealthInputs`` built by the selectors; the model as a
validated ``HealthSpec`` (``tamarind.health.spec``). The result carries every measure (input value, band, weight,
effective weight after redistribution, contribution, when its input was updated), the measure dragging the score
down most, the red-sentiment override and the staleness flag, so no score is a black box (domain section 6).

Rules:

- each present measure scores 0-100 and has a color; a measure judged by color scores its band's score;
- overall = weighted average of the measures present (a missing one passes its weight on proportionally), rounded
  half up to a whole number; its color is its band, except that a Red sentiment makes it Red when the model says so;
- no measure present: no score at all (``score`` and ``color`` are ``None``);
- product usage = utilization share x utilization score + adoption share x adoption score over the parts present;
- engagement: days since the last call or meeting against the account priority's bands; not rated for priorities
  the model has no bands for, nor for an account with no call or meeting ever logged;
- support: tickets opened in the last 30 days against its bands; an open urgent ticket makes it Red;
- success plan: absent until success plans exist (its input is always ``None`` today).

A measure keeps the facts it was judged on (counts, dates: ``MeasureResult.facts``), never text that moves with
the day: "41 days since the last call" is rendered when it is read (``measure_text``), so a score stored yesterday
is still today's until a band really moves. ``rescore_on`` names the first day on which that can happen for the
same inputs (an engagement band's edge, the utilization table's next contract-age column, the sentiment turning
stale): the recompute rescores an account whose inputs did not move only from that day.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from json.encoder import encode_basestring_ascii as _str
from operator import attrgetter
from typing import Any, NamedTuple

from tamarind.health.spec import (
    ENGAGEMENT,
    GREEN,
    MEASURE_LABELS,
    MEASURES,
    PRODUCT_USAGE,
    RED,
    SENTIMENT,
    SUCCESS_PLAN,
    SUPPORT,
    YELLOW,
    HealthSpec,
)

HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class HealthInputs:
    """What the scorer sees of one account. ``None`` means "not known": that part or measure is missing."""

    priority: int = 1
    contract_start: dt.date | None = None
    sentiment: str | None = None
    sentiment_at: dt.date | None = None
    licenses: int | None = None
    active_users: int | None = None
    use_cases_adopted: int | None = None
    use_cases_total: int | None = None
    usage_updated_at: dt.date | None = None
    last_engagement: dt.date | None = None
    tickets_last_30d: int | None = None
    open_urgent_tickets: int = 0
    tickets_updated_at: dt.date | None = None
    success_plan: str | None = None
    success_plan_at: dt.date | None = None


_INPUT_FIELDS = tuple(f.name for f in fields(HealthInputs))
_INPUT_VALUES = attrgetter(*_INPUT_FIELDS)


def astuple_fast(inputs: HealthInputs) -> tuple[Any, ...]:
    """The inputs' values in field order (``dataclasses.astuple`` deep-copies each one: too slow per account; one
    ``attrgetter`` of every field reads them in C)."""
    values: tuple[Any, ...] = _INPUT_VALUES(inputs)
    return values


Facts = tuple[tuple[str, Any], ...]


class MeasureResult(NamedTuple):
    """One measure of one score: what went in and what it gave (a named tuple: a full recompute builds five per
    account, and a frozen dataclass costs several times more to create)."""

    key: str
    facts: Facts  # the inputs it was judged on, as (name, value) pairs: counts and dates, no day-dependent text
    score: int | None  # None: missing
    band: str | None
    weight: Decimal  # the model's weight (percent)
    effective_weight: Decimal  # after redistribution (percent of the whole; 0 when missing)
    contribution: Decimal  # points of the overall score (effective weight x score / 100)
    updated_at: dt.date | None

    @property
    def label(self) -> str:
        return MEASURE_LABELS[self.key]

    @property
    def present(self) -> bool:
        return self.score is not None

    def text(self, today: dt.date) -> str:
        """The input as shown on ``today`` ("62% utilization (31/50, month 7)", "41 days since the last call")."""
        return measure_text(self.key, dict(self.facts), today=today)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "facts": {name: value.isoformat() if isinstance(value, dt.date) else value for name, value in self.facts},
            "score": self.score,
            "band": self.band,
            "weight": str(self.weight),
            "effective_weight": str(self.effective_weight),
            "contribution": str(self.contribution),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


class HealthResult(NamedTuple):
    score: int | None
    color: str | None
    measures: tuple[MeasureResult, ...]
    red_override: bool
    drag: str | None  # key of the measure that costs the most points; None at 100 or with no score
    stale: bool

    def measure(self, key: str) -> MeasureResult:
        return next(m for m in self.measures if m.key == key)

    def breakdown(self) -> dict[str, Any]:
        """The JSON stored with a score: enough to show its explanation without recomputing."""
        return {
            "measures": [m.to_json() for m in self.measures],
            "red_override": self.red_override,
            "drag": self.drag,
        }

    def breakdown_json(self) -> str:
        """``breakdown()`` as JSON text, written directly: a full recompute stores one per account, and going through
        dicts and ``json.dumps`` cost a fifth of its time. ``json.loads`` of it equals ``breakdown()``."""
        return _breakdown_text([_measure_json(m) for m in self.measures], self.red_override, self.drag)


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return _str(value.isoformat())
    return _str(value)


def _measure_json(m: MeasureResult) -> str:
    """One measure of a breakdown as JSON text (``MeasureResult.to_json`` written directly)."""
    facts = ",".join(f"{_str(name)}:{_json_value(value)}" for name, value in m.facts)
    return (
        f'{{"key":{_str(m.key)},"facts":{{{facts}}},"score":{"null" if m.score is None else m.score},'
        f'"band":{"null" if m.band is None else _str(m.band)},"weight":"{m.weight}",'
        f'"effective_weight":"{m.effective_weight}","contribution":"{m.contribution}",'
        f'"updated_at":{"null" if m.updated_at is None else _str(m.updated_at.isoformat())}}}'
    )


def _breakdown_text(measures: list[str], red_override: bool, drag: str | None) -> str:
    drag_text = "null" if drag is None else _str(drag)
    override = "true" if red_override else "false"
    return f'{{"measures":[{",".join(measures)}],"red_override":{override},"drag":{drag_text}}}'


def months_between(start: dt.date, today: dt.date) -> int:
    """Whole months from ``start`` to ``today`` (0 before the first month is complete, never negative)."""
    months = (today.year - start.year) * 12 + today.month - start.month - (1 if today.day < start.day else 0)
    return max(months, 0)


def utilization_color(spec: HealthSpec, pct: Decimal, months: int | None) -> str:
    """The color of a utilization percentage at a contract age; an unknown age is judged as the oldest column."""
    # The breaks increase (the spec validates it): the column is how many of them the age has reached.
    column = len(spec.month_breaks) if months is None else bisect_right(spec.month_breaks, months)
    row = next(r for r in spec.utilization if r.contains(pct))
    return row.colors[column]


def _band_of_count(value: int, green: int, yellow: int) -> str:
    """Green up to ``green`` inclusive, Yellow up to ``yellow``, Red above."""
    if value <= green:
        return GREEN
    if value <= yellow:
        return YELLOW
    return RED


def _pct(part: int, whole: int) -> Decimal:
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(TWO_PLACES, ROUND_HALF_UP)


def _fmt(d: Decimal) -> str:
    return f"{d.normalize():f}"


def _usage(spec: HealthSpec, inputs: HealthInputs, today: dt.date) -> tuple[int | None, Facts]:
    parts: list[tuple[Decimal, int]] = []
    facts: list[tuple[str, Any]] = []
    if inputs.licenses and inputs.active_users is not None and inputs.active_users >= 0:
        pct = _pct(inputs.active_users, inputs.licenses)
        months = None if inputs.contract_start is None else months_between(inputs.contract_start, today)
        parts.append((spec.utilization_share, spec.band_scores[utilization_color(spec, pct, months)]))
        facts += [
            ("active_users", inputs.active_users),
            ("licenses", inputs.licenses),
            ("contract_start", inputs.contract_start),
        ]
    if inputs.use_cases_total and inputs.use_cases_adopted is not None:
        adopted = min(max(inputs.use_cases_adopted, 0), inputs.use_cases_total)
        pct = _pct(adopted, inputs.use_cases_total)
        color = GREEN if pct >= spec.adoption_green else YELLOW if pct >= spec.adoption_yellow else RED
        parts.append((spec.adoption_share, spec.band_scores[color]))
        facts += [("use_cases_adopted", adopted), ("use_cases_total", inputs.use_cases_total)]
    if not parts:
        return None, ()
    if len(parts) == 1:
        share, part = parts[0]
        return (None, ()) if share == 0 else (part, tuple(facts))
    total_share = parts[0][0] + parts[1][0]
    if total_share == 0:
        return None, ()
    value = (parts[0][0] * parts[0][1] + parts[1][0] * parts[1][1]) / total_share
    return int(value.quantize(Decimal(1), ROUND_HALF_UP)), tuple(facts)


def _measure(
    spec: HealthSpec, key: str, inputs: HealthInputs, today: dt.date
) -> tuple[int | None, Facts, dt.date | None]:
    """A measure's score (None: missing), the facts it was judged on and when its input was last updated."""
    if key == SENTIMENT:
        if inputs.sentiment is None:
            return None, (), None
        return spec.band_scores[inputs.sentiment], (("color", inputs.sentiment),), inputs.sentiment_at
    if key == SUCCESS_PLAN:
        if inputs.success_plan is None:
            return None, (), None
        return spec.band_scores[inputs.success_plan], (("color", inputs.success_plan),), inputs.success_plan_at
    if key == PRODUCT_USAGE:
        score, facts = _usage(spec, inputs, today)
        return score, facts, inputs.usage_updated_at if score is not None else None
    if key == ENGAGEMENT:
        bands = spec.engagement.get(inputs.priority)
        if bands is None:
            return None, (("priority", inputs.priority), ("rated", False)), inputs.last_engagement
        if inputs.last_engagement is None:
            return None, (), None
        days = max((today - inputs.last_engagement).days, 0)
        color = _band_of_count(days, bands.green, bands.yellow)
        return spec.band_scores[color], (("last_engagement", inputs.last_engagement),), inputs.last_engagement
    if key == SUPPORT:
        if inputs.tickets_last_30d is None:
            return None, (), None
        color = _band_of_count(inputs.tickets_last_30d, spec.support_green, spec.support_yellow)
        if inputs.open_urgent_tickets > 0 and spec.urgent_is_red:
            color = RED
        facts = (("tickets_last_30d", inputs.tickets_last_30d), ("open_urgent", inputs.open_urgent_tickets))
        return spec.band_scores[color], facts, inputs.tickets_updated_at
    raise KeyError(key)


def is_stale(spec: HealthSpec, sentiment_at: dt.date | None, *, today: dt.date) -> bool:
    """A sentiment older than the model's staleness days (exactly that many days old is still fresh)."""
    return sentiment_at is not None and (today - sentiment_at).days > spec.staleness_days


def _day(value: Any) -> dt.date | None:
    """A fact's date: a ``date`` from the scorer, ISO text from a stored breakdown."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


MISSING_TEXT = {
    SENTIMENT: "no health review yet",
    SUCCESS_PLAN: "no success plan",
    PRODUCT_USAGE: "no usage data",
    ENGAGEMENT: "no call or meeting logged",
    SUPPORT: "no support data",
}


def measure_text(key: str, facts: Mapping[str, Any], *, today: dt.date) -> str:
    """A measure's input as shown on ``today``, from the facts it was judged on (a ``MeasureResult``'s, or a stored
    breakdown's): the day counts ("41 days since the last call", "month 7") are worked out here, when read."""
    if not facts:
        return MISSING_TEXT[key]
    if key in (SENTIMENT, SUCCESS_PLAN):
        return str(facts["color"]).capitalize()
    if key == PRODUCT_USAGE:
        shown = []
        if "licenses" in facts:
            active, licenses = int(facts["active_users"]), int(facts["licenses"])
            start = _day(facts.get("contract_start"))
            age = "contract start unknown" if start is None else f"month {months_between(start, today)}"
            shown.append(f"{_fmt(_pct(active, licenses))}% utilization ({active}/{licenses}, {age})")
        if "use_cases_total" in facts:
            shown.append(f"{facts['use_cases_adopted']}/{facts['use_cases_total']} use cases adopted")
        return "; ".join(shown)
    if key == ENGAGEMENT:
        if facts.get("rated") is False:
            return f"not rated for priority {facts['priority']}"
        last = _day(facts["last_engagement"])
        days = max((today - last).days, 0) if last is not None else 0
        return f"{days} days since the last call or meeting"
    if key == SUPPORT:
        text = f"{facts['tickets_last_30d']} tickets in the last 30 days"
        if facts.get("open_urgent"):
            text += f", {facts['open_urgent']} open urgent"
        return text
    raise KeyError(key)


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` on, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _first_day_of_month_count(start: dt.date, months: int) -> dt.date:
    """The first day on which ``months_between(start, day)`` reaches ``months`` (it never decreases)."""
    day = _add_months(start, months)  # never later than the answer; a clamped end of month may be a day or three early
    while months_between(start, day) < months:
        day += dt.timedelta(days=1)
    return day


def rescore_on(spec: HealthSpec, inputs: HealthInputs, *, today: dt.date) -> dt.date | None:
    """The first day after ``today`` on which the same inputs may score differently because only the day moved:
    the next edge of the engagement bands, the utilization table's next contract-age column, the day the sentiment
    turns stale. ``None``: never. Until then ``score(inputs, day)`` is ``score(inputs, today)`` (a property test
    holds it), so a recompute may skip an account whose inputs did not move."""
    days: list[dt.date] = []
    bands = spec.engagement.get(inputs.priority)
    if bands is not None and inputs.last_engagement is not None:
        days += [inputs.last_engagement + dt.timedelta(days=edge + 1) for edge in (bands.green, bands.yellow)]
    if inputs.licenses and inputs.active_users is not None and inputs.contract_start is not None:
        months = months_between(inputs.contract_start, today)
        later = [b for b in spec.month_breaks if b > months]
        if later:
            days.append(_first_day_of_month_count(inputs.contract_start, later[0]))
    if inputs.sentiment is not None and inputs.sentiment_at is not None:
        days.append(inputs.sentiment_at + dt.timedelta(days=spec.staleness_days + 1))
    later_days = [d for d in days if d > today]
    return min(later_days) if later_days else None


class _Aggregate(NamedTuple):
    """The arithmetic of one set of measure scores: each measure's effective weight and contribution, the overall
    score (None when no measure is present) and the drag."""

    effective: tuple[Decimal, ...]
    contribution: tuple[Decimal, ...]
    overall: int | None
    drag: str | None


ZERO = Decimal(0).quantize(TWO_PLACES)


def _aggregate(spec: HealthSpec, scores: tuple[int | None, ...]) -> _Aggregate:
    """Weighted average of the measures present (``scores`` in ``MEASURES`` order; None: missing), a missing
    measure's weight passed on proportionally, rounded half up."""
    present_weight = sum((spec.weights[k] for k, s in zip(MEASURES, scores, strict=True) if s is not None), Decimal(0))
    if present_weight == 0:
        return _Aggregate((ZERO,) * len(scores), (ZERO,) * len(scores), None, None)
    effective: list[Decimal] = []
    contribution: list[Decimal] = []
    total = Decimal(0)
    for key, s in zip(MEASURES, scores, strict=True):
        if s is None:
            effective.append(ZERO)
            contribution.append(ZERO)
            continue
        e = spec.weights[key] * HUNDRED / present_weight
        c = e * s / HUNDRED
        total += c
        effective.append(e.quantize(TWO_PLACES, ROUND_HALF_UP))
        contribution.append(c.quantize(TWO_PLACES, ROUND_HALF_UP))
    overall = min(max(int(total.quantize(Decimal(1), ROUND_HALF_UP)), 0), 100)
    # The drag: the measure that costs the most points (effective weight x the points it is short of 100);
    # ties go to the first in model order, so the answer is deterministic.
    lost = [(effective[i] * (HUNDRED - s), i) for i, s in enumerate(scores) if s is not None]
    worst = max(lost, key=lambda t: (t[0], -t[1]))
    drag = MEASURES[worst[1]] if worst[0] > 0 else None
    return _Aggregate(tuple(effective), tuple(contribution), overall, drag)


class Scorer:
    """Scores many accounts with one model (a full recompute): the same rules as ``score``, with what repeats across
    a book worked out once — the weighted average of each distinct set of measure scores, each distinct measure
    result and its JSON text (most measures take few values: a sentiment color, a day count, a ticket count). The
    caches are bounded; results are the same as ``score``'s (a property test holds them equal)."""

    CACHE_LIMIT = 50_000

    def __init__(self, spec: HealthSpec) -> None:
        self.spec = spec
        self._aggregates: dict[tuple[int | None, ...], _Aggregate] = {}
        self._measures: dict[tuple[Any, ...], MeasureResult] = {}
        self._texts: dict[MeasureResult, str] = {}

    def score(self, inputs: HealthInputs, *, today: dt.date) -> HealthResult:
        """Score one account; deterministic in its arguments."""
        spec = self.spec
        raw = [(key, *_measure(spec, key, inputs, today)) for key in MEASURES]
        scores = tuple(r[1] for r in raw)
        agg = self._aggregates.get(scores)
        if agg is None:
            agg = self._aggregates[scores] = _aggregate(spec, scores)
        cache = self._measures
        if len(cache) > self.CACHE_LIMIT:
            cache.clear()
        measures = []
        for i, item in enumerate(raw):
            cached = cache.get((item, scores))
            if cached is None:
                key, s, facts, updated = item
                cached = cache[(item, scores)] = MeasureResult(
                    key=key,
                    facts=facts,
                    score=s,
                    band=None if s is None else spec.color_of(s),
                    weight=spec.weights[key],
                    effective_weight=agg.effective[i],
                    contribution=agg.contribution[i],
                    updated_at=updated,
                )
            measures.append(cached)
        stale = is_stale(spec, inputs.sentiment_at if inputs.sentiment is not None else None, today=today)
        if agg.overall is None:
            return HealthResult(None, None, tuple(measures), False, None, stale)
        override = spec.red_sentiment_override and inputs.sentiment == RED
        color = RED if override else spec.color_of(agg.overall)
        return HealthResult(agg.overall, color, tuple(measures), override, agg.drag, stale)

    def rescore_on(self, inputs: HealthInputs, *, today: dt.date) -> dt.date | None:
        """``rescore_on`` under this scorer's model."""
        return rescore_on(self.spec, inputs, today=today)

    def breakdown_json(self, result: HealthResult) -> str:
        """``result.breakdown_json()``, with each distinct measure's text written once."""
        texts = self._texts
        if len(texts) > self.CACHE_LIMIT:
            texts.clear()
        parts = []
        for m in result.measures:
            text = texts.get(m)
            if text is None:
                text = texts[m] = _measure_json(m)
            parts.append(text)
        return _breakdown_text(parts, result.red_override, result.drag)


def score(definition: HealthSpec, inputs: HealthInputs, *, today: dt.date) -> HealthResult:
    """Score one account; deterministic in its arguments."""
    return Scorer(definition).score(inputs, today=today)
