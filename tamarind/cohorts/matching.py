"""Which non-members a cohort's members are compared with: the matching rule, as a pure function.

A non-member account is *similar* when, for at least one member of the cohort:

1. it is in the same sales segment (SMB, Mid-Market, Enterprise);
2. its ARR is in the same ARR band (``ARR_BANDS``: under 5,000; 5,000-20,000; 20,000-50,000; 50,000-100,000;
   100,000-250,000; 250,000-1,000,000; 1,000,000 and over; a band includes its lower bound); and
3. its ``customer_since`` falls within the cohort's window: from the earliest to the latest ``customer_since``
   of the cohort's members (both days included).

Accounts without ``customer_since`` never match (the window cannot place them), and accounts that are members
of any cohort are not candidates (a control group must not have been in a cohort itself; the caller leaves them
out). Members without ``customer_since`` still count for rules 1 and 2 but do not widen the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

ARR_BANDS: tuple[Decimal, ...] = tuple(
    Decimal(x) for x in ("0", "5000", "20000", "50000", "100000", "250000", "1000000")
)


def arr_band(arr: Decimal) -> int:
    """The index of the band ``arr`` falls in (negative ARR: band 0)."""
    band = 0
    for i, low in enumerate(ARR_BANDS):
        if arr >= low:
            band = i
    return band


def band_label(band: int) -> str:
    low = ARR_BANDS[band]
    if band + 1 < len(ARR_BANDS):
        return f"{low:,.0f}-{ARR_BANDS[band + 1]:,.0f}"
    return f"{low:,.0f} and over"


@dataclass(frozen=True)
class AccountFacts:
    """What the rule reads of an account."""

    id: int
    segment: str
    arr: Decimal
    customer_since: dt.date | None


def cohort_window(members: Iterable[AccountFacts]) -> tuple[dt.date, dt.date] | None:
    """Earliest and latest ``customer_since`` of the members (``None`` when none has one)."""
    days = [m.customer_since for m in members if m.customer_since is not None]
    return (min(days), max(days)) if days else None


def similar_accounts(members: Sequence[AccountFacts], candidates: Iterable[AccountFacts]) -> list[int]:
    """Ids of the candidates similar to the members (see the module), in the candidates' order; members
    themselves are never returned."""
    window = cohort_window(members)
    if window is None:
        return []
    strata = {(m.segment, arr_band(m.arr)) for m in members}
    member_ids = {m.id for m in members}
    out = []
    for c in candidates:
        if c.id in member_ids or c.customer_since is None:
            continue
        if not window[0] <= c.customer_since <= window[1]:
            continue
        if (c.segment, arr_band(c.arr)) in strata:
            out.append(c.id)
    return out
