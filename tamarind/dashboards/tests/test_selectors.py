"""The onboarding dashboard's figures: medians, shares within target at the boundaries, days over, month buckets,
scope by role, filters, and a cross-check of every figure against the pure functions of onboarding.metrics."""

import datetime as dt
import random
import statistics

import pytest
from django.utils import timezone

from tamarind.assignment.models import Qualification
from tamarind.dashboards import selectors
from tamarind.onboarding.metrics import METRICS, MetricState, TargetDays, measure_all
from tamarind.onboarding.models import Onboarding, OnboardingStatus, OnboardingTargets
from tamarind.onboarding.tests.factories import OnboardingFactory, complete_values
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 30)
T = TargetDays()  # 14 / 30 / 45, the defaults until an admin saves the targets


def day(n):
    """``n`` days before TODAY."""
    return TODAY - dt.timedelta(days=n)


def make(book, *, region=None, tam="default", account_tam=None, **dates):
    region = region or book.east
    tam = book.tam if tam == "default" else tam
    account = AccountFactory(region=region, tam=account_tam if account_tam is not None else tam)
    values = {"contract_start": None, "onboarding_start": None, **dates}
    return OnboardingFactory(account=account, tam=tam, **values)


def dashboard(user, today=TODAY, **params):
    regions = selectors.dashboard_regions(user)
    filters = selectors.DashboardFilters.from_params(params, user=user, regions=regions, today=today)
    return selectors.onboarding_dashboard(user, filters, regions=regions, today=today)


def metric(line, key):
    return next(m for m in line.metrics if m.key == key)


# --- medians and shares ------------------------------------------------------------------------------------------


def test_median_over_reached_milestones_odd_and_even(book):
    for d in (3, 9, 20):
        make(book, onboarding_start=day(100), first_engagement=day(100 - d))
    engage = metric(dashboard(book.admin).totals, "time_to_engage")
    assert engage.median == pytest.approx(9.0) and engage.median_display == "9"
    make(book, onboarding_start=day(100), first_engagement=day(100 - 30))
    engage = metric(dashboard(book.admin).totals, "time_to_engage")
    assert engage.median == pytest.approx(14.5) and engage.median_display == "14.5"


def test_share_within_target_at_the_boundaries(book):
    # Reached exactly on the target day: met. One day later: missed.
    make(book, onboarding_start=day(100), first_engagement=day(100 - 14))
    make(book, onboarding_start=day(100), first_engagement=day(100 - 15))
    # Open, no milestone: started exactly target days ago is still running (not judged); one more day is overdue.
    make(book, onboarding_start=day(14))
    make(book, onboarding_start=day(15))
    # A start in the future or no start at all: not judged.
    make(book, onboarding_start=TODAY + dt.timedelta(days=3))
    make(book, onboarding_start=None)
    engage = metric(dashboard(book.admin).totals, "time_to_engage")
    assert (engage.met, engage.missed, engage.overdue) == (1, 1, 1)
    assert engage.judged == 3 and engage.share == pytest.approx(1 / 3) and engage.share_pct == 33
    assert engage.median == pytest.approx(14.5)


def test_completed_records_count_but_are_never_overdue(book):
    values = complete_values(
        contract_start=day(200),
        onboarding_start=day(200),
        first_engagement=day(190),
        infrastructure_ready=day(185),
        first_value=day(150),
        onboarding_finish=day(100),
    )
    make(book, status=OnboardingStatus.COMPLETED, **values)
    totals = dashboard(book.admin).totals
    assert totals.open == 0 and totals.over_target == 0
    engage, first_value, onboard = totals.metrics
    assert (engage.met, engage.median) == (1, pytest.approx(10.0))
    assert (first_value.missed, first_value.median) == (1, pytest.approx(50.0))
    assert (onboard.missed, onboard.overdue, onboard.median) == (1, 0, pytest.approx(100.0))


def test_reversed_dates_are_data_errors_not_figures(book):
    # A first engagement before the purchase is a data error (one before the onboarding start alone is day 0).
    make(book, contract_start=day(15), onboarding_start=day(10), first_engagement=day(20))
    make(book, onboarding_start=day(30), first_engagement=day(25))
    engage = metric(dashboard(book.admin).totals, "time_to_engage")
    assert engage.errors == 1 and engage.met == 1 and engage.median == pytest.approx(5.0)


def test_no_data_means_no_figure(book):
    engage = metric(dashboard(book.admin).totals, "time_to_engage")
    assert engage.median is None and engage.share is None and engage.median_display == "—"


def test_targets_come_from_the_admin_edited_row(book):
    make(book, onboarding_start=day(100), first_engagement=day(100 - 20))
    assert metric(dashboard(book.admin).totals, "time_to_engage").met == 0
    OnboardingTargets.objects.create(engage_days=20, first_value_days=30, onboard_days=45)
    engage = metric(dashboard(book.admin).totals, "time_to_engage")
    assert engage.met == 1 and engage.target == 20


# --- over target --------------------------------------------------------------------------------------------------


def test_over_target_lists_days_over_most_first(book):
    a = make(book, contract_start=day(40), onboarding_start=day(20))  # engage 6 over, first value 10 over
    b = make(book, contract_start=day(31), onboarding_start=day(50), first_engagement=day(45))  # 1 over, 5 over
    make(book, contract_start=day(30), onboarding_start=day(14))  # exactly at every target: not over
    c = make(book, tam=None, contract_start=day(5), onboarding_start=day(60), first_engagement=day(55))  # onboard 15
    dash = dashboard(book.admin)
    assert [r.onboarding.pk for r in dash.over_target] == [c.pk, a.pk, b.pk]
    assert [r.days_over for r in dash.over_target] == [15, 10, 5]
    by_pk = {r.onboarding.pk: {m.key: m.over_by for m in r.overdue} for r in dash.over_target}
    assert by_pk[a.pk] == {"time_to_engage": 6, "time_to_first_value": 10}
    assert by_pk[b.pk] == {"time_to_first_value": 1, "time_to_onboard": 5}
    assert by_pk[c.pk] == {"time_to_onboard": 15}
    assert dash.totals.over_target == 3


def test_over_target_is_cut_to_the_list_limit_but_counted_in_full(book, monkeypatch):
    monkeypatch.setattr(selectors, "LIST_LIMIT", 2)
    for n in range(4):
        make(book, onboarding_start=day(30 + n))
    dash = dashboard(book.admin)
    assert len(dash.over_target) == 2 and dash.totals.over_target == 4
    assert [r.days_over for r in dash.over_target] == [33 - 14, 32 - 14]


# --- chart ----------------------------------------------------------------------------------------------------


def test_first_value_by_month_of_contract_start(book):
    make(book, contract_start=dt.date(2025, 1, 3), first_value=dt.date(2025, 1, 13))  # 10
    make(book, contract_start=dt.date(2025, 1, 31), first_value=dt.date(2025, 3, 2))  # 30
    make(book, contract_start=dt.date(2025, 1, 20), first_value=dt.date(2025, 3, 1))  # 40
    make(book, contract_start=dt.date(2025, 3, 1), first_value=dt.date(2025, 4, 15))  # 45
    make(book, contract_start=dt.date(2025, 3, 5))  # not reached: not in the chart
    make(book, contract_start=dt.date(2024, 6, 30), first_value=dt.date(2024, 7, 1))  # before the window
    dash = dashboard(book.admin)
    months = {m.month: m for m in dash.chart}
    assert len(dash.chart) == 12 and dash.chart[0].month == dt.date(2024, 7, 1)
    assert dash.chart[-1].month == dt.date(2025, 6, 1)
    jan, feb, mar = months[dt.date(2025, 1, 1)], months[dt.date(2025, 2, 1)], months[dt.date(2025, 3, 1)]
    assert (jan.median, jan.reached, jan.met) == (pytest.approx(30.0), 3, 2)
    assert (feb.median, feb.reached) == (None, 0)
    assert (mar.median, mar.reached, mar.met) == (pytest.approx(45.0), 1, 0)


def test_chart_follows_the_period(book):
    make(book, contract_start=dt.date(2024, 2, 10), first_value=dt.date(2024, 2, 20))
    dash = dashboard(book.admin, **{"from": "2024-01-15", "to": "2024-03-10"})
    assert [m.month for m in dash.chart] == [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)]
    assert dash.chart[1].median == pytest.approx(10.0)
    assert len(dashboard(book.admin, period="3m").chart) == 3


# --- scope by role --------------------------------------------------------------------------------------------------


@pytest.fixture
def spread(book):
    """East: two records of tam, one of tam2, one unassigned; west: one record of other_tam."""
    make(book, onboarding_start=day(5))
    make(book, onboarding_start=day(50))
    make(book, tam=book.tam2, onboarding_start=day(5))
    make(book, tam=None, onboarding_start=day(5))
    make(book, region=book.west, tam=book.other_tam, onboarding_start=day(5))
    return book


def lines(dash):
    return {line.label: line.open for line in dash.regions}, {line.label: line.open for line in dash.tams}


def test_directors_and_admins_see_every_region(spread):
    for user in (spread.admin, spread.director):
        dash = dashboard(user)
        regions, tams = lines(dash)
        assert dash.totals.open == 5
        assert regions == {"AMER East": 4, "EMEA": 1}
        assert tams == {"Olga Tam": 1, "Tara Tam": 2, "Theo Tam": 1, "Unassigned": 1}


def test_a_manager_sees_their_region(spread):
    dash = dashboard(spread.manager)
    regions, tams = lines(dash)
    assert dash.totals.open == 4 and regions == {"AMER East": 4}
    assert tams == {"Tara Tam": 2, "Theo Tam": 1, "Unassigned": 1}
    assert dashboard(spread.other_manager).totals.open == 1


def test_a_tam_sees_their_own_records(spread):
    dash = dashboard(spread.tam)
    regions, tams = lines(dash)
    assert dash.totals.open == 2 and regions == {} and tams == {"Tara Tam": 2}
    assert dash.totals.unassigned == 0 and dash.unassigned_records == [] and dash.unassigned_accounts == []


def test_others_see_nothing(spread):
    for user in (spread.sal, spread.sa):
        assert dashboard(user).totals.open == 0


def test_region_and_tam_filters(spread):
    dash = dashboard(spread.admin, region=str(spread.west.pk))
    assert dash.totals.open == 1 and [line.label for line in dash.regions] == ["EMEA"]
    assert [line.label for line in dash.tams] == ["Olga Tam"]
    dash = dashboard(spread.manager, tam=str(spread.tam.pk))
    assert dash.totals.open == 2 and [line.label for line in dash.tams] == ["Tara Tam"]
    assert [t.full_name for t in dash.tam_choices] == ["Tara Tam", "Theo Tam"]


def test_filters_outside_the_users_reach_are_errors(book):
    regions = selectors.dashboard_regions(book.manager)
    f = selectors.DashboardFilters.from_params(
        {"region": str(book.west.pk)}, user=book.manager, regions=regions, today=TODAY
    )
    assert f.region is None and "region" in f.errors
    f = selectors.DashboardFilters.from_params({"tam": str(book.tam2.pk)}, user=book.tam, regions=[], today=TODAY)
    assert f.tam is None and "tam" in f.errors
    regions = selectors.dashboard_regions(book.admin)
    f = selectors.DashboardFilters.from_params(
        {"region": "99999999999999999999", "tam": "x", "period": "forever", "from": "2025-02-30", "to": "2025-01-01"},
        user=book.admin,
        regions=regions,
        today=TODAY,
    )
    assert set(f.errors) == {"region", "tam", "period", "from"}
    f = selectors.DashboardFilters.from_params(
        {"from": "2025-03-01", "to": "2025-01-01"}, user=book.admin, regions=regions, today=TODAY
    )
    assert "to" in f.errors and f.date_to is None


def test_period_presets(book):
    regions = selectors.dashboard_regions(book.admin)

    def period(p):
        f = selectors.DashboardFilters.from_params({"period": p}, user=book.admin, regions=regions, today=TODAY)
        return f.date_from, f.date_to

    assert period("all") == (None, None)
    assert period("3m") == (dt.date(2025, 4, 1), None)
    assert period("12m") == (dt.date(2024, 7, 1), None)
    assert period("ytd") == (dt.date(2025, 1, 1), None)


def test_the_period_filters_on_contract_start(book):
    make(book, contract_start=dt.date(2025, 1, 10), onboarding_start=day(5))
    make(book, contract_start=dt.date(2024, 1, 10), onboarding_start=day(5))
    make(book, onboarding_start=day(5))  # no contract start: only in "all time"
    assert dashboard(book.admin).totals.open == 3
    assert dashboard(book.admin, period="ytd").totals.open == 1
    assert dashboard(book.admin, **{"to": "2024-12-31"}).totals.open == 1


# --- unassigned ------------------------------------------------------------------------------------------------


def qualify(account):
    return Qualification.objects.create(account=account, qualifies=True, rule_version=1, qualified_at=timezone.now())


def test_unassigned_records_and_accounts_to_staff(book):
    record = make(book, tam=None, contract_start=day(10), onboarding_start=day(5))
    qualify(record.account)  # has an open record: listed once, as the record
    to_staff = AccountFactory(region=book.east, tam=None)
    qualify(to_staff)
    qualify(AccountFactory(region=book.west, tam=None))
    staffed = AccountFactory(region=book.east, tam=book.tam)
    qualify(staffed)  # has a TAM: not unassigned
    dash = dashboard(book.manager)
    assert [o.pk for o in dash.unassigned_records] == [record.pk]
    assert [a.pk for a in dash.unassigned_accounts] == [to_staff.pk]
    assert (dash.totals.unassigned_records, dash.totals.unassigned_accounts) == (1, 1)
    assert dashboard(book.admin).totals.unassigned == 3
    east = next(line for line in dashboard(book.director).regions if line.label == "AMER East")
    assert (east.unassigned_records, east.unassigned_accounts) == (1, 1)


def test_unassigned_ignores_the_tam_filter(book):
    make(book, tam=None, onboarding_start=day(5))
    dash = dashboard(book.manager, tam=str(book.tam.pk))
    assert len(dash.unassigned_records) == 1 and dash.totals.open == 0


# --- cross-check against onboarding.metrics -------------------------------------------------------------------


def random_dates(rng):
    def maybe(base, spread):
        if base is None or rng.random() < 0.3:
            return None
        return base + dt.timedelta(days=rng.randint(-5, spread))

    contract = day(rng.randint(-10, 200)) if rng.random() < 0.9 else None
    start = maybe(contract, 20) if contract else (day(rng.randint(0, 100)) if rng.random() < 0.5 else None)
    return {
        "contract_start": contract,
        "onboarding_start": start,
        "first_engagement": maybe(start, 30),
        "first_value": maybe(contract, 60),
        "onboarding_finish": maybe(start, 90),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_agree_with_the_pure_metric_functions(book, seed):
    rng = random.Random(seed)
    tams = [book.tam, book.tam2, None]
    for _ in range(60):
        status = rng.choice([*OnboardingStatus.values, OnboardingStatus.IN_PROGRESS])
        extra = {}
        if status == OnboardingStatus.COMPLETED:
            extra = {"notes": "done", "experience_score": 4, "infrastructure_ready": day(1)}
        dates = random_dates(rng)
        if status == OnboardingStatus.COMPLETED:
            dates = {k: v or day(rng.randint(0, 50)) for k, v in dates.items()}
        if status == OnboardingStatus.ON_HOLD:
            extra["delay_reason"] = "waiting"
        make(book, tam=rng.choice(tams), status=status, **dates, **extra)
    dash = dashboard(book.manager)

    records = list(Onboarding.objects.filter(account__region=book.east))
    for group, line in [(records, dash.totals)] + [
        ([r for r in records if r.tam_id == (t.pk if t else None)], next(x for x in dash.tams if x.tam == t))
        for t in tams
    ]:
        measures = [measure_all(r.dates(), targets=T, today=TODAY, is_open=r.is_open) for r in group]
        assert line.open == sum(r.is_open for r in group)
        assert line.over_target == sum(
            r.is_open and any(m.state == MetricState.OVERDUE for m in ms) for r, ms in zip(group, measures, strict=True)
        )
        for i, m in enumerate(METRICS):
            states = [ms[i].state for ms in measures]
            figure = metric(line, m.key)
            assert figure.met == states.count(MetricState.MET)
            assert figure.missed == states.count(MetricState.MISSED)
            assert figure.overdue == sum(
                ms[i].state == MetricState.OVERDUE for r, ms in zip(group, measures, strict=True) if r.is_open
            )
            assert figure.errors == states.count(MetricState.DATA_ERROR)
            reached = [ms[i].days for ms in measures if ms[i].state in (MetricState.MET, MetricState.MISSED)]
            assert figure.median == (pytest.approx(statistics.median(reached)) if reached else None)
