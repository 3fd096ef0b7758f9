"""The early-warning indicators of ``dashboards.indicators`` as SQL conditions on ``Account``, for the whole book.

``indicators.evaluate`` says what fired for one account and why, from facts gathered for a page of accounts.
Counting how many accounts each indicator fires for across a book of 100,000 accounts cannot gather those facts
per account, so each indicator has a twin here: a ``Q`` over the account's own columns and ``Exists`` probes on
indexed tables (usage rollups, tickets, the timeline, onboarding, triage, the current score). A twin fires for
exactly the accounts its Python indicator fires for, given the same thresholds, day and moment
(``tests/test_indicator_sql.py`` checks the two against each other). The twins serve both the totals (one grouped
query) and the per-account list filtered by one indicator.

Usage facts follow ``usage.selectors.usage_facts``: an account's latest month is its newest monthly rollup of any
metric; active users and licenses are that month's "active" and "licenses" rollups (licenses fall back on the
account's field); the previous month is the calendar month before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear
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
    TicketMonthly,
    TicketPriority,
    UsageMonthly,
)
from tamarind.usage.selectors import TICKET_WINDOW_DAYS

Twin = Callable[[indicators.Thresholds, dt.date, dt.datetime], Q]


def local_midnight(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the server's time zone: ``localdate(x) < day`` is ``x < local_midnight(day)``."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _month_index(field: str) -> ExpressionWrapper:
    return ExpressionWrapper(ExtractYear(field) * 12 + ExtractMonth(field), output_field=IntegerField())


def _latest_month() -> Subquery:
    """The newest rollup month (of any metric) of the account of the rollup row it is nested in."""
    return Subquery(
        UsageMonthly.objects.filter(account_id=OuterRef("account_id")).order_by("-month").values("month")[:1]
    )


def _active_rows() -> QuerySet[UsageMonthly]:
    """The account's "active users" rollups of its latest month (one, unless admins made two active metrics)."""
    return (
        UsageMonthly.objects.filter(account_id=OuterRef("pk"), metric__kind=MetricKind.ACTIVE, month=_latest_month())
        .annotate(month_index=_month_index("month"))
        .order_by()
    )


def low_utilization(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    licenses = Coalesce(
        Subquery(
            UsageMonthly.objects.filter(
                account_id=OuterRef("account_id"), month=OuterRef("month"), metric__kind=MetricKind.LICENSES
            )
            .order_by("-metric_id")
            .values("last_value")[:1]
        ),
        OuterRef("licenses"),
        output_field=IntegerField(),
    )
    below = ExpressionWrapper(
        Value(t.utilization_min_pct) * licenses, output_field=DecimalField(max_digits=30, decimal_places=6)
    )
    rows = _active_rows().alias(month_licenses=licenses, below=below)
    hit = rows.filter(month_licenses__gt=0, below__gt=F("last_value") * 100)
    return Q(lifecycle_stage__in=sorted(indicators.ONBOARDED_STAGES)) & Q(Exists(hit))


def active_users_falling(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    previous = Subquery(
        UsageMonthly.objects.filter(account_id=OuterRef("account_id"), metric__kind=MetricKind.ACTIVE)
        .annotate(month_index=_month_index("month"))
        .filter(month_index=ExpressionWrapper(OuterRef("month_index") - 1, output_field=IntegerField()))
        .order_by("-metric_id")
        .values("last_value")[:1]
    )
    drop = ExpressionWrapper(
        (F("previous") - F("last_value")) * 100, output_field=DecimalField(max_digits=30, decimal_places=6)
    )
    floor = ExpressionWrapper(
        Value(t.active_drop_pct) * F("previous"), output_field=DecimalField(max_digits=30, decimal_places=6)
    )
    hit = _active_rows().alias(previous=previous).alias(drop=drop, floor=floor)
    return Q(Exists(hit.filter(previous__gt=0, drop__gt=F("floor"))))


def no_first_value(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    late = Onboarding.objects.filter(
        account_id=OuterRef("pk"),
        status__in=OPEN_STATUSES,
        first_value__isnull=True,
        contract_start__lt=today - dt.timedelta(days=t.first_value_days),
    )
    return Q(Exists(late))


def no_call(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    engagements = TimelineEntry.objects.filter(account_id=OuterRef("pk"), kind__in=sorted(ENGAGEMENT_KINDS))
    fired = Q(pk__in=[])
    for priority, cadence in sorted(t.cadence_days.items()):
        since = today - dt.timedelta(days=cadence)
        recent = engagements.filter(occurred_at__gte=local_midnight(since))
        ever = Q(Exists(engagements)) | Q(customer_since__lt=since)
        fired |= Q(priority=priority) & ~Q(Exists(recent)) & ever
    return fired


def ticket_spike(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    since = now - dt.timedelta(days=TICKET_WINDOW_DAYS)
    recent = SupportTicket.objects.filter(account_id=OuterRef("pk"), opened_at__gte=since).order_by()
    # More than N tickets: an (N+1)th one exists (LIMIT 1 OFFSET N stops there instead of counting them all).
    above = recent.values("pk")[t.ticket_spike_above : t.ticket_spike_above + 1]
    reported = TicketMonthly.objects.filter(account_id=OuterRef("pk"))
    return Q(Exists(above)) & Q(Exists(reported))


def open_urgent(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    urgent = SupportTicket.objects.filter(
        account_id=OuterRef("pk"), priority=TicketPriority.URGENT, status__in=list(OPEN_TICKET_STATUSES)
    )
    return Q(Exists(urgent))


def renewal_at_risk(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    not_green = HealthScore.objects.filter(account_id=OuterRef("pk"), color__in=[HealthColor.YELLOW, HealthColor.RED])
    window = Q(next_renewal_date__gte=today, next_renewal_date__lte=indicators.add_months(today, t.renewal_months))
    return window & Q(Exists(not_green))


def stalled_triage(t: indicators.Thresholds, today: dt.date, now: dt.datetime) -> Q:
    red = local_midnight(today - dt.timedelta(days=t.triage_red_days))
    other = local_midnight(today - dt.timedelta(days=t.triage_other_days))
    late = (
        TriageCase.objects.open()
        .filter(account_id=OuterRef("pk"))
        .filter(
            Q(health_color=HealthColor.RED, last_update_at__lt=red)
            | (~Q(health_color=HealthColor.RED) & Q(last_update_at__lt=other))
        )
    )
    return Q(Exists(late))


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


def indicator_q(key: str, t: indicators.Thresholds, *, today: dt.date, now: dt.datetime) -> Q:
    """The accounts ``key`` fires for (a filter on ``Account``)."""
    return TWINS[key](t, today, now)


def indicator_flags(t: indicators.Thresholds, *, today: dt.date, now: dt.datetime) -> dict[str, ExpressionWrapper]:
    """One boolean annotation per indicator (``fired_<key>``), for grouping a book by what fired."""
    return {
        f"fired_{key}": ExpressionWrapper(twin(t, today, now), output_field=BooleanField())
        for key, twin in TWINS.items()
    }
