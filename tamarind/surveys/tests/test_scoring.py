"""The NPS and CSAT arithmetic at its boundaries (pure: no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamarind.surveys import scoring


def test_nps_boundaries() -> None:
    assert scoring.nps(5, 0, 0) == 100  # all promoters
    assert scoring.nps(0, 0, 5) == -100  # all detractors
    assert scoring.nps(0, 7, 0) == 0  # passives only
    assert scoring.nps(0, 0, 0) is None  # no answers


@pytest.mark.parametrize(
    ("p", "n", "d", "expected"),
    [(1, 1, 1, 0), (2, 1, 0, 67), (1, 2, 0, 33), (1, 0, 2, -33), (0, 1, 2, -67), (1, 7, 0, 13), (1, 1, 0, 50)],
)
def test_nps_rounds_half_away_from_zero(p: int, n: int, d: int, expected: int) -> None:
    assert scoring.nps(p, n, d) == expected


@given(st.lists(st.integers(0, 10), max_size=60))
def test_nps_is_promoters_minus_detractors_share(scores: list[int]) -> None:
    f = scoring.figures(("nps", s) for s in scores)
    assert f.nps_answers == len(scores)
    if not scores:
        assert f.nps is None
        return
    exact = Decimal(100) * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    assert abs(Decimal(f.nps) - exact) <= Decimal("0.5") and -100 <= f.nps <= 100  # type: ignore[arg-type]


def test_buckets_at_the_edges() -> None:
    assert [scoring.nps_bucket(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter",
    ]  # fmt: skip


def test_csat_average_and_share_satisfied() -> None:
    f = scoring.figures([("csat", 5), ("csat", 4), ("csat", 3), ("csat", 1)])
    assert f.csat_average == Decimal("3.25") and f.satisfied_pct == 50 and f.csat_answers == 4
    assert scoring.figures([]).csat_average is None and scoring.figures([]).satisfied_pct is None


def test_poor_limits_are_settings() -> None:
    assert scoring.poor_limits({}) == {"nps": 6, "csat": 2}
    limits = scoring.poor_limits({"nps_poor_max": 4, "csat_poor_max": 1})
    assert scoring.is_poor("nps", 4, limits) and not scoring.is_poor("nps", 5, limits)
    assert scoring.is_poor("csat", 1, limits) and not scoring.is_poor("csat", 2, limits)
