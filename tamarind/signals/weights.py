"""Suggested health-model weights (issue 15): a logistic regression of the judged outcomes on the health measures'
trouble before them, fitted with scikit-learn, and what the fitted weights would do to precision and recall.

The data is the back-test's (``selectors``): the judged accounts (first churn or contraction, else the latest
renewal) over what the user may see with the page's filters, and the signal intervals before each outcome.

The design matrix. The stored history keeps each day's overall score (``HealthHistory``) but not each measure's
score on a past day, so a measure's state before an outcome is read from the early-warning indicators that check
the same facts as the measure (``MEASURE_INDICATORS``): a measure's input for an account is the share of its
indicators that fired within the horizon (the back-test's widest) before the outcome, 0 to 1. The TAM sentiment
has no such indicator (a poor survey is the customer's word, not the TAM's; a renewal with non-green health reads
the score itself), so its weight is not fitted: it keeps the current weight, and the page says so. A measure whose
input never varies over the accounts judged (it fired for none, or for all) cannot be fitted either and keeps its
weight.

The fit. Inputs standardised (``StandardScaler``), an L2-regularised ``LogisticRegression`` (``C`` = 1), the
outcome bad = churned or contracted. It is refused with a reason, never a number: no judged outcome, one class
only (every judged account bad, or none), fewer bad outcomes than the back-test's minimum, no measure that varies,
and a fit that does not converge (scikit-learn's ``ConvergenceWarning``, caught, not shown as a result).

From coefficients to weights. The health score is a weighted average of measure scores in which a measure in
trouble (Red) scores low; the logistic model says how much a measure in trouble raises the log-odds of a bad outcome.
A coefficient fitted on standardised inputs is divided by the input's standard deviation to give it per unit of
the input (all inputs are 0..1 shares, "no indicator fired" to "all fired", so these are comparable across
measures), negative ones (trouble that went with *better* outcomes: no reason to lower the score for it) count as
0, and the fitted measures share the weight they have now in proportion to those per-unit coefficients. The
measures not fitted keep theirs, so the total (and the sentiment's share) is unchanged.

The effect. The same judged accounts are scored under the current and the fitted weights with the model's own
rules applied to these inputs: a measure's score runs from the model's Green band score (no indicator fired) to its
Red band score (all fired), the sentiment (no data here) passes its weight on to the others in proportion as a
missing measure does, and an account is flagged when its score falls below the Yellow band (Red) or below the
Green band (not Green), and, as the bands may flag few accounts from these inputs, at the same flagged share for
both (the lowest-scored accounts, as many as churned or contracted). Precision and recall of each with Wilson 95% intervals (``backtest.wilson``), and each
score's AUC (``backtest.score_fit``). Both are measured on the accounts the fit was made on, so the fitted side is
optimistic; the page says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from tamarind.health.spec import (
    ENGAGEMENT,
    MEASURE_LABELS,
    MEASURES,
    PRODUCT_USAGE,
    SENTIMENT,
    SUCCESS_PLAN,
    SUPPORT,
    HealthSpec,
)
from tamarind.signals import backtest

# The indicators that check the same facts as each measure (``dashboards.indicators``).
MEASURE_INDICATORS: dict[str, tuple[str, ...]] = {
    PRODUCT_USAGE: ("low_utilization", "active_users_falling"),
    SUCCESS_PLAN: ("p1_plan_not_green",),
    ENGAGEMENT: ("no_call",),
    SUPPORT: ("ticket_spike", "open_urgent"),
}
NOT_FITTED_WHY = {
    SENTIMENT: "No indicator reads the TAM's sentiment and its past values are not kept day by day: not fitted.",
}
REGULARISATION_C = 1.0
MAX_ITER = 1000

STATUS_TEXT = {
    "ok": "Fitted.",
    "no_outcomes": "No judged outcome in this window: nothing to fit.",
    "one_class": "Every judged account had the same outcome: a fit needs both accounts that churned or contracted "
    "and accounts that renewed.",
    "too_few": "Too few churned or contracted accounts to fit weights: {bad} judged, at least {min} needed "
    "(the back-test settings' minimum).",
    "no_variation": "No measure's indicators varied over the judged accounts (they fired for none or for all): "
    "nothing to fit.",
    "not_converged": "The fit did not converge within {iters} iterations, so its coefficients are not reliable and "
    "no weights are suggested. More outcomes, or fewer measures that always fire together, usually help.",
    "no_positive": "No measure's trouble went with more churn or contraction in this data (every coefficient is 0 "
    "or below): no weights to suggest.",
    "failed": "The fit failed: {error}",
}


@dataclass(frozen=True)
class WeightRow:
    """One judged account: each fitted measure's input (share of its indicators that fired) and the outcome."""

    account_id: int
    inputs: Mapping[str, float]
    bad: bool


@dataclass
class MeasureWeight:
    """One measure: its current weight, the suggested one, and how the fit saw it."""

    key: str
    label: str
    current: Decimal
    suggested: Decimal
    fitted: bool
    coefficient: float | None = None  # on the standardised input
    per_unit: float | None = None  # per unit of the input (0..1)
    odds_ratio: float | None = None  # exp(per_unit): the odds of a bad outcome, all its indicators firing vs none
    fired_share: float | None = None  # share of judged accounts with any of its indicators firing
    why: str = ""

    @property
    def change(self) -> Decimal:
        return self.suggested - self.current


@dataclass
class Effect:
    """Precision and recall of one set of weights at one threshold over the judged accounts."""

    weights: str  # "current" or "suggested"
    threshold: str  # "red", "not_green" or "share" (the lowest-scored, as many as churned or contracted)
    below: int
    flagged: int
    flagged_bad: int
    precision: backtest.Estimate
    recall: backtest.Estimate


@dataclass
class WeightFit:
    """The fit's outcome: ``status`` ``ok`` or why there is nothing to suggest (``STATUS_TEXT``), the weights,
    and the effect on precision and recall."""

    status: str
    message: str
    judged: int = 0
    bad: int = 0
    horizon: int = 0
    iterations: int | None = None
    measures: list[MeasureWeight] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    auc: dict[str, backtest.Estimate] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def suggested_weights(self) -> dict[str, Decimal]:
        return {m.key: m.suggested for m in self.measures}

    def current_weights(self) -> dict[str, Decimal]:
        return {m.key: m.current for m in self.measures}

    def summary(self) -> dict[str, Any]:
        """The fit as JSON (kept with a draft made from it)."""
        return {
            "status": self.status,
            "judged": self.judged,
            "bad": self.bad,
            "horizon": self.horizon,
            "measures": {
                m.key: {
                    "current": str(m.current),
                    "suggested": str(m.suggested),
                    "fitted": m.fitted,
                    "coefficient": m.coefficient,
                    "odds_ratio": m.odds_ratio,
                }
                for m in self.measures
            },
            "effects": [
                {
                    "weights": e.weights,
                    "threshold": e.threshold,
                    "flagged": e.flagged,
                    "precision": e.precision.value,
                    "recall": e.recall.value,
                }
                for e in self.effects
            ],
        }


def measure_inputs(
    intervals: Mapping[str, Mapping[int, Sequence[tuple[Any, Any]]]],
    judged: Sequence[backtest.Judged],
    *,
    horizon: int,
) -> list[WeightRow]:
    """Each judged account's inputs: per measure, the share of its indicators that fired within ``horizon`` days
    before the outcome (``backtest.lead_before``, the back-test's own rule). ``intervals`` by key, then account."""
    rows = []
    for j in judged:
        inputs = {}
        for measure, keys in MEASURE_INDICATORS.items():
            fired = sum(
                1
                for key in keys
                if backtest.lead_before(intervals.get(key, {}).get(j.account_id, ()), on=j.on, horizon=horizon)
                is not None
            )
            inputs[measure] = fired / len(keys)
        rows.append(WeightRow(j.account_id, inputs, j.bad))
    return rows


def _proportional(budget: Decimal, per_unit: Mapping[str, float]) -> dict[str, Decimal]:
    """``budget`` shared in proportion to the positive parts, in whole numbers that add up to it (largest
    remainders get the rounding)."""
    positive = {k: max(v, 0.0) for k, v in per_unit.items()}
    total = sum(positive.values())
    whole = int(budget)
    exact = {k: whole * v / total for k, v in positive.items()}
    out = {k: int(np.floor(v)) for k, v in exact.items()}
    left = whole - sum(out.values())
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[: max(left, 0)]:
        out[k] += 1
    return {k: Decimal(v) for k, v in out.items()}


def fit_weights(
    rows: Sequence[WeightRow],
    *,
    current: Mapping[str, Decimal],
    min_outcomes: int,
    horizon: int = 0,
    max_iter: int = MAX_ITER,
    c: float = REGULARISATION_C,
) -> WeightFit:
    """Fit the weights (see the module docstring). Never raises for the data: a fit that cannot be made comes
    back with its ``status`` and an explanation, the current weights unchanged."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    n = len(rows)
    bad = sum(1 for r in rows if r.bad)
    fit = WeightFit(status="ok", message="", judged=n, bad=bad, horizon=horizon)
    fit.measures = [
        MeasureWeight(
            key=m,
            label=MEASURE_LABELS[m],
            current=Decimal(current.get(m, 0)),
            suggested=Decimal(current.get(m, 0)),
            fitted=False,
            why=NOT_FITTED_WHY.get(m, ""),
        )
        for m in MEASURES
    ]
    by_key = {m.key: m for m in fit.measures}

    def refuse(status: str, **fmt: Any) -> WeightFit:
        fit.status = status
        fit.message = STATUS_TEXT[status].format(**fmt)
        return fit

    if n == 0:
        return refuse("no_outcomes")
    if bad == 0 or bad == n:
        return refuse("one_class")
    if bad < max(min_outcomes, 1):
        return refuse("too_few", bad=bad, min=max(min_outcomes, 1))
    columns = []
    for measure in MEASURE_INDICATORS:
        values = np.array([r.inputs.get(measure, 0.0) for r in rows], dtype=float)
        by_key[measure].fired_share = float(np.mean(values > 0))
        if float(np.ptp(values)) == 0.0:
            by_key[measure].why = "Its indicators fired for none or for all of the judged accounts: not fitted."
            continue
        columns.append(measure)
    if not columns:
        return refuse("no_variation")
    x = np.array([[r.inputs.get(m, 0.0) for m in columns] for r in rows], dtype=float)
    y = np.array([1 if r.bad else 0 for r in rows])
    scaler = StandardScaler()
    model = LogisticRegression(C=c, max_iter=max_iter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            model.fit(scaler.fit_transform(x), y)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            return refuse("failed", error=str(exc)[:300])
    fit.iterations = int(np.max(model.n_iter_))
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return refuse("not_converged", iters=max_iter)
    coefs = model.coef_[0]
    per_unit: dict[str, float] = {}
    for measure, coef, scale in zip(columns, coefs, scaler.scale_, strict=True):
        m = by_key[measure]
        m.fitted = True
        m.coefficient = float(coef)
        m.per_unit = float(coef / scale) if scale > 0 else 0.0
        m.odds_ratio = float(np.exp(m.per_unit)) if abs(m.per_unit) < 700 else None
        m.why = (
            "Trouble here went with more churn or contraction."
            if m.per_unit > 0
            else "Trouble here did not go with more churn or contraction: weight 0."
        )
        per_unit[measure] = m.per_unit
    if not any(v > 0 for v in per_unit.values()):
        for measure in columns:
            by_key[measure].fitted = False
        return refuse("no_positive")
    budget = sum((by_key[m].current for m in columns), Decimal(0))
    if budget <= 0:  # the fitted measures weigh nothing today: give them what the model's total leaves (or 100)
        total = sum((m.current for m in fit.measures), Decimal(0))
        budget = total if total > 0 else Decimal(100)
    for measure, weight in _proportional(budget, per_unit).items():
        by_key[measure].suggested = weight
    if all(m.suggested == 0 for m in fit.measures):
        return refuse("no_positive")
    fit.message = STATUS_TEXT["ok"]
    return fit


def _scores(rows: Sequence[WeightRow], weights: Mapping[str, Decimal], spec: HealthSpec) -> list[float | None]:
    """Each account's score under ``weights`` from its inputs (see "The effect" in the module docstring)."""
    green, red = float(spec.band_scores["green"]), float(spec.band_scores["red"])
    present = [m for m in MEASURE_INDICATORS if float(weights.get(m, 0)) > 0]
    total = sum(float(weights[m]) for m in present)
    out: list[float | None] = []
    for r in rows:
        if total <= 0:
            out.append(None)
            continue
        score = sum(float(weights[m]) * (green - (green - red) * r.inputs.get(m, 0.0)) for m in present) / total
        out.append(score)
    return out


def _share_cut(scores: Sequence[float | None], k: int, clear: float) -> float:
    """The score at or below which the ``k`` lowest-scored accounts fall (ties at the cut are all flagged, so a
    few more may be); never a score with no trouble at all (``clear``): those are not flagged."""
    ordered = sorted(s for s in scores if s is not None)
    if not ordered or k <= 0:
        return -1.0
    cut = ordered[min(k, len(ordered)) - 1]
    if cut >= clear:
        below = [s for s in ordered if s < clear]
        return below[-1] if below else -1.0
    return cut


def effects(rows: Sequence[WeightRow], fit: WeightFit, spec: HealthSpec, *, min_outcomes: int) -> None:
    """Fill ``fit.effects`` and ``fit.auc``: precision and recall of the current and the suggested weights at the
    Red and the not-Green thresholds and at the same flagged share (the lowest-scored accounts, as many as churned
    or contracted: the two weightings compared by their ranking alone), and each score's AUC, over ``rows``."""
    thresholds = (("red", float(spec.yellow_min)), ("not_green", float(spec.green_min)))
    bad = [r.bad for r in rows]
    n_bad = sum(bad)
    for name, weights in (("current", fit.current_weights()), ("suggested", fit.suggested_weights())):
        scores = _scores(rows, weights, spec)
        for threshold, below in (*thresholds, ("share", _share_cut(scores, n_bad, float(spec.band_scores["green"])))):
            flags = [s is not None and (s <= below if threshold == "share" else s < below) for s in scores]
            flagged = sum(flags)
            flagged_bad = sum(1 for f, b in zip(flags, bad, strict=True) if f and b)
            fit.effects.append(
                Effect(
                    weights=name,
                    threshold=threshold,
                    below=round(below),
                    flagged=flagged,
                    flagged_bad=flagged_bad,
                    precision=backtest.wilson(flagged_bad, flagged),
                    recall=backtest.wilson(flagged_bad, n_bad),
                )
            )
        pairs = [(None if s is None else round(s), b) for s, b in zip(scores, bad, strict=True)]
        fit.auc[name] = backtest.score_fit(pairs, min_outcomes=min_outcomes).auc


def caveats(fit: WeightFit) -> list[str]:
    """What to keep in mind reading the fit (shown with it)."""
    out = [
        "Measured on the same accounts the weights were fitted on: the suggested weights' precision and recall are "
        "optimistic.",
        f"A measure's state before an outcome is read from the indicators that check its facts, firing within "
        f"{fit.horizon} days before the outcome; the stored history does not keep each measure's past score.",
        "The TAM sentiment's weight is not fitted (no stored history of it): it keeps its current weight.",
        "Weights only: the bands, the utilization table and the other rules of the model are unchanged.",
    ]
    if fit.ok and fit.bad < 30:
        out.append(f"Only {fit.bad} churned or contracted accounts: expect the weights to move as outcomes arrive.")
    return out


def effect(fit: WeightFit, weights: str, threshold: str) -> Effect | None:
    for e in fit.effects:
        if e.weights == weights and e.threshold == threshold:
            return e
    return None


# --- Reading the book ---------------------------------------------------------------------------------------------


@dataclass
class Suggestion:
    """The page's figures: the fit over what the user may see with the filters, and the live model it is beside."""

    fit: WeightFit
    live_version: int
    start: Any = None
    end: Any = None


def suggest_weights(*, user: Any, filters: Any) -> Suggestion:
    """Fit the weights over the judged accounts ``user`` may see with ``filters`` (``selectors.BacktestFilters``)
    and measure their effect. A fixed number of queries: the settings, the judged outcomes, the intervals of the
    measures' indicators, the live model (and the iteration, when filtering by one without dates)."""
    from tamarind.health.selectors import live_version
    from tamarind.signals import selectors
    from tamarind.signals.models import BacktestSettings

    settings = BacktestSettings.load()
    start, end = selectors._window(filters)
    judged, _ = selectors._judged(user, filters, start, end)
    keys = [key for keys in MEASURE_INDICATORS.values() for key in keys]
    intervals = selectors._intervals([j.account_id for j in judged], keys)
    live = live_version()
    spec = live.spec()
    horizon = max(settings.horizon_days)
    rows = measure_inputs(intervals, judged, horizon=horizon)
    fit = fit_weights(rows, current=spec.weights, min_outcomes=settings.min_outcomes, horizon=horizon)
    if fit.ok:
        effects(rows, fit, spec, min_outcomes=settings.min_outcomes)
    fit.caveats = caveats(fit)
    return Suggestion(fit=fit, live_version=live.version, start=start, end=end)


def draft_definition(definition: Mapping[str, Any], weights: Mapping[str, Decimal]) -> dict[str, Any]:
    """``definition`` (a health model's JSON) with each measure's weight replaced by ``weights``; the rest as is."""
    import copy

    out = copy.deepcopy(dict(definition))
    for key, weight in weights.items():
        out["measures"][key]["weight"] = int(weight) if weight == weight.to_integral_value() else str(weight)
    return out
