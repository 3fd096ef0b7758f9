"""The back-test's pure functions against a plain restatement, and a simulated book (one predictive signal,
one noise signal) where the intervals must find the first, not the second, and cover the truth."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tamarind.signals import backtest
from tamarind.signals.backtest import Judged

D0 = dt.date(2025, 1, 1)


def plain(judged, intervals, horizon):  # type: ignore[no-untyped-def]
    """The definitions restated day by day (the slow, obvious way)."""
    fired, leads = [], []
    for j in judged:
        days_firing = []
        for back in range(1, horizon + 1):
            day = j.on - dt.timedelta(days=back)
            if any(s <= day and (e is None or day < e) for s, e in intervals.get(j.account_id, [])):
                days_firing.append(back)
        if days_firing:
            fired.append(j)
            if j.bad:
                leads.append(max(days_firing))
    bad = [j for j in judged if j.bad]
    tp = [j for j in fired if j.bad]
    precision = len(tp) / len(fired) if fired else None
    recall = len(tp) / len(bad) if bad else None
    base = len(bad) / len(judged)
    lift = precision / base if precision is not None and base else None
    leads.sort()
    n = len(leads)
    median = None if not n else (leads[n // 2] if n % 2 else (leads[n // 2 - 1] + leads[n // 2]) / 2)
    return len(fired), precision, recall, lift, median


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("horizon", [30, 90, 365])
def test_line_matches_plain_restatement(seed: int, horizon: int) -> None:
    rng = random.Random(seed)
    judged = [Judged(a, D0 + dt.timedelta(days=rng.randrange(200, 700)), rng.random() < 0.4) for a in range(60)]
    intervals: dict[int, list[tuple[dt.date, dt.date | None]]] = {}
    for a in range(60):
        spells = []
        day = D0
        for _ in range(rng.randrange(0, 4)):
            day += dt.timedelta(days=rng.randrange(1, 200))
            end = day + dt.timedelta(days=rng.randrange(1, 120))
            spells.append((day, None if rng.random() < 0.1 else end))
            day = end
        intervals[a] = spells
    line = backtest.signal_line("k", judged, intervals, horizon=horizon, min_outcomes=1)
    fired, precision, recall, lift, median = plain(judged, intervals, horizon)
    assert line.fired == fired
    if fired == 0:
        assert line.status == "never_fired"
        return
    assert line.status == "ok"
    assert line.precision.value == pytest.approx(precision)
    assert line.recall.value == pytest.approx(recall)
    assert line.lift.value == pytest.approx(lift)
    assert line.lead_days.value == (pytest.approx(median) if median is not None else None)
    assert line.precision.low <= line.precision.value <= line.precision.high


def test_known_answers() -> None:
    on = dt.date(2025, 7, 1)
    judged = [Judged(1, on, True), Judged(2, on, True), Judged(3, on, False), Judged(4, on, False)]
    intervals = {
        1: [(on - dt.timedelta(days=40), None)],  # fired 40 days before: lead 40
        2: [(on - dt.timedelta(days=400), on - dt.timedelta(days=300))],  # ended before the 90-day window
        3: [(on - dt.timedelta(days=10), on - dt.timedelta(days=5))],
        4: [(on, None)],  # started on the outcome day: not before it
    }
    line = backtest.signal_line("k", judged, intervals, horizon=90, min_outcomes=1)
    assert (line.fired, line.fired_bad, line.bad) == (2, 1, 2)
    assert line.precision.value == 0.5 and line.recall.value == 0.5
    assert line.lift.value == 1.0 and line.lead_days.value == 40
    wide = backtest.signal_line("k", judged, intervals, horizon=365, min_outcomes=1)
    assert (wide.fired, wide.fired_bad) == (3, 2)
    assert wide.lead_days.value == pytest.approx((40 + 365) / 2)


def test_bad_input_never_divides_by_zero() -> None:
    assert backtest.signal_line("k", [], {}, horizon=90, min_outcomes=1).status == "no_outcomes"
    good_only = [Judged(1, D0, False)]
    assert backtest.signal_line("k", good_only, {}, horizon=90, min_outcomes=1).status == "too_few"
    few = [Judged(1, D0, True), Judged(2, D0, False)]
    assert backtest.signal_line("k", few, {}, horizon=90, min_outcomes=5).status == "too_few"
    line = backtest.signal_line("k", few, {}, horizon=90, min_outcomes=1)
    assert line.status == "never_fired" and line.precision.value is None
    # One bad account fired for: a single lead time has no bootstrap interval, but a value.
    one = backtest.signal_line("k", few, {1: [(D0 - dt.timedelta(days=3), None)]}, horizon=90, min_outcomes=1)
    assert one.lead_days.value == 3 and one.lead_days.low is None


def test_judge_first_bad_else_last_good_and_before_birth() -> None:
    born = {1: dt.date(2025, 1, 1), 2: dt.date(2025, 1, 1)}
    outcomes = [
        (1, dt.date(2025, 6, 1), False),
        (1, dt.date(2025, 9, 1), True),
        (1, dt.date(2025, 8, 1), True),
        (2, dt.date(2024, 6, 1), True),  # before the account existed
        (2, dt.date(2025, 6, 1), False),
        (2, dt.date(2026, 6, 1), False),
    ]
    judged, before = backtest.judge(outcomes, born=born)
    assert before == 1
    assert judged == [Judged(1, dt.date(2025, 8, 1), True), Judged(2, dt.date(2026, 6, 1), False)]
    windowed, _ = backtest.judge(outcomes, born=born, end=dt.date(2025, 12, 31))
    assert windowed[1] == Judged(2, dt.date(2025, 6, 1), False)


def simulated_book(n: int = 600, seed: int = 7):  # type: ignore[no-untyped-def]
    """Hidden risk r ~ U(0,1); churn with probability 0.1 + 0.5 r; the predictive signal fires 60 days before
    the outcome with probability 0.8 r + 0.05, the noise signal with probability 0.3 whatever the risk."""
    rng = random.Random(seed)
    judged, good, noise = [], {}, {}
    for a in range(n):
        risk = rng.random()
        on = D0 + dt.timedelta(days=rng.randrange(0, 365))
        judged.append(Judged(a, on, rng.random() < 0.1 + 0.5 * risk))
        if rng.random() < 0.8 * risk + 0.05:
            good[a] = [(on - dt.timedelta(days=60), on + dt.timedelta(days=10))]
        if rng.random() < 0.3:
            noise[a] = [(on - dt.timedelta(days=60), None)]
    return judged, good, noise


def test_simulated_book_finds_the_predictive_signal_not_the_noise() -> None:
    judged, good, noise = simulated_book()
    g = backtest.signal_line("good", judged, good, horizon=90, min_outcomes=30)
    n = backtest.signal_line("noise", judged, noise, horizon=90, min_outcomes=30)
    assert g.status == n.status == "ok"
    assert g.lift.low is not None and g.lift.low > 1  # found: lift's interval above 1
    assert n.lift.low is not None and n.lift.low < 1 < n.lift.high  # not found: covers 1 (the truth: no lift)
    # The truth for the predictive signal (integrate over the risk): P(bad | fired) / P(bad).
    # P(fired, bad) = E[(0.8r+.05)(0.1+0.5r)] = .08/2 + .4/3 + .005 + .025/2; P(fired) = .45; P(bad) = .35
    true_lift = ((0.08 / 2 + 0.4 / 3 + 0.005 + 0.0125) / 0.45) / 0.35
    assert g.lift.low <= true_lift <= g.lift.high
    assert g.lead_days.value == 60


def test_score_fit_auc_and_calibration() -> None:
    rng = random.Random(3)
    pairs: list[tuple[int | None, bool]] = []
    for _ in range(300):
        bad = rng.random() < 0.3
        pairs.append((max(0, min(100, int(rng.gauss(45 if bad else 70, 15)))), bad))
    pairs.append((None, True))
    fit = backtest.score_fit(pairs, min_outcomes=10)
    assert fit.status == "ok" and fit.unscored == 1
    # Plain AUC: share of (good, bad) pairs where the good scored higher (ties count half).
    goods = [s for s, b in pairs if s is not None and not b]
    bads = [s for s, b in pairs if s is not None and b]
    plain_auc = sum((g > b) + 0.5 * (g == b) for g in goods for b in bads) / (len(goods) * len(bads))
    assert fit.auc.value == pytest.approx(plain_auc)
    assert fit.auc.low < fit.auc.value < fit.auc.high
    red = fit.calibration[0]
    assert red["accounts"] == sum(1 for s, _ in pairs if s is not None and s <= 49)
    assert backtest.score_fit([], min_outcomes=1).status == "no_outcomes"
    assert backtest.score_fit([(50, False)], min_outcomes=1).status == "too_few"
