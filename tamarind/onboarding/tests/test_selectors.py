"""Onboarding reads: the gated fetch, the list filters, the account's current record, the overdue filter."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict

from tamarind.onboarding import selectors
from tamarind.onboarding.metrics import ENGAGE, MetricState, TargetDays
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.tests.factories import OnboardingFactory, complete_values
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 3, 1)


def ago(n):
    return TODAY - dt.timedelta(days=n)


@pytest.fixture
def record(book):
    return OnboardingFactory(account=book.account, tam=book.tam)


# --- onboarding_for_user ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_readers_fetch(book, record, who):
    assert selectors.onboarding_for_user(getattr(book, who), record.pk) == record


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_outsiders_get_404(book, record, who):
    with pytest.raises(Http404):
        selectors.onboarding_for_user(getattr(book, who), record.pk)


@pytest.mark.parametrize("who", ["director", "tam2", "sal", "sa"])
def test_readers_writing_get_403(book, record, who):
    with pytest.raises(PermissionDenied):
        selectors.onboarding_for_user(getattr(book, who), record.pk, write=True)


@pytest.mark.parametrize("bad", ["x", None, "", 2**70, -1, 999999])
def test_bad_ids_are_404(book, bad):
    with pytest.raises(Http404):
        selectors.onboarding_for_user(book.admin, bad)


def test_fetch_is_one_query(book, record, django_assert_num_queries):
    with django_assert_num_queries(1):
        onboarding = selectors.onboarding_for_user(book.manager, record.pk, write=True)
        assert onboarding.account.region.name == "AMER East" and onboarding.tam.full_name == "Tara Tam"


# --- account_onboarding -------------------------------------------------------------------------------------


def test_account_onboarding_prefers_the_open_record(book):
    assert selectors.account_onboarding(account=book.account) is None
    done = OnboardingFactory(account=book.account, tam=book.tam, status="completed", **complete_values())
    assert selectors.account_onboarding(account=book.account) == done
    current = OnboardingFactory(account=book.account, tam=book.tam2)
    assert selectors.account_onboarding(account=book.account) == current
    later_done = OnboardingFactory(account=book.account, status="completed", **complete_values())
    assert selectors.account_onboarding(account=book.account) == current
    assert later_done.pk > current.pk


def test_account_panel(book, record, django_assert_num_queries):
    with django_assert_num_queries(2):
        panel = selectors.account_panel(user=book.tam, account=book.account)
    assert panel["onboarding"] == record and panel["onboarding_can_write"] is True
    assert [m.key for m in panel["onboarding_metrics"]] == ["time_to_engage", "time_to_first_value", "time_to_onboard"]
    assert selectors.account_panel(user=book.director, account=book.account)["onboarding_can_write"] is False
    assert selectors.account_panel(user=book.tam, account=book.other_account) == {"onboarding": None}


# --- filters ------------------------------------------------------------------------------------------------


def parse(user, query=""):
    return selectors.OnboardingFilters.from_params(QueryDict(query), user=user)


def test_filter_defaults_by_role(book):
    assert parse(book.tam).scope == "mine" and parse(book.manager).scope == "all"
    assert parse(book.tam, "scope=all").scope == "all"
    f = parse(book.tam, "scope=everyone")
    assert f.scope == "mine" and "scope" in f.errors


def test_filter_parses_lists_and_reports_bad_values(book):
    f = parse(book.admin, f"status=scheduled,in_progress&tam={book.tam.pk}&tam=none&q=%00Acme&state=overdue")
    assert f.status == ["scheduled", "in_progress"] and f.tam == [book.tam.pk] and f.unassigned
    assert f.q == "Acme" and f.state == "overdue" and not f.errors
    f = parse(book.admin, f"status=done&tam=abc&tam={2**70}&state=late")
    assert set(f.errors) == {"status", "tam", "state"} and f.tam == [] and f.state == "open"


def test_list_combines_scope_and_filters(book, record):
    OnboardingFactory(account=book.other_account, tam=book.other_tam)
    on_hold = OnboardingFactory(
        account=AccountFactory(region=book.east, tam=book.tam2), tam=book.tam2, status="on_hold", delay_reason="r"
    )
    targets = TargetDays()

    def listed(user, query=""):
        return set(selectors.onboarding_list(user=user, filters=parse(user, query), targets=targets))

    assert listed(book.tam) == {record}
    assert listed(book.tam, "scope=all") == {record, on_hold}
    assert listed(book.manager, "status=on_hold") == {on_hold}
    assert listed(book.director, f"tam={book.tam2.pk}") == {on_hold}


# --- overdue ------------------------------------------------------------------------------------------------


def test_overdue_q_matches_the_pure_metric(book):
    cases = {
        "just_in": OnboardingFactory(account=AccountFactory(region=book.east), onboarding_start=ago(14)),
        "just_over": OnboardingFactory(account=AccountFactory(region=book.east), onboarding_start=ago(15)),
        "reached": OnboardingFactory(
            account=AccountFactory(region=book.east), onboarding_start=ago(40), first_engagement=ago(20)
        ),
        "no_start": OnboardingFactory(account=AccountFactory(region=book.east), onboarding_start=None),
    }
    matched = set(Onboarding.objects.filter(selectors.overdue_q(ENGAGE, 14, TODAY)))
    for name, o in cases.items():
        state = selectors.onboarding_metrics(o, TargetDays(), TODAY)[0].state
        assert (o in matched) == (state == MetricState.OVERDUE), name
    assert matched == {cases["just_over"]}


def test_targets_default_row_is_not_saved(db):
    targets = selectors.onboarding_targets()
    assert targets.pk == 1 and targets._state.adding
