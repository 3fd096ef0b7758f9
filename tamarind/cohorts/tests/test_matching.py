"""The matching rule: same segment and ARR band as a member, customer since within the members' window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tamarind.cohorts.matching import AccountFacts, arr_band, band_label, cohort_window, similar_accounts

D = dt.date
MARCH = D(2026, 3, 1)


def facts(pk: int, segment: str = "smb", arr: str = "10000", since: dt.date | None = MARCH) -> AccountFacts:
    return AccountFacts(pk, segment, Decimal(arr), since)


def test_arr_band_edges() -> None:
    assert arr_band(Decimal("0")) == 0
    assert arr_band(Decimal("4999.99")) == 0
    assert arr_band(Decimal("5000")) == 1  # a band includes its lower bound
    assert arr_band(Decimal("19999.99")) == 1
    assert arr_band(Decimal("20000")) == 2
    assert arr_band(Decimal("50000")) == 3
    assert arr_band(Decimal("2500000")) == 6
    assert arr_band(Decimal("-5")) == 0
    assert band_label(1) == "5,000-20,000"
    assert band_label(6) == "1,000,000 and over"


def test_window_is_members_customer_since_span() -> None:
    members = [facts(1, since=D(2026, 2, 1)), facts(2, since=D(2026, 5, 1)), facts(3, since=None)]
    assert cohort_window(members) == (D(2026, 2, 1), D(2026, 5, 1))
    assert cohort_window([facts(1, since=None)]) is None


def test_similar_needs_segment_band_and_window() -> None:
    members = [facts(1, "smb", "10000", D(2026, 2, 1)), facts(2, "mid_market", "60000", D(2026, 4, 1))]
    candidates = [
        facts(10, "smb", "15000", D(2026, 3, 1)),  # same stratum as 1, inside the window: yes
        facts(11, "smb", "60000", D(2026, 3, 1)),  # smb but the band of member 2 (mid_market): no
        facts(12, "mid_market", "99999", D(2026, 2, 1)),  # stratum of 2, window's first day: yes
        facts(13, "smb", "10000", D(2026, 1, 31)),  # a day before the window: no
        facts(14, "smb", "10000", D(2026, 4, 2)),  # a day after: no
        facts(15, "smb", "10000", None),  # no customer since: no
        facts(16, "enterprise", "10000", D(2026, 3, 1)),  # another segment: no
        facts(1, "smb", "10000", D(2026, 2, 1)),  # a member itself: never
        facts(17, "smb", "4999", D(2026, 3, 1)),  # the band below: no
        facts(18, "mid_market", "60000", D(2026, 4, 1)),  # window's last day: yes
    ]
    assert similar_accounts(members, candidates) == [10, 12, 18]


def test_no_window_no_matches() -> None:
    assert similar_accounts([facts(1, since=None)], [facts(2)]) == []
    assert similar_accounts([], [facts(2)]) == []
