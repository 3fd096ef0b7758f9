"""The comparison's figures against a plain restatement on seeded data, and the intervals' coverage in a
simulation (they must cover the true difference about 95% of the time)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone
from scipy import stats as scipy_stats

from tamarind.engagement import services, stats
from tamarind.engagement.comparison import METRIC_SLOTS, compare
from tamarind.engagement.models import IterationAccount
from tamarind.health.models import HealthHistory, Sentiment
from tamarind.onboarding.models import Onboarding
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import TimelineEntry


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _seed(book) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    """Iteration 1 (Jan-Mar): three named accounts of tam; iteration 2 (Apr-Jun): the same three plus one."""
    accounts = [AccountFactory(region=book.east, tam=book.tam, arr=Decimal("200000")) for _ in range(3)]
    late = AccountFactory(region=book.east, tam=book.tam2, arr=Decimal("100000"))
    for a in accounts:
        services.account_place(actor=book.admin, account=a, model_key="named", reason="Pilot", on=dt.date(2026, 1, 1))
    services.account_place(actor=book.admin, account=late, model_key="named", reason="Pilot", on=dt.date(2026, 3, 15))
    it1 = services.iteration_create(
        actor=book.admin, data={"name": "I1", "starts_on": "2026-01-01", "ends_on": "2026-03-31"}
    )
    it2 = services.iteration_create(
        actor=book.admin, data={"name": "I2", "starts_on": "2026-04-01", "ends_on": "2026-06-30"}
    )
    # Onboardings: in I1 engaged after 10 and 20 days (target 14: one within), in I2 after 5 days and one not yet.
    for acc, start, engaged in (
        (accounts[0], dt.date(2026, 1, 5), dt.date(2026, 1, 15)),
        (accounts[1], dt.date(2026, 2, 1), dt.date(2026, 2, 21)),
    ):
        Onboarding.objects.create(account=acc, tam=book.tam, onboarding_start=start, first_engagement=engaged)
    Onboarding.objects.create(
        account=accounts[2], tam=book.tam, onboarding_start=dt.date(2026, 4, 2), first_engagement=dt.date(2026, 4, 7)
    )
    Onboarding.objects.create(account=late, tam=book.tam2, onboarding_start=dt.date(2026, 4, 10))
    # Health at each end: I1 green, green, red; I2 green, yellow, yellow, green.
    for acc, day, color in (
        (accounts[0], dt.date(2026, 3, 30), "green"),
        (accounts[1], dt.date(2026, 3, 1), "green"),
        (accounts[2], dt.date(2026, 3, 31), "red"),
        (accounts[0], dt.date(2026, 6, 1), "green"),
        (accounts[1], dt.date(2026, 6, 30), "yellow"),
        (accounts[2], dt.date(2026, 5, 1), "yellow"),
        (late, dt.date(2026, 6, 2), "green"),
        (accounts[0], dt.date(2026, 7, 2), "red"),  # after I2: not counted
    ):
        HealthHistory.objects.create(account=acc, day=day, score=50, color=color)
    # Sentiment: accounts[0] reviewed on 2026-03-20 (fresh at I1's end, stale at I2's: 102 days), late on 6-1.
    Sentiment.objects.create(account=accounts[0], color="green", reason="ok", set_at=_at(dt.date(2026, 3, 20)))
    Sentiment.objects.create(account=late, color="green", reason="ok", set_at=_at(dt.date(2026, 6, 1)))
    # Calls: I1 two for accounts[0]; I2 one each for accounts[1] and late; a note does not count.
    for acc, day, kind in (
        (accounts[0], dt.date(2026, 1, 10), "call"),
        (accounts[0], dt.date(2026, 3, 31), "meeting"),
        (accounts[1], dt.date(2026, 4, 1), "call"),
        (late, dt.date(2026, 6, 30), "call"),
        (late, dt.date(2026, 5, 1), "note"),
        (late, dt.date(2026, 7, 1), "call"),
    ):
        TimelineEntry.objects.create(account=acc, kind=kind, occurred_at=_at(day), title="x")
    return it1, it2, accounts, late


def _cells(result, key: str) -> dict[str, stats.Estimate]:  # type: ignore[no-untyped-def]
    row = next(r for r in result.rows if r.metric.key == key)
    return {g.label: c.estimate for g, c in zip(result.groups, row.cells, strict=True)}


def test_figures_match_a_plain_restatement(book) -> None:  # type: ignore[no-untyped-def]
    it1, it2, _accounts, _late = _seed(book)
    assert IterationAccount.objects.filter(iteration=it1).count() == 3  # late joined after I1 began
    result = compare([it2, it1])
    assert [g.label for g in result.groups][:2] == ["I1: every model", "I1: Named"]
    labels = {g.label: g for g in result.groups}
    assert labels["I1: Named"].accounts == 3 and labels["I2: Named"].accounts == 4
    engage = _cells(result, "engage_days")
    assert engage["I1: Named"].value == pytest.approx((10 + 20) / 2) and engage["I1: Named"].n == 2
    assert engage["I2: Named"].value == pytest.approx(5) and engage["I2: Named"].n == 1
    within = _cells(result, "engage_within")
    assert (within["I1: Named"].value, within["I1: Named"].n) == (0.5, 2)
    assert (within["I2: Named"].value, within["I2: Named"].n) == (0.5, 2)  # 5 days yes; not engaged yet no
    green = _cells(result, "green")
    assert (green["I1: Named"].value, green["I1: Named"].n) == (pytest.approx(2 / 3), 3)
    assert (green["I2: Named"].value, green["I2: Named"].n) == (0.5, 4)
    stale = _cells(result, "stale")
    assert stale["I1: Named"].value == pytest.approx(2 / 3)  # two never reviewed
    assert stale["I2: Named"].value == pytest.approx(3 / 4)  # accounts[0] now 102 days old; late is fresh
    calls = _cells(result, "calls")
    assert calls["I1: Named"].value == pytest.approx(2 / 3)
    assert calls["I2: Named"].value == pytest.approx(2 / 4)
    per_tam = _cells(result, "arr_per_tam")
    assert per_tam["I1: Named"].value == pytest.approx(600000)
    assert per_tam["I2: Named"].value == pytest.approx((600000 + 100000) / 2)
    assert _cells(result, "accounts_per_tam")["I2: Named"].value == pytest.approx(2)
    # The exact interval of 2 of 3 is Clopper-Pearson's.
    assert green["I1: Named"].low == pytest.approx(0.0943, abs=1e-3)
    assert green["I1: Named"].high == pytest.approx(0.9916, abs=1e-3)
    # Differences are against the same model in the first iteration; tiny samples are within the noise.
    row = next(r for r in result.rows if r.metric.key == "green")
    diffs = {g.label: c.diff for g, c in zip(result.groups, row.cells, strict=True)}
    assert diffs["I1: Named"] is None
    assert diffs["I2: Named"] is not None and diffs["I2: Named"].value == pytest.approx(0.5 - 2 / 3)
    assert diffs["I2: Named"].within_noise
    # Success plans and renewals are installed: every slot is measured, none shown as "not measured yet".
    assert not [r for r in result.rows if r.slot]
    assert {r.metric.key for r in result.rows} >= set(METRIC_SLOTS)


def test_slots_not_installed_are_shown_unmeasured(book, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.apps import apps

    it1, it2, _accounts, _late = _seed(book)
    real = apps.is_installed
    monkeypatch.setattr(
        "tamarind.engagement.comparison.apps.is_installed", lambda name: name != "tamarind.renewals" and real(name)
    )
    result = compare([it1, it2])
    assert {r.metric.key for r in result.rows if r.slot} == {"gross_retention", "net_retention"}
    assert all(c.note == "not measured yet" for r in result.rows if r.slot for c in r.cells)


def test_slots_against_a_plain_restatement(book) -> None:  # type: ignore[no-untyped-def]
    """Success plan in place at each iteration's end (priority 1 only) and gross and net retention as sums over the
    accounts with ARR in the iteration's first month, against the same figures worked out by hand."""
    from tamarind.renewals.tests.factories import snap
    from tamarind.success.tests.factories import SuccessPlanFactory

    it1, it2, accounts, late = _seed(book)
    IterationAccount.objects.filter(account__in=[accounts[0], accounts[1]]).update(priority=1)
    IterationAccount.objects.filter(account__in=[accounts[2], late]).update(priority=2)
    # accounts[0]: a plan from February (in place at both ends); accounts[1]: a plan archived in May (in place at
    # I1's end only); accounts[2] is priority 2 (not measured).
    SuccessPlanFactory(account=accounts[0], start_on=dt.date(2026, 2, 1), color="yellow")
    SuccessPlanFactory(
        account=accounts[1],
        start_on=dt.date(2026, 1, 10),
        status="archived",
        color="",
        archived_at=_at(dt.date(2026, 5, 5)),
    )
    # ARR: I1 Jan -> Mar; I2 Apr -> Jun. accounts[0] grows, accounts[1] shrinks, accounts[2] leaves in I2 (no June
    # snapshot), late has none in April (not in I2's cohort).
    for acc, arr in (
        (accounts[0], (100, 120, 150, 160)),
        (accounts[1], (100, 80, 80, 60)),
        (accounts[2], (50, 50, 50)),
    ):
        for month, value in zip((1, 3, 4, 6), arr, strict=False):
            snap(acc.pk, dt.date(2026, month, 1), value)
    snap(late.pk, dt.date(2026, 6, 1), 30)
    result = compare([it1, it2])
    plan = _cells(result, "success_plan_coverage")
    assert (plan["I1: Named"].value, plan["I1: Named"].n) == (1.0, 2)
    assert (plan["I2: Named"].value, plan["I2: Named"].n) == (0.5, 2)
    gross, net = _cells(result, "gross_retention"), _cells(result, "net_retention")
    # I1: A = 100, 100, 50; B = 120, 80, 50.
    assert gross["I1: Named"].value == pytest.approx((100 + 80 + 50) / 250) and gross["I1: Named"].n == 3
    assert net["I1: Named"].value == pytest.approx((120 + 80 + 50) / 250)
    # I2: A = 150, 80, 50; B = 160, 60, 0 (gone).
    assert gross["I2: Named"].value == pytest.approx((150 + 60 + 0) / 280) and gross["I2: Named"].n == 3
    assert net["I2: Named"].value == pytest.approx((160 + 60 + 0) / 280)
    assert gross["I2: Named"].low is not None and gross["I2: Named"].low < gross["I2: Named"].value
    row = next(r for r in result.rows if r.metric.key == "net_retention")
    diff = dict(zip([g.label for g in result.groups], row.cells, strict=True))["I2: Named"].diff
    assert diff is not None and diff.value == pytest.approx(220 / 280 - 250 / 250)


def test_ratio_intervals_cover_the_true_ratio() -> None:
    """200 simulated books of 150 accounts (start ARR lognormal, kept share around 0.9): the delta-method interval
    of sum(B) / sum(A) covers the population ratio in about 95% of them, and the difference of two such books'
    ratios covers the true difference likewise."""
    rng = np.random.default_rng(11)

    def book_of(n: int, keep: float) -> list[tuple[float, float]]:
        a = rng.lognormal(11, 1, n)
        b = a * np.clip(rng.normal(keep, 0.25, n), 0, None)
        return list(zip(b.tolist(), a.tolist(), strict=True))

    # The population ratio: E[B] / E[A] = keep (the multiplier is independent of A, and rarely clipped at 0).
    runs, hits, diff_hits = 200, 0, 0
    for _ in range(runs):
        first, second = book_of(150, 0.9), book_of(150, 1.0)
        est = stats.ratio(first)
        assert est.low is not None and est.high is not None
        hits += est.low <= 0.9 <= est.high
        d = stats.ratio_difference(first, second)
        assert d.low is not None and d.high is not None
        diff_hits += d.low <= 0.1 <= d.high
    assert 0.89 <= hits / runs <= 0.99
    assert 0.89 <= diff_hits / runs <= 0.99
    assert stats.ratio([]).value is None and stats.ratio([(1.0, 0.0)]).value is None
    assert stats.ratio([(1.0, 2.0)]).value == 0.5 and not stats.ratio([(1.0, 2.0)]).has_interval


def test_intervals_cover_the_true_difference(db: None) -> None:
    """200 simulated pairs of groups (shares 0.30 and 0.45, 120 accounts each): the bootstrap interval of the
    difference covers the true 0.15 in about 95% of them; the exact interval of a share covers 0.30 likewise."""
    rng = np.random.default_rng(7)
    runs, diff_hits, share_hits = 200, 0, 0
    for i in range(runs):
        a = (rng.random(120) < 0.30).astype(float)
        b = (rng.random(120) < 0.45).astype(float)
        d = stats.difference(list(a), list(b), seed=i)
        assert d.low is not None and d.high is not None
        diff_hits += d.low <= 0.15 <= d.high
        s = stats.share(int(a.sum()), len(a))
        share_hits += s.low <= 0.30 <= s.high  # type: ignore[operator]
    assert 0.89 <= diff_hits / runs <= 0.99
    assert 0.92 <= share_hits / runs <= 1.0  # exact intervals are conservative


def test_a_clear_difference_is_not_within_the_noise() -> None:
    d = stats.difference([0.0] * 100, [1.0] * 50 + [0.0] * 50)
    assert not d.within_noise and d.verdict == "Higher"
    assert stats.difference([], [1.0]).verdict == "Not enough data to compare."
    assert stats.mean([]).value is None and stats.share(0, 0).value is None


def test_large_groups_take_the_normal_interval_and_it_covers_too() -> None:
    """From ``stats.LARGE`` values a mean and a difference take the normal interval (no resampling): 200 simulated
    pairs of skewed groups (exponential days, 600 and 700 values) cover the true difference about 95% of the time,
    and the interval agrees with the bootstrap's on the same data."""
    rng = np.random.default_rng(5)
    runs, hits = 200, 0
    for _ in range(runs):
        a, b = rng.exponential(20, 600), rng.exponential(23, 700)
        d = stats.difference(list(a), list(b))
        assert d.has_interval
        hits += d.low <= 3 <= d.high  # type: ignore[operator]
    assert 0.89 <= hits / runs <= 0.99
    data = list(rng.exponential(20, stats.LARGE))
    normal = stats.mean(data)
    boot = stats.mean(data[: stats.LARGE - 1])  # one value fewer: the bootstrap
    assert normal.low == pytest.approx(boot.low, rel=0.05) and normal.high == pytest.approx(boot.high, rel=0.05)
    # One value on a side: a difference but no interval, and the verdict says so.
    lone = stats.difference([1.0], [2.0, 3.0])
    assert lone.value == pytest.approx(1.5) and not lone.has_interval and "Too few" in lone.verdict


def test_a_small_group_against_a_large_one_takes_welchs_interval_and_it_covers() -> None:
    """One group under ``stats.LARGE``, the other over (a cohort against its similar accounts): SciPy's Welch t
    interval, not a bootstrap that would resample the large group; 200 simulated pairs of skewed groups (40 and
    3,000 values) cover the true difference about 95% of the time."""
    rng = np.random.default_rng(11)
    runs, hits = 200, 0
    for _ in range(runs):
        small, large = rng.exponential(26, 40), rng.exponential(20, 3000)
        d = stats.difference(list(large), list(small))
        assert d.has_interval
        hits += d.low <= 6 <= d.high  # type: ignore[operator]
    assert 0.89 <= hits / runs <= 0.99
    small, large = rng.exponential(26, 40), rng.exponential(20, 3000)
    d = stats.difference(list(large), list(small))
    ci = scipy_stats.ttest_ind(small, large, equal_var=False).confidence_interval(0.95)
    assert (d.low, d.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert d.value == pytest.approx(small.mean() - large.mean())


def _members_by_subqueries(iteration_ids: list[int]) -> list[tuple]:  # type: ignore[type-arg]
    """The members' figures the plain way, one correlated subquery per member and figure (the form the comparison
    used before its one grouped query): (iteration, model, account, tam, ARR, color, last sentiment date, calls)."""
    from django.db.models import Count, IntegerField, Max, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from tamarind.timeline.models import ENGAGEMENT_KINDS

    color = HealthHistory.objects.filter(account=OuterRef("account_id"), day__lte=OuterRef("iteration__ends_on"))
    sentiment = (
        Sentiment.objects.filter(account=OuterRef("account_id"), set_at__date__lte=OuterRef("iteration__ends_on"))
        .values("account")
        .annotate(last=Max("set_at"))
        .values("last")
    )
    calls = (
        TimelineEntry.objects.filter(
            account=OuterRef("account_id"),
            kind__in=list(ENGAGEMENT_KINDS),
            occurred_at__date__gte=OuterRef("iteration__starts_on"),
            occurred_at__date__lte=OuterRef("iteration__ends_on"),
        )
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        IterationAccount.objects.filter(iteration_id__in=iteration_ids)
        .annotate(
            color=Coalesce(Subquery(color.order_by("-day").values("color")[:1]), Value("")),
            sentiment_at=Subquery(sentiment),
            calls=Coalesce(Subquery(calls, output_field=IntegerField()), Value(0)),
        )
        .order_by("iteration_id", "model_key", "account_id")
        .values_list("iteration_id", "model_key", "account_id", "tam_id", "arr", "color", "sentiment_at", "calls")
    )
    return [(*r[:6], r[6].date() if r[6] is not None else None, r[7]) for r in rows]


def test_grouped_members_query_equals_the_per_member_subqueries(book) -> None:  # type: ignore[no-untyped-def]
    """The comparison reads its members' health, staleness and calls in one query of grouped aggregates; on a seeded
    book with records on and just past every boundary (each iteration's first and last day, the staleness limit),
    each group's values equal those worked out member by member with correlated subqueries."""
    from tamarind.engagement.comparison import _staleness_days

    rng = np.random.default_rng(3)
    accounts = [
        AccountFactory(region=book.east, tam=[book.tam, book.tam2, None][i % 3], arr=Decimal(1000 * (i + 1)))
        for i in range(24)
    ]
    for i, a in enumerate(accounts):
        key = ["named", "high_touch", "low_touch"][i % 3]
        services.account_place(actor=book.admin, account=a, model_key=key, reason="Seed", on=dt.date(2025, 12, 1))
    it1 = services.iteration_create(
        actor=book.admin, data={"name": "I1", "starts_on": "2026-01-01", "ends_on": "2026-03-31"}
    )
    it2 = services.iteration_create(
        actor=book.admin, data={"name": "I2", "starts_on": "2026-04-01", "ends_on": "2026-06-30"}
    )
    stale_days = _staleness_days()
    edges = [
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 1),
        dt.date(2026, 6, 30),
        dt.date(2026, 7, 1),
        dt.date(2026, 3, 31) - dt.timedelta(days=stale_days),
        dt.date(2026, 3, 31) - dt.timedelta(days=stale_days + 1),
        dt.date(2026, 6, 30) - dt.timedelta(days=stale_days),
        dt.date(2026, 6, 30) - dt.timedelta(days=stale_days + 1),
    ]
    edges = sorted(set(edges))
    kinds = ["call", "meeting", "note", "email"]
    for a in accounts:
        days = rng.choice(len(edges), size=int(rng.integers(0, 5)), replace=False)
        for d in days:
            HealthHistory.objects.create(
                account=a, day=edges[d], score=50, color=["green", "yellow", "red"][int(rng.integers(3))]
            )
        for d in rng.choice(len(edges), size=int(rng.integers(0, 4))):
            at = timezone.make_aware(dt.datetime.combine(edges[d], dt.time(int(rng.choice([0, 12, 23])), 59)))
            Sentiment.objects.create(account=a, color="green", reason="seed", set_at=at)
        for d in rng.choice(len(edges), size=int(rng.integers(0, 6))):
            at = timezone.make_aware(dt.datetime.combine(edges[d], dt.time(int(rng.choice([0, 12, 23])), 30)))
            TimelineEntry.objects.create(account=a, kind=kinds[int(rng.integers(4))], occurred_at=at, title="x")
    result = compare([it1, it2])
    expected = _members_by_subqueries([it1.pk, it2.pk])
    checked = 0
    for g in result.groups:
        mine = [r for r in expected if r[0] == g.iteration.pk and g.model_key in ("", r[1])]
        ends = g.iteration.ends_on
        assert g.accounts == len(mine) and g.arr == sum((r[4] for r in mine), Decimal(0)), g.label
        assert g.values["green"] == [1.0 if r[5] == "green" else 0.0 for r in mine if r[5]], g.label
        assert g.extra["mix"] == {c: sum(1 for r in mine if r[5] == c) for c in ("green", "yellow", "red")}
        stale = [1.0 if r[6] is None or (ends - r[6]).days > stale_days else 0.0 for r in mine]
        assert g.values["stale"] == stale, g.label
        assert g.values["calls"] == [float(r[7]) for r in mine], g.label
        checked += len(mine)
    # Every member was checked in its model's group and in its iteration's; the seed reaches every branch.
    assert checked == 2 * len(expected) > 0
    assert {r[5] for r in expected} >= {"", "green"} and {r[7] for r in expected} - {0}
    assert any(r[6] is None for r in expected) and any(r[6] is not None for r in expected)


def test_share_interval_is_scipys_exact_binomial_interval() -> None:
    """The Clopper-Pearson ends from the beta quantiles equal SciPy's ``binomtest`` exact interval (its root finder's
    tolerance apart) over small and large counts, including none and all."""
    from scipy.stats import binomtest

    for n in (*range(1, 40), 399, 400, 1000, 33122):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            want = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
            got = stats.share(k, n)
            assert got.value == k / n and got.n == n
            assert got.low == pytest.approx(want.low, abs=1e-10) and got.high == pytest.approx(want.high, abs=1e-10)
