"""Reads of usage and support data. ``usage_facts`` is what the health score reads: it works from the monthly
rollups and bounded windows of tickets, so its cost follows the number of accounts, not the raw history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.core.bulk import chunks
from tamarind.usage.models import (
    OPEN_TICKET_STATUSES,
    MetricKind,
    SupportTicket,
    TicketMonthly,
    TicketPriority,
    UsageMetric,
    UsageMonthly,
)

CHUNK = 2000
TICKET_WINDOW_DAYS = 30


@dataclass(frozen=True)
class UsageFacts:
    """What the usage and ticket data say about one account, for the health score and the account page."""

    licenses: int | None  # latest month's licenses metric (or the account's licenses field when none)
    active_users: int | None  # latest month's last value of the "active" metric
    active_users_prev: int | None  # the previous month's (for "falling month on month")
    use_cases_adopted: int  # use-case metrics with a last value > 0 in the latest month
    use_cases_total: int  # use-case metrics defined
    tickets_last_30d: int  # tickets opened in the last 30 days
    open_urgent_tickets: int
    usage_updated_at: dt.date | None  # latest day reported
    tickets_updated_at: dt.datetime | None  # when the account's tickets last changed

    @property
    def utilization(self) -> float | None:
        """Active users over licenses (0.0-…), or None when either is unknown or there are no licenses."""
        if self.active_users is None or not self.licenses:
            return None
        return self.active_users / self.licenses


def _previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def usage_facts(account_ids: Sequence[int] | None, *, now: dt.datetime | None = None) -> dict[int, UsageFacts]:
    """``UsageFacts`` for each account (every account when ``account_ids`` is None), in chunks of 2,000 accounts:
    five queries per chunk plus one for the metric definitions, whatever the history's length."""
    now = now or timezone.now()
    metrics = list(UsageMetric.objects.values_list("pk", "kind"))
    kind_of = dict(metrics)
    use_cases_total = sum(1 for _, kind in metrics if kind == MetricKind.USE_CASE)
    if account_ids is None:
        account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    out: dict[int, UsageFacts] = {}
    since = now - dt.timedelta(days=TICKET_WINDOW_DAYS)
    for chunk in chunks(list(account_ids), CHUNK):
        ids = list(chunk)
        licenses_field = dict(Account.objects.filter(pk__in=ids).values_list("pk", "licenses"))
        latest: dict[int, tuple[dt.date, dt.date]] = {
            row["account_id"]: (row["month"], row["day"])
            for row in UsageMonthly.objects.filter(account_id__in=ids)
            .values("account_id")
            .annotate(month=Max("month"), day=Max("last_day"))
            .order_by()
        }
        # The latest and previous month's rollups: one OR'ed filter per distinct latest month (usually one or two).
        by_month: dict[dt.date, list[int]] = defaultdict(list)
        for account_id, (month, _) in latest.items():
            by_month[month].append(account_id)
        rollups: dict[tuple[int, dt.date], dict[int, int]] = defaultdict(dict)
        if by_month:
            q = Q()
            for month, accounts in by_month.items():
                q |= Q(account_id__in=accounts, month__in=[month, _previous_month(month)])
            for account_id, month, metric_id, last_value in UsageMonthly.objects.filter(q).values_list(
                "account_id", "month", "metric_id", "last_value"
            ):
                rollups[(account_id, month)][metric_id] = last_value
        recent = dict(
            SupportTicket.objects.filter(account_id__in=ids, opened_at__gte=since)
            .values("account_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("account_id", "n")
        )
        urgent = dict(
            SupportTicket.objects.filter(
                account_id__in=ids, priority=TicketPriority.URGENT, status__in=OPEN_TICKET_STATUSES
            )
            .values("account_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("account_id", "n")
        )
        ticket_updates = dict(
            TicketMonthly.objects.filter(account_id__in=ids)
            .values("account_id")
            .annotate(at=Max("updated_at"))
            .order_by()
            .values_list("account_id", "at")
        )
        for account_id in ids:
            if account_id not in licenses_field:
                continue  # no such account
            licenses: int | None = licenses_field[account_id]
            active = active_prev = None
            adopted = 0
            usage_day = None
            if account_id in latest:
                month, usage_day = latest[account_id]
                current = rollups.get((account_id, month), {})
                previous = rollups.get((account_id, _previous_month(month)), {})
                for metric_id, value in current.items():
                    kind = kind_of.get(metric_id)
                    if kind == MetricKind.LICENSES:
                        licenses = value
                    elif kind == MetricKind.ACTIVE:
                        active = value
                    elif kind == MetricKind.USE_CASE and value > 0:
                        adopted += 1
                for metric_id, value in previous.items():
                    if kind_of.get(metric_id) == MetricKind.ACTIVE:
                        active_prev = value
            out[account_id] = UsageFacts(
                licenses=licenses,
                active_users=active,
                active_users_prev=active_prev,
                use_cases_adopted=adopted,
                use_cases_total=use_cases_total,
                tickets_last_30d=recent.get(account_id, 0),
                open_urgent_tickets=urgent.get(account_id, 0),
                usage_updated_at=usage_day,
                tickets_updated_at=ticket_updates.get(account_id),
            )
    return out


def accounts_with_usage_since(day: dt.date) -> list[int]:
    """Accounts with usage reported for ``day`` or later, or whose tickets changed since ``day`` began: the ones an
    incremental recompute looks at. Reads the rollups only (indexed by last day)."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    usage = set(UsageMonthly.objects.filter(last_day__gte=day).values_list("account_id", flat=True).distinct())
    tickets = set(TicketMonthly.objects.filter(updated_at__gte=start).values_list("account_id", flat=True).distinct())
    return sorted(usage | tickets)


def usage_metrics() -> list[UsageMetric]:
    return list(UsageMetric.objects.all())


def account_usage_months(*, account: Account, months: int = 12) -> list[UsageMonthly]:
    """The account's monthly rollups of the last ``months`` months reported, newest first, metrics joined."""
    qs = UsageMonthly.objects.filter(account=account).select_related("metric").order_by("-month", "metric__key")
    recent = list(qs.values_list("month", flat=True).distinct().order_by("-month")[:months])
    if not recent:
        return []
    return list(qs.filter(month__gte=min(recent)))


def account_tickets(*, account: Account, limit: int = 50) -> list[SupportTicket]:
    return list(SupportTicket.objects.filter(account=account).order_by("-opened_at", "-id")[:limit])
