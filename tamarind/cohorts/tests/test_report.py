"""The cohort report against a plain restatement: the expected figures are worked out by hand below from the data
each test seeds (comments give the arithmetic), not by calling the code under test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tamarind.cohorts.report import cohort_report, period
from tamarind.cohorts.tests.helpers import account, add, health, make_cohort, onboarding, ticket, usage, use_case
from tamarind.engagement.stats import difference

D = dt.date
TODAY = D(2026, 4, 1)


@pytest.fixture
def seeded(book: Any) -> dict[str, Any]:
    east = book.east
    cohort = make_cohort(book.admin, name="Pilot A", starts_on=D(2026, 1, 1))
    uc1, uc2, uc3 = use_case("uc_one"), use_case("uc_two"), use_case("uc_three")
    m1 = account(east, customer_since=D(2025, 11, 1))
    m2 = account(east, customer_since=D(2026, 1, 15))
    m3 = account(east, customer_since=D(2025, 12, 1))
    for m in (m1, m2, m3):
        add(book.admin, cohort, m)
    onboarding(m1, D(2025, 11, 1), D(2025, 11, 21))  # 20 days
    onboarding(m2, D(2026, 1, 15), D(2026, 2, 24))  # 40 days
    onboarding(m3, D(2025, 12, 1), D(2026, 5, 1))  # first value after the period: not measured
    health(m1, 85, "green")
    health(m2, 60, "yellow")  # m3 unscored
    usage(m1, uc1, D(2026, 2, 1), 5)
    usage(m1, uc2, D(2026, 3, 1), 3)  # m1: 2 use cases
    usage(m2, uc1, D(2026, 1, 1), 0)  # zero: not adopted
    usage(m2, uc2, D(2026, 2, 1), 1)  # m2: 1 use case; m3 reports no usage: not measured
    usage(m1, uc3, D(2025, 12, 1), 9)  # before the period: not counted
    ticket(m1, D(2026, 1, 10))
    ticket(m1, D(2026, 2, 10))
    ticket(m1, D(2025, 12, 15))  # before the period
    ticket(m3, D(2026, 4, 1))  # the period's last day counts
    ticket(m3, D(2026, 4, 2))  # after
    # Similar non-members: smb, band 5,000-20,000, customer since within 2025-11-01 .. 2026-01-15.
    o1 = account(east, arr=Decimal("19000"), customer_since=D(2025, 12, 10))
    o2 = account(east, arr=Decimal("5000"), customer_since=D(2025, 11, 1))
    o3 = account(book.west, arr=Decimal("8000"), customer_since=D(2026, 1, 15))
    onboarding(o1, D(2025, 12, 10), D(2026, 1, 29))  # 50
    onboarding(o2, D(2025, 11, 1), D(2026, 1, 10))  # 70
    onboarding(o3, D(2026, 1, 15), D(2026, 3, 16))  # 60
    health(o1, 30, "red")
    health(o2, 90, "green")
    usage(o1, uc1, D(2026, 1, 1), 2)  # o1: 1
    for uc in (uc1, uc2, uc3):
        usage(o3, uc, D(2026, 3, 1), 1)  # o3: 3; o2 reports none
    for day in (D(2026, 1, 2), D(2026, 2, 2), D(2026, 3, 2)):
        ticket(o1, day)
    ticket(o3, D(2026, 1, 1))  # the period's first day counts
    # Not similar.
    d1 = account(east, arr=Decimal("25000"), customer_since=D(2025, 12, 1))  # another band
    d2 = account(east, customer_since=D(2026, 1, 16))  # a day past the window
    d3 = account(east, segment="enterprise", customer_since=D(2025, 12, 1))  # another segment
    d4 = account(east, customer_since=D(2025, 12, 1))  # in another cohort
    other = make_cohort(book.admin, name="Pilot B", starts_on=D(2026, 1, 1))
    add(book.admin, other, d4)
    for d in (d1, d2, d3, d4):
        onboarding(d, D(2025, 12, 1), D(2025, 12, 2))
        ticket(d, D(2026, 2, 1))
    return {"cohort": cohort, "members": [m1, m2, m3], "others": [o1, o2, o3]}


def test_groups(seeded: dict[str, Any]) -> None:
    r = cohort_report(seeded["cohort"], today=TODAY)
    assert (r.period_start, r.period_end) == (D(2026, 1, 1), TODAY)
    assert sorted(r.member_ids) == sorted(a.pk for a in seeded["members"])
    assert sorted(r.other_ids) == sorted(a.pk for a in seeded["others"])
    assert r.window == (D(2025, 11, 1), D(2026, 1, 15))


EXPECTED = {
    # key: (members' values, others' values): by hand from the seeded data.
    "first_value_days": ([20, 40], [50, 70, 60]),
    "use_cases": ([2, 1], [1, 3]),
    "health_green": ([1, 0], [0, 1]),
    "health_score": ([85, 60], [30, 90]),
    "tickets": ([2, 0, 1], [3, 0, 1]),
}


def test_figures_match_hand_restatement(seeded: dict[str, Any]) -> None:
    r = cohort_report(seeded["cohort"], today=TODAY)
    figures = {f.key: f for f in r.figures}
    assert set(figures) == set(EXPECTED)
    for key, (mine, theirs) in EXPECTED.items():
        assert sorted(r.values["members"][key]) == sorted(mine), key
        assert sorted(r.values["others"][key]) == sorted(theirs), key
    f = figures["first_value_days"]
    assert (f.members.value, f.members.n, f.others.value, f.others.n) == (30, 2, 60, 3)
    assert f.diff.value == pytest.approx(-30)
    assert figures["use_cases"].members.value == 1.5 and figures["use_cases"].others.value == 2
    assert figures["health_green"].members.value == 0.5 and figures["health_green"].members.kind == "share"
    assert figures["health_green"].diff.value == 0
    assert figures["health_score"].diff.value == pytest.approx(12.5)
    t = figures["tickets"]
    assert (t.members.value, t.members.n, t.others.n) == (1, 3, 3)
    assert t.diff.value == pytest.approx(1 - 4 / 3)
    # The interval is the engagement stats helper's (reused, not re-implemented), members minus others.
    ref = difference([3, 0, 1], [2, 0, 1])
    assert (t.diff.low, t.diff.high) == (ref.low, ref.high)
    assert t.diff.within_noise  # three accounts a side: plainly within the noise
    assert r.mix["members"] == {"green": 1, "yellow": 1, "red": 0, "unscored": 1}
    assert r.mix["others"] == {"green": 1, "yellow": 0, "red": 1, "unscored": 1}


def test_beyond_the_noise(book: Any) -> None:
    """Members who all reach first value in 10 days against others in 60: beyond the noise, lower."""
    cohort = make_cohort(book.admin, starts_on=D(2026, 1, 1))
    for i in range(6):
        m = account(book.east, customer_since=D(2025, 12, 1 + i))
        add(book.admin, cohort, m)
        onboarding(m, D(2025, 12, 1), D(2025, 12, 11 + i % 2))
        o = account(book.east, customer_since=D(2025, 12, 1 + i))
        onboarding(o, D(2025, 12, 1), D(2026, 1, 30 + i % 2))
    f = {f.key: f for f in cohort_report(cohort, today=TODAY).figures}["first_value_days"]
    assert f.diff.value == pytest.approx(10.5 - 60.5)
    assert not f.diff.within_noise and f.diff.high is not None and f.diff.high < 0


def test_period_ends_at_end_or_today(book: Any) -> None:
    cohort = make_cohort(book.admin, starts_on=D(2026, 1, 1), ends_on=D(2026, 2, 1))
    assert period(cohort, D(2026, 4, 1)) == (D(2026, 1, 1), D(2026, 2, 1))
    assert period(cohort, D(2026, 1, 10)) == (D(2026, 1, 1), D(2026, 1, 10))
    assert period(cohort, D(2025, 12, 1)) == (D(2026, 1, 1), D(2026, 1, 1))


def test_empty_cohort(book: Any) -> None:
    r = cohort_report(make_cohort(book.admin), today=TODAY)
    assert r.member_ids == [] and r.other_ids == [] and r.window is None
    assert all(f.diff.value is None and f.diff.verdict == "Not enough data to compare." for f in r.figures)


def test_query_count_constant(book: Any, django_assert_num_queries: Any) -> None:
    cohort = make_cohort(book.admin)

    def grow(n: int) -> None:
        for _ in range(n):
            m = account(book.east)
            add(book.admin, cohort, m)
            onboarding(m, D(2025, 12, 1), D(2025, 12, 20))
            health(m, 70, "yellow")
            ticket(m, D(2026, 2, 1))
            account(book.east)

    grow(1)
    with django_assert_num_queries(12) as small:
        cohort_report(cohort, today=TODAY)
    grow(5)
    with django_assert_num_queries(len(small.captured_queries)):
        cohort_report(cohort, today=TODAY)


def test_similar_scope_finds_what_the_matching_rule_finds(book: Any) -> None:
    """The report's SQL filter against ``matching.similar_accounts`` (the rule as a pure function) over a random
    book: ARR on and around every band's bounds, three segments, days around the window, accounts in cohorts and
    without ``customer_since``; the same accounts, whatever the members."""
    import random

    from tamarind.accounts.models import Account
    from tamarind.cohorts.matching import ARR_BANDS, AccountFacts, similar_accounts
    from tamarind.cohorts.report import similar_scope

    rng = random.Random(3)
    arrs = [max(b + d, Decimal(0)) for b in ARR_BANDS for d in (Decimal("-0.01"), Decimal("0"), Decimal("1"))]
    segments = ["smb", "mid_market", "enterprise"]
    cohort = make_cohort(book.admin, name="Pilot A")
    elsewhere = make_cohort(book.admin, name="Pilot B")
    accounts = [
        account(
            book.east,
            segment=rng.choice(segments),
            arr=rng.choice(arrs),
            customer_since=None if rng.random() < 0.1 else D(2025, 10, 1) + dt.timedelta(days=rng.randint(0, 120)),
        )
        for _ in range(120)
    ]
    for a in rng.sample(accounts, 10):
        add(book.admin, elsewhere, a)
    in_cohorts = set(elsewhere.members.values_list("account_id", flat=True))
    for trial in range(4):
        for m in rng.sample([a for a in accounts if a.pk not in in_cohorts], 3):
            add(book.admin, cohort, m)
            in_cohorts.add(m.pk)
        facts = [
            AccountFacts(a.pk, a.segment, a.arr, a.customer_since)
            for a in Account.objects.filter(cohort_memberships__cohort=cohort).order_by("pk")
        ]
        candidates = [
            AccountFacts(a.pk, a.segment, a.arr, a.customer_since)
            for a in Account.objects.order_by("pk")
            if a.pk not in in_cohorts
        ]
        expected = similar_accounts(facts, candidates)
        assert list(similar_scope(facts).order_by("pk").values_list("pk", flat=True)) == expected, trial
        assert expected or trial == 0
    assert list(similar_scope([]).values_list("pk", flat=True)) == []
