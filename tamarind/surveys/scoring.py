"""The survey arithmetic, pure (no database): NPS, CSAT figures and what counts as a poor score.

NPS is the share of promoters (9-10) minus the share of detractors (0-6), in whole percentage points, rounded
half away from zero with integer arithmetic (no floats): -100 to 100, ``None`` with no answers. CSAT is the mean of
the 1-5 scores and the share of satisfied answers (4-5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
SATISFIED_MIN = 4

DEFAULT_POOR = {"nps_poor_max": DETRACTOR_MAX, "csat_poor_max": 2}


def _round_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in integers."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    q, r = divmod(abs(numerator), abs(denominator))
    if 2 * r >= abs(denominator):
        q += 1
    return sign * q


def nps(promoters: int, passives: int, detractors: int) -> int | None:
    """Net promoter score from the counts: 100 * (promoters - detractors) / all; ``None`` when there are none."""
    total = promoters + passives + detractors
    if total == 0:
        return None
    return _round_div(100 * (promoters - detractors), total)


def nps_bucket(score: int) -> str:
    """``promoter`` (9-10), ``passive`` (7-8) or ``detractor`` (0-6)."""
    if score >= PROMOTER_MIN:
        return "promoter"
    return "detractor" if score <= DETRACTOR_MAX else "passive"


@dataclass(frozen=True)
class Figures:
    """The figures of one group of answers."""

    nps_answers: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_answers: int = 0
    csat_total: int = 0
    satisfied: int = 0

    @property
    def nps(self) -> int | None:
        return nps(self.promoters, self.passives, self.detractors)

    @property
    def csat_average(self) -> Decimal | None:
        if not self.csat_answers:
            return None
        return (Decimal(self.csat_total) / Decimal(self.csat_answers)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def satisfied_pct(self) -> int | None:
        return _round_div(100 * self.satisfied, self.csat_answers) if self.csat_answers else None

    @property
    def answers(self) -> int:
        return self.nps_answers + self.csat_answers


def figures(answers: Iterable[tuple[str, int]]) -> Figures:
    """``Figures`` of (kind, score) pairs (a plain restatement of what the selectors count in the database)."""
    counts: dict[str, int] = {"p": 0, "n": 0, "d": 0, "c": 0, "ct": 0, "s": 0}
    for kind, score in answers:
        if kind == "nps":
            counts[{"promoter": "p", "passive": "n", "detractor": "d"}[nps_bucket(score)]] += 1
        else:
            counts["c"] += 1
            counts["ct"] += score
            counts["s"] += score >= SATISFIED_MIN
    return Figures(
        nps_answers=counts["p"] + counts["n"] + counts["d"],
        promoters=counts["p"],
        passives=counts["n"],
        detractors=counts["d"],
        csat_answers=counts["c"],
        csat_total=counts["ct"],
        satisfied=counts["s"],
    )


def poor_limits(overrides: Mapping[str, Any] | None = None) -> dict[str, int]:
    """The highest poor score per kind: the ``TAMARIND_SURVEYS`` setting over the defaults (NPS 6, CSAT 2)."""
    conf = {**DEFAULT_POOR, **(overrides if overrides is not None else getattr(settings, "TAMARIND_SURVEYS", {}))}
    return {"nps": int(conf["nps_poor_max"]), "csat": int(conf["csat_poor_max"])}


def is_poor(kind: str, score: int, limits: Mapping[str, int]) -> bool:
    """A detractor NPS or a poor CSAT, by ``limits`` (``poor_limits``)."""
    return score <= limits.get(kind, -1)
