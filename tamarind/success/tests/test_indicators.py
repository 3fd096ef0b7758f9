"""The health dashboard's success indicators: priority 1 without a green plan, no EBR in 12 months; the Python
rules at their boundaries and their SQL twins agreeing with them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.dashboards import indicator_sql, indicators
from tamarind.dashboards.health_selectors import account_signals
from tamarind.success.tests.factories import EbrFactory, SuccessPlanFactory
from tamarind.testing.factories import AccountFactory

TODAY = dt.date(2026, 12, 5)
T = indicators.Thresholds()


@pytest.mark.parametrize(
    ("priority", "plan", "fires"),
    [(1, "none", True), (1, "red", True), (1, "yellow", True), (1, "green", False), (2, "none", False), (1, "", False)],
)
def test_p1_plan_not_green(priority: int, plan: str, fires: bool) -> None:
    s = indicators.Signals(priority=priority, success_plan=plan)
    assert (indicators.p1_plan_not_green(s, T, TODAY) is not None) == fires


@pytest.mark.parametrize(
    ("last", "fires"),
    [(None, True), (dt.date(2025, 12, 5), False), (dt.date(2025, 12, 4), True), (dt.date(2026, 6, 1), False)],
)
def test_no_ebr_12m_boundary(last: dt.date | None, fires: bool) -> None:
    s = indicators.Signals(priority=1, ebr_known=True, last_ebr=last)
    assert (indicators.no_ebr_12m(s, T, TODAY) is not None) == fires
    assert indicators.no_ebr_12m(indicators.Signals(priority=2, ebr_known=True), T, TODAY) is None


def test_twins_agree_with_python(book) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    now = timezone.now()
    cases = []
    for color in ("green", "yellow", "red", None):
        for ebr_days in (None, 100, 400):
            for priority in (1, 2):
                account = AccountFactory(region=book.east, tam=book.tam, priority=priority)
                if color:
                    SuccessPlanFactory(account=account, color=color)
                if ebr_days:
                    EbrFactory(account=account, held_on=today - dt.timedelta(days=ebr_days))
                cases.append(account.pk)
    accounts = list(Account.objects.filter(pk__in=cases))
    signals = account_signals(accounts)
    for key in ("p1_plan_not_green", "no_ebr_12m"):
        sql = set(
            Account.objects.filter(indicator_sql.indicator_q(key, T, today=today, now=now), pk__in=cases).values_list(
                "pk", flat=True
            )
        )
        check = dict((k, c) for k, _, c in indicators.INDICATORS)[key]
        python = {pk for pk, s in signals.items() if check(s, T, today) is not None}
        assert sql == python and sql, key
