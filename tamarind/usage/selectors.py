"""Reads of usage and support data. ``usage_facts`` is what the health score reads: it works from the monthly
rollups and bounded windows of tickets, so its cost follows the number of accounts, not the raw history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.core.bulk import IdRange, chunks, date_reader, datetime_reader, id_filter
from tamarind.usage.models import (
    OPEN_TICKET_STATUSES,
    MetricKind,
    SupportTicket,
    TicketPriority,
    UsageMetric,
    UsageMonthly,
    UsageState,
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


def usage_facts(
    account_ids: Sequence[int] | IdRange | None, *, now: dt.datetime | None = None
) -> dict[int, UsageFacts]:
    """``UsageFacts`` for each account: a list of ids (every account when None, in chunks of 2,000) or an
    ``IdRange`` (the full health recompute walks the book by ranges). Three queries per chunk plus one for the
    metric definitions, whatever the history's length: each account's ``UsageState`` says which two months of
    rollups to read, and tickets are counted over a bounded window."""
    now = now or timezone.now()
    metrics = list(UsageMetric.objects.values_list("pk", "kind"))
    kind_of = dict(metrics)
    use_cases_total = sum(1 for _, kind in metrics if kind == MetricKind.USE_CASE)
    since = now - dt.timedelta(days=TICKET_WINDOW_DAYS)
    if account_ids is None:
        account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    scopes: list[Sequence[int] | IdRange] = (
        [account_ids] if isinstance(account_ids, IdRange) else list(chunks(list(account_ids), CHUNK))
    )
    out: dict[int, UsageFacts] = {}
    for scope in scopes:
        out.update(_facts_for(scope, kind_of=kind_of, use_cases_total=use_cases_total, since=since))
    return out


def _facts_for(
    scope: Sequence[int] | IdRange, *, kind_of: dict[int, str], use_cases_total: int, since: dt.datetime
) -> dict[int, UsageFacts]:
    q = connection.ops.quote_name
    account_t, state_t, monthly_t, ticket_t = (
        q(m._meta.db_table) for m in (Account, UsageState, UsageMonthly, SupportTicket)
    )
    where_a, params_a = id_filter("a.id", scope)
    where_s, params_s = id_filter("s.account_id", scope)
    where_m, params_m = id_filter("m.account_id", scope)
    where_t, params_t = id_filter("account_id", scope)
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, a.licenses, s.latest_month, s.previous_month, s.last_day, s.tickets_updated_at "  # noqa: S608
            f"FROM {account_t} a LEFT JOIN {state_t} s ON s.account_id = a.id AND {where_s} WHERE {where_a}",
            [*params_s, *params_a],
        )
        accounts = cursor.fetchall()
        # Two equality joins rather than one with OR, each filtered on both tables: the planner then reads only
        # this chunk's rollups through the (account, month, metric) unique index, two months per account however
        # long the history (without the second filter it scanned every rollup of the book for each chunk).
        both = f"{where_s} AND {where_m}"
        # Folded per account in the database (one row per account, not one per metric and month: a tenth of the
        # rows to fetch and walk): the latest month's licenses and active users, the previous month's active
        # users, how many use cases have users. Should two metrics of one kind exist, the larger value counts.
        ids = {kind: [pk for pk, k in kind_of.items() if k == kind] for kind in MetricKind.values}

        def among(kind: str) -> tuple[str, list[int]]:
            if not ids[kind]:
                return "1 = 0", []
            return f"metric_id IN ({', '.join(['%s'] * len(ids[kind]))})", ids[kind]

        licenses_in, licenses_ids = among(MetricKind.LICENSES)
        active_in, active_ids = among(MetricKind.ACTIVE)
        use_in, use_ids = among(MetricKind.USE_CASE)
        cursor.execute(
            f"SELECT account_id, "  # noqa: S608
            f"MAX(CASE WHEN latest = 1 AND {licenses_in} THEN last_value END), "
            f"MAX(CASE WHEN latest = 1 AND {active_in} THEN last_value END), "
            f"MAX(CASE WHEN latest = 0 AND {active_in} THEN last_value END), "
            f"SUM(CASE WHEN latest = 1 AND {use_in} AND last_value > 0 THEN 1 ELSE 0 END) FROM ("
            f"SELECT m.account_id, 1 AS latest, m.metric_id, m.last_value FROM {state_t} s JOIN {monthly_t} m "
            f"ON m.account_id = s.account_id AND m.month = s.latest_month WHERE {both} "
            f"UNION ALL SELECT m.account_id, 0, m.metric_id, m.last_value FROM {state_t} s JOIN {monthly_t} m "
            f"ON m.account_id = s.account_id AND m.month = s.previous_month WHERE {both}) months GROUP BY account_id",
            [*licenses_ids, *active_ids, *active_ids, *use_ids, *params_s, *params_m, *params_s, *params_m],
        )
        rollups = {row[0]: row[1:] for row in cursor.fetchall()}
        urgent_open = tuple(OPEN_TICKET_STATUSES)
        cursor.execute(
            f"SELECT account_id, "  # noqa: S608
            f"SUM(CASE WHEN opened_at >= %s THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN priority = %s AND status IN (%s, %s) THEN 1 ELSE 0 END) "
            f"FROM {ticket_t} WHERE {where_t} AND (opened_at >= %s OR (priority = %s AND status IN (%s, %s))) "
            f"GROUP BY account_id",
            [
                ops.adapt_datetimefield_value(since),
                TicketPriority.URGENT,
                *urgent_open,
                *params_t,
                ops.adapt_datetimefield_value(since),
                TicketPriority.URGENT,
                *urgent_open,
            ],
        )
        tickets = {account_id: (int(recent), int(urgent)) for account_id, recent, urgent in cursor.fetchall()}
    convert_day = date_reader()
    convert_at = datetime_reader()
    out: dict[int, UsageFacts] = {}
    for account_id, licenses, latest_month, _, last_day, tickets_at in accounts:
        active = active_prev = None
        adopted = 0
        folded = rollups.get(account_id) if latest_month is not None else None
        if folded is not None:
            latest_licenses, active, active_prev, used = folded
            if latest_licenses is not None:
                licenses = latest_licenses
            adopted = int(used or 0)
        recent, urgent = tickets.get(account_id, (0, 0))
        out[account_id] = UsageFacts(
            licenses=licenses,
            active_users=active,
            active_users_prev=active_prev,
            use_cases_adopted=adopted,
            use_cases_total=use_cases_total,
            tickets_last_30d=recent,
            open_urgent_tickets=urgent,
            usage_updated_at=convert_day(last_day),
            tickets_updated_at=convert_at(tickets_at),
        )
    return out


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
