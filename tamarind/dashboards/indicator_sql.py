"""The early-warning indicators of ``dashboards.indicators`` as SQL conditions on ``Account``, for the whole book.

``indicators.evaluate`` says what fired for one account and why, from facts gathered for a page of accounts.
Counting how many accounts each indicator fires for across a book of 100,000 accounts cannot gather those facts
per account, so each indicator has a twin here: a ``Q`` over the account's own columns and uncorrelated
``pk IN (...)`` sets read from the other tables (usage rollups, tickets, the timeline, onboarding, triage, the
current score). Each set is computed once per query and hashed (a per-account probe would cost 100,000 index
look-ups per indicator). A twin fires for exactly the accounts its Python indicator fires for, given the same
thresholds, day and moment (``tests/test_indicator_sql.py`` checks the two against each other). The twins serve
both the totals (one grouped query) and the per-account list filtered by one indicator.

Usage facts follow ``usage.selectors.usage_facts``: an account's ``UsageState`` (kept by the ingest) names its latest
and previous months; active users and licenses are the latest month's "active" and "licenses" rollups (licenses
fall back on the account's field); tickets count once the state says the account's tickets were reported. (Should two metrics of one kind exist, a
twin takes any of them where the Python side takes one.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from tamarind.dashboards import indicators
from tamarind.health.models import HealthColor, HealthScore
from tamarind.onboarding.models import OPEN_STATUSES, Onboarding
from tamarind.timeline.models import ENGAGEMENT_KINDS, TimelineEntry
from tamarind.triage.models import TriageCase
from tamarind.usage.models import (
    OPEN_TICKET_STATUSES,
    MetricKind,
    SupportTicket,
    TicketPriority,
    UsageMonthly,
    UsageState,
)
from tamarind.usage.selectors import TICKET_WINDOW_DAYS

Twin = Callable[[indicators.Thresholds, dt.date, dt.datetime, "QuerySet[Any] | None"], Q]


def local_midnight(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the server's time zone: ``localdate(x) < day`` is ``x < local_midnight(day)``."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _scaled(expression: Any, factor: Decimal) -> ExpressionWrapper:
    return ExpressionWrapper(Value(factor) * expression, output_field=DecimalField(max_digits=30, decimal_places=6))


def _month(kind: str, which: str) -> QuerySet[UsageMonthly]:
    """Each account's rollups of ``kind`` in its latest (``which="latest_month"``) or previous month, as its
    ``UsageState`` names them (a join: one state row per account, kept by the ingest)."""
    state = f"account__usage_state__{which}"
    return UsageMonthly.objects.filter(
        metric__kind=kind, month=F(state), account__usage_state__last_day__isnull=False
    ).order_by()


def _accounts(rows: QuerySet[Any], within: QuerySet[Any] | None) -> Q:
    """Accounts among the ``account_id`` of ``rows`` (an uncorrelated ``IN``: one pass, hashed). ``within``, the
    accounts shown when they are a part of the book (a region, a TAM), keeps the pass to their rows."""
    if within is not None:
        rows = rows.filter(account_id__in=within.values("pk"))
    return Q(pk__in=rows.values("account_id"))


def low_utilization(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    # active * 100 < target% * licenses with licenses > 0: the latest month's licenses rollup, or, when that month
    # has none, the account's own field. Two disjoint sets of accounts.
    same_month_active = UsageMonthly.objects.filter(
        account_id=OuterRef("account_id"), month=OuterRef("month"), metric__kind=MetricKind.ACTIVE
    )
    by_rollup = (
        _month(MetricKind.LICENSES, "latest_month")
        .filter(last_value__gt=0)
        .alias(room=_scaled(F("last_value"), t.utilization_min_pct))
        .filter(Exists(same_month_active.alias(used=F("last_value") * 100).filter(used__lt=OuterRef("room"))))
    )
    same_month_licenses = UsageMonthly.objects.filter(
        account_id=OuterRef("account_id"), month=OuterRef("month"), metric__kind=MetricKind.LICENSES
    )
    by_field = (
        _month(MetricKind.ACTIVE, "latest_month")
        .filter(~Exists(same_month_licenses), account__licenses__gt=0)
        .alias(room=_scaled(F("account__licenses"), t.utilization_min_pct), used=F("last_value") * 100)
        .filter(used__lt=F("room"))
    )
    onboarded = Q(lifecycle_stage__in=sorted(indicators.ONBOARDED_STAGES))
    return onboarded & (_accounts(by_rollup, within) | _accounts(by_field, within))


def active_users_falling(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    # The previous month had more active users by more than the allowed drop:
    # (previous - active) * 100 > drop% * previous, previous > 0.
    latest = UsageMonthly.objects.filter(
        account_id=OuterRef("account_id"),
        metric__kind=MetricKind.ACTIVE,
        month=OuterRef("account__usage_state__latest_month"),
    )
    fell = (
        _month(MetricKind.ACTIVE, "previous_month")
        .filter(last_value__gt=0)
        .alias(floor=_scaled(F("last_value"), t.active_drop_pct))
        .filter(
            Exists(
                latest.alias(
                    drop=ExpressionWrapper(
                        (OuterRef("last_value") - F("last_value")) * 100, output_field=IntegerField()
                    )
                ).filter(drop__gt=OuterRef("floor"))
            )
        )
    )
    return _accounts(fell, within)


def no_first_value(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    late = Onboarding.objects.filter(
        status__in=OPEN_STATUSES,
        first_value__isnull=True,
        contract_start__lt=today - dt.timedelta(days=t.first_value_days),
    )
    return _accounts(late, within)


def no_call(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    engagements = TimelineEntry.objects.filter(kind__in=sorted(ENGAGEMENT_KINDS)).order_by()
    fired = Q(pk__in=[])
    for priority, cadence in sorted(t.cadence_days.items()):
        since = today - dt.timedelta(days=cadence)
        recent = engagements.filter(occurred_at__gte=local_midnight(since))
        ever = _accounts(engagements, within) | Q(customer_since__lt=since)
        fired |= Q(priority=priority) & ~_accounts(recent, within) & ever
    return fired


def ticket_spike(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    since = now - dt.timedelta(days=TICKET_WINDOW_DAYS)
    many = (
        SupportTicket.objects.filter(opened_at__gte=since)
        .values("account_id")
        .annotate(opened=Count("pk"))
        .filter(opened__gt=t.ticket_spike_above)
        .order_by()
    )
    reported = UsageState.objects.filter(tickets_updated_at__isnull=False).order_by()
    return _accounts(many, within) & _accounts(reported, within)


def open_urgent(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    urgent = SupportTicket.objects.filter(priority=TicketPriority.URGENT, status__in=list(OPEN_TICKET_STATUSES))
    return _accounts(urgent.order_by(), within)


def renewal_at_risk(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    not_green = HealthScore.objects.filter(color__in=[HealthColor.YELLOW, HealthColor.RED]).order_by()
    window = Q(next_renewal_date__gte=today, next_renewal_date__lte=indicators.add_months(today, t.renewal_months))
    return window & _accounts(not_green, within)


def stalled_triage(t: indicators.Thresholds, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None) -> Q:
    red = local_midnight(today - dt.timedelta(days=t.triage_red_days))
    other = local_midnight(today - dt.timedelta(days=t.triage_other_days))
    late = TriageCase.objects.open().filter(
        Q(health_color=HealthColor.RED, last_update_at__lt=red)
        | (~Q(health_color=HealthColor.RED) & Q(last_update_at__lt=other))
    )
    return _accounts(late.order_by(), within)


TWINS: dict[str, Twin] = {
    "low_utilization": low_utilization,
    "active_users_falling": active_users_falling,
    "no_first_value": no_first_value,
    "no_call": no_call,
    "ticket_spike": ticket_spike,
    "open_urgent": open_urgent,
    "renewal_at_risk": renewal_at_risk,
    "stalled_triage": stalled_triage,
}
assert list(TWINS) == [key for key, _, _ in indicators.INDICATORS], "one twin per indicator, in the same order"


def indicator_q(
    key: str, t: indicators.Thresholds, *, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None = None
) -> Q:
    """The accounts ``key`` fires for (a filter on ``Account``); ``within``: see ``_accounts``."""
    return TWINS[key](t, today, now, within)


def indicator_flags(
    t: indicators.Thresholds, *, today: dt.date, now: dt.datetime, within: QuerySet[Any] | None = None
) -> dict[str, ExpressionWrapper]:
    """One boolean annotation per indicator (``fired_<key>``), for grouping a book by what fired."""
    return {
        f"fired_{key}": ExpressionWrapper(twin(t, today, now, within), output_field=BooleanField())
        for key, twin in TWINS.items()
    }
