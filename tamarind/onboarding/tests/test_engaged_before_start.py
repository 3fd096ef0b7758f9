"""Time to engage (domain section 4) when the customer was engaged before the onboarding started (issue 9).

A call or meeting with the customer logged before the onboarding start, but after the purchase, counts as engaged on
day 0: the metric is met in 0 days, never negative, never a data error, and the onboarding is not overdue. Wherever
the first engagement is set (logging the call, starting the onboarding after the call, editing the record's dates)
and wherever the metric is read (a record, the dashboard's medians, shares, over-target list and errors).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.accounts import services as account_services
from tamarind.accounts.models import Account, LifecycleStage
from tamarind.dashboards import selectors as dash_selectors
from tamarind.onboarding import services
from tamarind.onboarding.metrics import ENGAGE, MetricState, TargetDays, data_errors, measure, measure_all
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.selectors import onboarding_metrics
from tamarind.onboarding.tests.factories import OnboardingFactory, complete_values
from tamarind.testing.factories import AccountFactory, evaluated
from tamarind.timeline.services import timeline_entry_create

D = dt.date(2025, 3, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


# --- The metric -------------------------------------------------------------------------------------------------


def test_an_engagement_before_the_start_is_engaged_on_day_zero():
    m = measure(ENGAGE, start=day(10), end=day(4), target=14, today=day(40), floor=day(0))
    assert (m.state, m.days, m.over_by) == (MetricState.MET, 0, 0)
    assert m.error == ""


def test_an_engagement_before_the_purchase_is_still_a_data_error():
    m = measure(ENGAGE, start=day(10), end=day(-5), target=14, today=day(40), floor=day(0))
    assert m.state == MetricState.DATA_ERROR and m.days is None
    assert "before contract start" in m.error


def test_measure_all_and_data_errors_agree():
    dates = {"contract_start": day(0), "onboarding_start": day(10), "first_engagement": day(3)}
    engage = measure_all(dates, targets=TargetDays(), today=day(60))[0]
    assert (engage.state, engage.days) == (MetricState.MET, 0)
    assert "first_engagement" not in data_errors(dates)
    assert "first_engagement" in data_errors({**dates, "first_engagement": day(-1)})


def test_the_other_metrics_keep_reversed_dates_as_errors():
    dates = {"contract_start": day(0), "onboarding_start": day(10), "onboarding_finish": day(5)}
    assert measure_all(dates, targets=TargetDays(), today=day(60))[2].state == MetricState.DATA_ERROR


# --- Where the first engagement is set --------------------------------------------------------------------------


def call(book, account, on: dt.date):  # type: ignore[no-untyped-def]
    return timeline_entry_create(
        actor=book.manager,
        account=account,
        data={"kind": "call", "occurred_at": on, "title": "Intro call", "external_attendees": "CTO"},
    )


@pytest.mark.django_db
def test_a_call_logged_before_the_start_sets_the_first_engagement_on_day_zero(book):
    today = timezone.localdate()
    record = OnboardingFactory(
        account=book.account,
        tam=book.tam,
        contract_start=today - dt.timedelta(days=40),
        onboarding_start=today - dt.timedelta(days=30),
    )
    call(book, book.account, today - dt.timedelta(days=35))
    record.refresh_from_db()
    assert record.first_engagement == today - dt.timedelta(days=35)
    assert record.status == "in_progress"
    engage = onboarding_metrics(record, TargetDays())[0]
    assert (engage.state, engage.days) == (MetricState.MET, 0)


@pytest.mark.django_db
def test_a_call_before_the_purchase_does_not_count(book):
    record = OnboardingFactory(account=book.account, tam=book.tam, contract_start=day(0), onboarding_start=day(10))
    assert services.onboarding_record_engagement(actor=None, account=book.account, on=day(-1)) is None
    record.refresh_from_db()
    assert record.first_engagement is None


@pytest.mark.django_db
def test_an_onboarding_started_after_a_call_is_engaged_from_day_zero(book):
    today = timezone.localdate()
    account = account_services.account_create(
        actor=book.admin,
        data={
            "crm_id": "ENG-1",
            "name": "Initech",
            "region": book.east,
            "segment": "enterprise",
            "arr": 120000,
            "customer_since": today - dt.timedelta(days=20),
            "lifecycle_stage": LifecycleStage.ONBOARDING,
            "product_tier": book.account.product_tier,
        },
    )
    call(book, account, today - dt.timedelta(days=5))  # the SAL's kickoff, before any TAM was set
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam)
    record = Onboarding.objects.get(account=account)
    assert record.onboarding_start == today
    assert record.first_engagement == today - dt.timedelta(days=5)
    assert record.status == "in_progress"
    assert onboarding_metrics(record, TargetDays(), today + dt.timedelta(days=30))[0].state == MetricState.MET
    # ...and the periodic check raises no "time to engage" task for it, however late it runs.
    services.onboarding_raise_overdue(today=today + dt.timedelta(days=60))
    assert not account.tasks.filter(reason="time_to_engage").exists()


@pytest.mark.django_db
def test_the_bulk_start_finds_earlier_calls_too(book):
    today = timezone.localdate()
    account = AccountFactory(
        region=book.east, lifecycle_stage=LifecycleStage.ONBOARDING, customer_since=today - dt.timedelta(days=9)
    )
    evaluated(account)
    call(book, account, today - dt.timedelta(days=3))
    services.onboarding_start_many(actor=book.manager, pairs=[(account.pk, book.tam.pk)], source="test")
    assert Onboarding.objects.get(account=account).first_engagement == today - dt.timedelta(days=3)


@pytest.mark.django_db
def test_moving_the_contract_start_earlier_picks_up_an_earlier_call(book):
    today = timezone.localdate()
    record = OnboardingFactory(
        account=book.account,
        tam=book.tam,
        contract_start=today - dt.timedelta(days=10),
        onboarding_start=today - dt.timedelta(days=8),
    )
    call(book, book.account, today - dt.timedelta(days=20))  # before the contract start as recorded: not counted
    record.refresh_from_db()
    assert record.first_engagement is None
    services.onboarding_update(
        actor=book.tam, onboarding=record, changes={"contract_start": (today - dt.timedelta(days=30)).isoformat()}
    )
    record.refresh_from_db()
    assert record.first_engagement == today - dt.timedelta(days=20)


@pytest.mark.django_db
def test_a_first_engagement_before_the_start_entered_by_hand_completes(book):
    record = OnboardingFactory(account=book.account, tam=book.tam)
    values = complete_values(first_engagement=dt.date(2025, 1, 17))  # after the purchase, before the start
    services.onboarding_update(actor=book.tam, onboarding=record, changes={**values, "status": "completed"})
    assert Onboarding.objects.get(pk=record.pk).status == "completed"


# --- The dashboard ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_counts_day_zero_never_negative_and_not_over_target(book):
    today = timezone.localdate()
    start = today - dt.timedelta(days=30)
    early = AccountFactory(region=book.east, tam=book.tam, name="Early")
    on_time = AccountFactory(region=book.east, tam=book.tam, name="On time")
    OnboardingFactory(
        account=early,
        tam=book.tam,
        contract_start=start - dt.timedelta(days=10),
        onboarding_start=start,
        first_engagement=start - dt.timedelta(days=6),
    )
    OnboardingFactory(
        account=on_time,
        tam=book.tam,
        contract_start=start - dt.timedelta(days=10),
        onboarding_start=start,
        first_engagement=start + dt.timedelta(days=4),
    )
    filters = dash_selectors.DashboardFilters()
    dash = dash_selectors.onboarding_dashboard(book.manager, filters, regions=[book.east], today=today)
    engage = dash.totals.metrics[0]
    assert engage.key == "time_to_engage"
    assert engage.median == 2  # (0 + 4) / 2: the early one counts as 0 days, not -6
    assert (engage.met, engage.missed, engage.overdue, engage.errors) == (2, 0, 0, 0)
    over = {o.onboarding.account.name: [m.key for m in o.overdue] for o in dash.over_target}
    assert "time_to_engage" not in over.get("Early", [])
    assert Account.objects.filter(name="Early").exists()
