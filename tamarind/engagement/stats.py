"""Figures with their uncertainty, from SciPy: a share with its exact (Clopper-Pearson) 95% interval, a mean with
a bootstrap 95% interval, and the difference of two groups with a bootstrap interval that says whether the
difference is within the noise (the interval contains 0). Pure functions over numbers; seeded, so a page shows
the same interval on every load.

From ``LARGE`` values up, means and differences take the normal (central limit) interval instead of the bootstrap:
at that size the two agree to within the bootstrap's own resampling noise, and resampling 1,999 times a group of
tens of thousands of accounts is what made a comparison over a large book take seconds per figure.

A difference between a small group and a large one (a cohort of 300 members against 20,000 similar accounts)
takes Welch's t interval from SciPy (``ttest_ind(equal_var=False)``, Satterthwaite's degrees of freedom): the
textbook interval for groups of unequal sizes and variances, where a bootstrap would resample the large group
1,999 times (1,999 x 20,000 values, 300 MB and most of the page's time) to learn what the central limit theorem
already says about its mean."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

CONFIDENCE = 0.95
RESAMPLES = 1999
SEED = 20260101
LARGE = 400  # values per group from which the normal interval replaces the bootstrap


@dataclass(frozen=True)
class Estimate:
    """A figure from ``n`` observations with its 95% interval (``None`` when there is too little data)."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    kind: str = "mean"  # "share" or "mean"

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


@dataclass(frozen=True)
class Difference:
    """``b - a`` with its 95% interval; ``within_noise`` when the interval contains 0 (or cannot be worked out)."""

    value: float | None
    low: float | None
    high: float | None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def within_noise(self) -> bool:
        if self.low is None or self.high is None:
            return True
        return self.low <= 0 <= self.high

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "Not enough data to compare."
        if not self.has_interval:
            return "Too few values for an interval: cannot tell whether it is beyond the noise."
        if self.within_noise:
            return "Within the noise: the 95% interval of the difference includes no difference."
        return "Higher" if self.value > 0 else "Lower"


def share(k: int, n: int) -> Estimate:
    """``k`` of ``n``, with the exact binomial (Clopper-Pearson) 95% interval.

    The interval's ends are the beta quantiles that define it, from SciPy's inverse regularized incomplete beta
    function: the same interval as ``stats.binomtest(k, n).proportion_ci(method="exact")``, which finds them with a
    root finder (to within its 2e-12 tolerance), at a hundredth of the cost."""
    if n <= 0:
        return Estimate(None, 0, kind="share")
    alpha = (1 - CONFIDENCE) / 2
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha))
    high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - alpha))
    return Estimate(k / n, n, low, high, kind="share")


def _z() -> float:
    """The normal quantile of the two-sided ``CONFIDENCE`` interval (1.96 for 95%)."""
    return float(stats.norm.ppf(0.5 + CONFIDENCE / 2))


def _mean(a: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a, axis=axis)


def mean(values: Sequence[float]) -> Estimate:
    """The mean with a percentile bootstrap 95% interval (two or more values; all equal: the interval is the
    value itself)."""
    n = len(values)
    if n == 0:
        return Estimate(None, 0)
    data = np.asarray(values, dtype=float)
    value = float(data.mean())
    if n < 2:
        return Estimate(value, n)
    if np.all(data == data[0]):
        return Estimate(value, n, value, value)
    if n >= LARGE:
        half = _z() * float(data.std(ddof=1)) / n**0.5
        return Estimate(value, n, value - half, value + half)
    res = stats.bootstrap(
        (data,),
        _mean,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(SEED),
        vectorized=True,
    )
    return Estimate(value, n, float(res.confidence_interval.low), float(res.confidence_interval.high))


def _diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(b, axis=axis) - np.mean(a, axis=axis)


def difference(a: Sequence[float], b: Sequence[float], *, seed: int = SEED) -> Difference:
    """Mean of ``b`` minus mean of ``a`` (0/1 values for shares), independent samples: a percentile bootstrap while
    both groups are small, Welch's t interval when one is large, the normal interval when both are."""
    if len(a) == 0 or len(b) == 0:
        return Difference(None, None, None)
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    value = float(xb.mean() - xa.mean())
    if len(a) < 2 or len(b) < 2:
        return Difference(value, None, None)
    if np.all(xa == xa[0]) and np.all(xb == xb[0]):
        return Difference(value, value, value)
    if min(len(a), len(b)) >= LARGE:
        # Welch's standard error of a difference of independent means.
        half = _z() * (float(xa.var(ddof=1)) / len(a) + float(xb.var(ddof=1)) / len(b)) ** 0.5
        return Difference(value, value - half, value + half)
    if max(len(a), len(b)) >= LARGE:
        ci = stats.ttest_ind(xb, xa, equal_var=False).confidence_interval(CONFIDENCE)
        return Difference(value, float(ci.low), float(ci.high))
    res = stats.bootstrap(
        (xa, xb),
        _diff,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
    )
    return Difference(value, float(res.confidence_interval.low), float(res.confidence_interval.high))


def _ratio_parts(pairs: Sequence[tuple[float, float]]) -> tuple[float, float, int] | None:
    """``(R, variance of R, n)`` for ``R = sum(num) / sum(den)``, the variance by linearization (the delta method:
    the ratio estimator's residuals ``num - R * den``); ``None`` when the denominators sum to 0."""
    n = len(pairs)
    if n == 0:
        return None
    data = np.asarray(pairs, dtype=float)
    num, den = data[:, 0], data[:, 1]
    total = float(den.sum())
    if total <= 0:
        return None
    r = float(num.sum()) / total
    if n < 2:
        return r, float("nan"), n
    resid = num - r * den
    var = float((resid**2).sum()) / (n * (n - 1)) / float(den.mean()) ** 2
    return r, var, n


def ratio(pairs: Sequence[tuple[float, float]]) -> Estimate:
    """A ratio of sums (retention: ``sum(kept or end ARR) / sum(start ARR)`` over the accounts), with a 95% normal
    interval from the delta method (two or more accounts). Sums, never an average of per-account ratios."""
    parts = _ratio_parts(pairs)
    if parts is None:
        return Estimate(None, len(pairs), kind="ratio")
    r, var, n = parts
    if n < 2 or np.isnan(var):
        return Estimate(r, n, kind="ratio")
    half = _z() * var**0.5
    return Estimate(r, n, r - half, r + half, kind="ratio")


def ratio_difference(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> Difference:
    """Ratio of ``b`` minus ratio of ``a`` (independent groups), with a 95% normal interval (variances added)."""
    pa, pb = _ratio_parts(a), _ratio_parts(b)
    if pa is None or pb is None:
        return Difference(None, None, None)
    value = pb[0] - pa[0]
    if np.isnan(pa[1]) or np.isnan(pb[1]):
        return Difference(value, None, None)
    half = _z() * (pa[1] + pb[1]) ** 0.5
    return Difference(value, value - half, value + half)
