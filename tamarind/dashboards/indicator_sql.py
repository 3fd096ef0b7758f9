"""The early-warning indicators of ``dashboards.indicators`` as SQL conditions on ``Account``, for the whole book.

``indicators.evaluate`` says what fired for one account and why. Counting how many accounts each indicator fires
for across a book of 100,000 accounts, or listing only those, needs the same judgement as one condition per
indicator (its *twin*) that the database checks row by row. A twin fires for exactly the accounts its Python
indicator fires for, given the same thresholds, day and moment (``tests/test_indicator_sql.py`` checks the two
against each other, and the stored facts against the live data they come from).

Where each twin's facts come from, and why:

- the account's own columns (lifecycle stage, priority, customer since, next renewal date), read as they are: an
  account edit is seen at once and no copy can go stale;
- the facts every recompute stores with the account's ``HealthScore`` (``health.models``: latest usage month's
  licenses and active users and the month before's, tickets opened in the last 30 days, open urgent tickets, the
  day of the last call or meeting, the color): the usage rollups, tickets and timeline they come from are the
  book's big tables, and every write to them rescores the account. A day-dependent indicator keeps a date (the
  last call's), so the query decides it for today; tickets in the window are counted again by the hourly full run,
  as the support measure is;
- the open onboarding records, open triage cases and survey answers, read live: small tables (open records only,
  or a few answers per account, indexed), whose writes do not rescore the account.

Every threshold is a parameter (``indicators.Thresholds``): a setting changed by an admin needs no rescore.
An account not scored yet (no ``HealthScore`` row: imported since the last run) has no stored facts; only the
twins on its own columns and the live tables can fire for it, as its Python indicators would from no facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, IntegerField, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone

from tamarind.dashboards import indicators
from tamarind.health.models import HealthColor
from tamarind.onboarding.models import OPEN_STATUSES, Onboarding
from tamarind.triage.models import TriageCase, late_q

Twin = Callable[[indicators.Thresholds, dt.date, dt.datetime], Q]


def local_midnight(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the server's time zone: ``localdate(x) < day`` is ``x < local_midnight(day)``."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _scaled(expression: F, factor: Decimal) -> ExpressionWrapper:
    return ExpressionWrapper(Value(factor) * expression, output_field=DecimalField(max_digits=30, decimal_places=6))


def _times_100(expression: Any) -> ExpressionWrapper:
    return ExpressionWrapper(expression * 100, output_field=IntegerField())


def low_utilization(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    # Onboarded, and active * 100 < target% * licenses with licenses > 0 (exact, no rounding of a percentage).
    below = LessThan(_times_100(F("health__active_users")), _scaled(F("health__licenses"), t.utilization_min_pct))
    onboarded = Q(lifecycle_stage__in=sorted(indicators.ONBOARDED_STAGES))
    return onboarded & Q(health__licenses__gt=0, health__active_users__isnull=False) & Q(below)


def active_users_falling(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    # (previous - active) * 100 > drop% * previous, previous > 0.
    drop = _times_100(F("health__active_users_prev") - F("health__active_users"))
    fell = GreaterThan(drop, _scaled(F("health__active_users_prev"), t.active_drop_pct))
    return Q(health__active_users_prev__gt=0, health__active_users__isnull=False) & Q(fell)


def no_first_value(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    late = Onboarding.objects.filter(
        status__in=OPEN_STATUSES,
        first_value__isnull=True,
        contract_start__lt=today - dt.timedelta(days=t.first_value_days),
    ).order_by()
    return Q(pk__in=late.values("account_id"))


def no_call(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    # Days since the last call or meeting beyond the cadence; never a call counts from the contract start:
    # (today - day) > cadence is day < today - cadence.
    since = Coalesce(F("health__engaged_on"), F("customer_since"))
    fired = Q(pk__in=[])
    for priority, cadence in sorted(t.cadence_days.items()):
        fired |= Q(priority=priority) & Q(LessThan(since, Value(today - dt.timedelta(days=cadence))))
    return fired


def ticket_spike(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    return Q(health__tickets_30d__gt=t.ticket_spike_above)


def open_urgent(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    return Q(health__open_urgent__gt=0)


def renewal_at_risk(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    window = Q(next_renewal_date__gte=today, next_renewal_date__lte=indicators.add_months(today, t.renewal_months))
    return window & Q(health__color__in=[HealthColor.YELLOW, HealthColor.RED])


def stalled_triage(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    late = TriageCase.objects.open().filter(
        late_q(
            red_before=local_midnight(today - dt.timedelta(days=t.triage_red_days)),
            other_before=local_midnight(today - dt.timedelta(days=t.triage_other_days)),
        )
    )
    return Q(pk__in=late.order_by().values("account_id"))


def p1_plan_not_green(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    from tamarind.success.models import SuccessPlan

    green = SuccessPlan.objects.current().filter(color="green").order_by()
    return Q(priority=1) & ~Q(pk__in=green.values("account_id"))


def no_ebr_12m(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    from tamarind.success.models import Ebr, EbrStatus

    recent = Ebr.objects.filter(status=EbrStatus.COMPLETED, held_on__gte=indicators.add_months(today, -12)).order_by()
    return Q(priority=1) & ~Q(pk__in=recent.values("account_id"))


def poor_survey(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    # Live: a small table per account. answered on a local day in [today - days, today].
    from tamarind.surveys.models import SurveyAnswer, SurveyKind

    poor = SurveyAnswer.objects.filter(
        answered_at__gte=local_midnight(today - dt.timedelta(days=t.survey_days)),
        answered_at__lt=local_midnight(today + dt.timedelta(days=1)),
    ).filter(Q(kind=SurveyKind.NPS, score__lte=t.nps_poor_max) | Q(kind=SurveyKind.CSAT, score__lte=t.csat_poor_max))
    return Q(pk__in=poor.order_by().values("account_id"))


TWINS: dict[str, Twin] = {
    "low_utilization": low_utilization,
    "active_users_falling": active_users_falling,
    "no_first_value": no_first_value,
    "no_call": no_call,
    "ticket_spike": ticket_spike,
    "open_urgent": open_urgent,
    "renewal_at_risk": renewal_at_risk,
    "stalled_triage": stalled_triage,
    "p1_plan_not_green": p1_plan_not_green,
    "no_ebr_12m": no_ebr_12m,
    "poor_survey": poor_survey,
}
assert list(TWINS) == [key for key, _, _ in indicators.INDICATORS], "one twin per indicator, in the same order"


def indicator_q(key: str, t: indicators.Thresholds, *, today: dt.date, now: dt.datetime) -> Q:
    """The accounts ``key`` fires for (a filter on ``Account``)."""
    return TWINS[key](t, today, now)


def indicator_qs(t: indicators.Thresholds, *, today: dt.date, now: dt.datetime) -> dict[str, Q]:
    """Every indicator's twin, in ``indicators.INDICATORS`` order."""
    return {key: twin(t, today, now) for key, twin in TWINS.items()}
