"""Writes of product usage and support tickets: idempotent ingest with the monthly rollups kept up to date.

Auditing: raw telemetry arrives by the hundred thousand rows, so an ingest is audited as ONE event per batch (an
``IngestBatch`` row with its counts, written only when the batch changed something), not one per row. Business
data that changes because of it stays audited per record: the onboarding's first value
(``onboarding.services.onboarding_first_value_from_usage``) and, later, the health score.

Both ingests are all-or-nothing: any problem in any row raises ``ValidationFailed`` naming each row and nothing is
written. A batch sent twice changes nothing the second time (``IngestResult.changed == 0``, no batch record).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record
from tamarind.core.bulk import bulk_update_rows, bulk_upsert, chunks, id_filter, insert_instances, update_instances
from tamarind.core.errors import ValidationFailed
from tamarind.people.models import User
from tamarind.usage.models import (
    IngestBatch,
    IngestKind,
    MetricKind,
    SupportTicket,
    TicketMonthly,
    TicketPriority,
    UsageDaily,
    UsageMetric,
    UsageMonthly,
    UsageState,
)
from tamarind.usage.rows import (
    MAX_BATCH_ROWS,
    CheckedTicket,
    RowError,
    TicketRow,
    UsageRow,
    check_ticket_rows,
    check_usage_rows,
)

BATCH = 2000
# Utilization (active users / licenses) at which an account sees its first value (domain section 4).
FIRST_VALUE_UTILIZATION = 0.10


@dataclass
class IngestResult:
    """What an ingest did: row counts and the accounts whose data changed (for recompute)."""

    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    account_ids: list[int] = field(default_factory=list)
    first_values: int = 0
    batch_id: int | None = None

    @property
    def changed(self) -> int:
        return self.created + self.updated


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _require_pusher(actor: User | None) -> None:
    if actor is not None and not policy.can_push_usage(actor):
        raise PermissionDenied("Only admins send usage and support data.")


def rows_failed(errors: Sequence[RowError]) -> ValidationFailed:
    """One ``ValidationFailed`` naming every bad row: ``{"row 3": ["row 3: metric "x" is not a known metric"]}``."""
    out: dict[str, list[str]] = {}
    for err in errors:
        out.setdefault(err.ref or "__all__", []).append(err.text())
    return ValidationFailed(out)


def _check_size(rows: Sequence[Any]) -> None:
    if not rows:
        raise ValidationFailed({"rows": ["Send at least one row."]})
    if len(rows) > MAX_BATCH_ROWS:
        raise ValidationFailed({"rows": [f"Send at most {MAX_BATCH_ROWS:,} rows at a time."]})


def _record_batch(*, actor: User | None, kind: str, source: str, result: IngestResult, days: Iterable[dt.date]) -> None:
    days = list(days)
    batch = IngestBatch.objects.create(
        kind=kind,
        source=source[:20],
        actor=actor,
        received=result.received,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        accounts=len(result.account_ids),
        first_day=min(days) if days else None,
        last_day=max(days) if days else None,
    )
    result.batch_id = batch.pk
    audit_record(
        actor=actor,
        obj=batch,
        action=AuditAction.CREATE,
        after={
            "kind": kind,
            "received": result.received,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "accounts": len(result.account_ids),
            "first_day": batch.first_day.isoformat() if batch.first_day else None,
            "last_day": batch.last_day.isoformat() if batch.last_day else None,
        },
        source=source,
    )


def _after_ingest(account_ids: list[int], source: str) -> None:
    """Recompute the health of the accounts whose data changed."""
    if not account_ids:
        return
    from tamarind.health.services import health_recompute_accounts

    health_recompute_accounts(account_ids=account_ids, source=source)


# --- Usage ------------------------------------------------------------------------------------------------------


@transaction.atomic
def usage_ingest_daily(*, actor: User | None, rows: Sequence[UsageRow], source: str = "api") -> IngestResult:
    """Upsert daily usage values (account by CRM id, metric by key); refresh the touched months' rollups.

    Actor ``None`` is the system. Sets the first value of open onboardings whose utilization reached 10% on a
    day of the batch, then recomputes the health of the accounts whose usage changed.
    """
    _require_pusher(actor)
    _check_size(rows)
    return usage_ingest_chunks(actor=actor, batches=[rows], source=source)


@transaction.atomic
def usage_ingest_chunks(
    *, actor: User | None, batches: Iterable[Sequence[UsageRow]], source: str, consequences: bool = True
) -> IngestResult:
    """``usage_ingest_daily`` over rows that come in chunks (a file): each chunk is checked and upserted in turn,
    the rollups, the batch record and the consequences happen once at the end; any bad row rolls back the whole.
    Rows repeated across chunks are the caller's to refuse. ``consequences=False`` (a dry run that will be rolled
    back) skips the first-value and health updates."""
    _require_pusher(actor)
    result = IngestResult()
    touched: set[tuple[int, dt.date]] = set()
    touched_days: set[dt.date] = set()
    for rows in batches:
        if not rows:
            continue
        checked, errors = check_usage_rows(rows)
        if errors:
            raise rows_failed(errors)
        result.received += len(rows)
        _upsert_usage(checked, result, touched, touched_days)
    if not result.changed:
        return result
    _refresh_usage_months(touched)
    result.account_ids = sorted({a for a, _ in touched})
    _record_batch(actor=actor, kind=IngestKind.USAGE, source=source, result=result, days=touched_days)
    if consequences:
        result.first_values = _first_values(result.account_ids, touched_days, source=source)
        _after_ingest(result.account_ids, source)
    return result


def _upsert_usage(
    checked: list[tuple[int, int, dt.date, int]],
    result: IngestResult,
    touched: set[tuple[int, dt.date]],
    touched_days: set[dt.date],
) -> None:
    by_account: dict[int, list[tuple[int, dt.date, int]]] = defaultdict(list)
    for account_id, metric_id, day, value in checked:
        by_account[account_id].append((metric_id, day, value))
    new: list[UsageDaily] = []
    changed_rows: list[tuple[int, int]] = []  # (pk, new value)
    first = min(day for _, _, day, _ in checked)
    last = max(day for _, _, day, _ in checked)
    for chunk in chunks(sorted(by_account), 500):
        # Plain tuples, not model instances: this runs inside an import's write transaction (SQLite's one write
        # lock), and building 100,000 instances took seconds of it.
        existing = {
            (account_id, metric_id, day): (pk, stored)
            for pk, account_id, metric_id, day, stored in UsageDaily.objects.filter(
                account_id__in=list(chunk), day__gte=first, day__lte=last
            ).values_list("pk", "account_id", "metric_id", "day", "value")
        }
        for account_id in chunk:
            for metric_id, day, value in by_account[account_id]:
                current = existing.get((account_id, metric_id, day))
                if current is None:
                    new.append(UsageDaily(account_id=account_id, metric_id=metric_id, day=day, value=value))
                elif current[1] != value:
                    changed_rows.append((current[0], value))
                else:
                    result.unchanged += 1
                    continue
                touched.add((account_id, month_of(day)))
                touched_days.add(day)
    insert_instances(new)
    bulk_update_rows(UsageDaily._meta.db_table, "id", ["value"], changed_rows)
    result.created += len(new)
    result.updated += len(changed_rows)


def _refresh_usage_months(pairs: set[tuple[int, dt.date]]) -> None:
    """Rebuild the ``UsageMonthly`` rows of these (account, month) pairs from their daily rows: the database
    aggregates (at most 31 days per metric and pair, so the cost follows the batch, not the history) and the
    results are upserted on (account, month, metric)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    q = connection.ops.quote_name
    daily = q(UsageDaily._meta.db_table)
    by_month: dict[dt.date, list[int]] = defaultdict(list)
    for account_id, month in pairs:
        by_month[month].append(account_id)
    for month, account_ids in sorted(by_month.items()):
        first, end = (
            connection.ops.adapt_datefield_value(month),
            connection.ops.adapt_datefield_value(next_month(month)),
        )
        for chunk in chunks(sorted(account_ids), 1000):
            where, params = id_filter("account_id", chunk)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT account_id, metric_id, value, day, mx, n FROM ("  # noqa: S608
                    f"SELECT account_id, metric_id, day, value, "
                    f"MAX(value) OVER (PARTITION BY account_id, metric_id) AS mx, "
                    f"COUNT(*) OVER (PARTITION BY account_id, metric_id) AS n, "
                    f"ROW_NUMBER() OVER (PARTITION BY account_id, metric_id ORDER BY day DESC) AS rn "
                    f"FROM {daily} WHERE {where} AND day >= %s AND day < %s) last_days WHERE rn = 1",
                    [*params, first, end],
                )
                rows = [
                    (account_id, first, metric_id, value, connection.ops.adapt_datefield_value(day), mx, n, now)
                    for account_id, metric_id, value, day, mx, n in cursor.fetchall()
                ]
            bulk_upsert(
                UsageMonthly._meta.db_table,
                [
                    "account_id",
                    "month",
                    "metric_id",
                    "last_value",
                    "last_day",
                    "max_value",
                    "days_reported",
                    "updated_at",
                ],
                rows,
                conflict=["account_id", "month", "metric_id"],
                update=["last_value", "last_day", "max_value", "days_reported", "updated_at"],
            )
    _refresh_usage_state(sorted({account_id for account_id, _ in pairs}))


def _refresh_usage_state(account_ids: list[int]) -> None:
    """Point each account's ``UsageState`` at its latest month of rollups (and the calendar month before it)."""
    for chunk in chunks(account_ids, 1000):
        latest = (
            UsageMonthly.objects.filter(account_id__in=list(chunk))
            .values("account_id")
            .annotate(month=Max("month"), day=Max("last_day"))
            .order_by()
            .values_list("account_id", "month", "day")
        )
        rows = [
            (account_id, month, (month - dt.timedelta(days=1)).replace(day=1), day) for account_id, month, day in latest
        ]
        bulk_upsert(
            UsageState._meta.db_table,
            ["account_id", "latest_month", "previous_month", "last_day"],
            [tuple(_prepare_dates(r)) for r in rows],
            conflict=["account_id"],
            update=["latest_month", "previous_month", "last_day"],
        )


def _prepare_dates(row: tuple[Any, ...]) -> list[Any]:
    adapt = connection.ops.adapt_datefield_value
    return [adapt(v) if isinstance(v, dt.date) else v for v in row]


def _first_values(account_ids: list[int], days: set[dt.date], *, source: str) -> int:
    """Set the first value of open onboardings without one, on the earliest day of this batch on which active
    users reached 10% of licenses (the day's licenses metric, else the account's licenses field)."""
    from tamarind.onboarding.models import Onboarding
    from tamarind.onboarding.services import onboarding_first_value_from_usage

    kinds = dict(
        UsageMetric.objects.filter(kind__in=[MetricKind.LICENSES, MetricKind.ACTIVE], builtin=True).values_list(
            "kind", "pk"
        )
    )
    active_id, licenses_id = kinds.get(MetricKind.ACTIVE), kinds.get(MetricKind.LICENSES)
    if active_id is None:
        return 0
    pairs: list[tuple[int, dt.date]] = []
    for chunk in chunks(account_ids, 500):
        waiting = dict(
            Onboarding.objects.open()
            .filter(account_id__in=list(chunk), first_value__isnull=True)
            .values_list("account_id", "account__licenses")
        )
        if not waiting:
            continue
        values: dict[tuple[int, dt.date], dict[int, int]] = defaultdict(dict)
        for account_id, metric_id, day, value in UsageDaily.objects.filter(
            account_id__in=list(waiting), day__in=sorted(days), metric_id__in=[active_id, licenses_id]
        ).values_list("account_id", "metric_id", "day", "value"):
            values[(account_id, day)][metric_id] = value
        best: dict[int, dt.date] = {}
        for (account_id, day), by_metric in values.items():
            active = by_metric.get(active_id)
            licenses = by_metric.get(licenses_id) if licenses_id is not None else None
            if licenses is None:
                licenses = waiting[account_id]
            if active is None or not licenses:
                continue
            if active >= FIRST_VALUE_UTILIZATION * licenses and (account_id not in best or day < best[account_id]):
                best[account_id] = day
        pairs.extend(best.items())
    if not pairs:
        return 0
    return onboarding_first_value_from_usage(pairs=pairs, source=source)


# --- Support tickets --------------------------------------------------------------------------------------------

TICKET_FIELDS = ("account_id", "opened_at", "closed_at", "priority", "status")


@transaction.atomic
def tickets_ingest(*, actor: User | None, rows: Sequence[TicketRow], source: str = "api") -> IngestResult:
    """Upsert support tickets by their external id; refresh the touched months' ticket rollups; recompute the
    health of the accounts whose tickets changed."""
    _require_pusher(actor)
    _check_size(rows)
    return tickets_ingest_chunks(actor=actor, batches=[rows], source=source)


@transaction.atomic
def tickets_ingest_chunks(
    *, actor: User | None, batches: Iterable[Sequence[TicketRow]], source: str, consequences: bool = True
) -> IngestResult:
    """``tickets_ingest`` over rows in chunks (a file); see ``usage_ingest_chunks``."""
    _require_pusher(actor)
    result = IngestResult()
    touched: set[tuple[int, dt.date]] = set()
    days: set[dt.date] = set()
    for rows in batches:
        if not rows:
            continue
        checked, errors = check_ticket_rows(rows)
        if errors:
            raise rows_failed(errors)
        result.received += len(rows)
        _upsert_tickets(checked, result, touched)
        days.update(timezone.localtime(c.opened_at).date() for c in checked)
    if not result.changed:
        return result
    _refresh_ticket_months(touched)
    result.account_ids = sorted({a for a, _ in touched})
    _record_batch(actor=actor, kind=IngestKind.TICKETS, source=source, result=result, days=days)
    if consequences:
        _after_ingest(result.account_ids, source)
    return result


def _upsert_tickets(checked: Sequence[CheckedTicket], result: IngestResult, touched: set[tuple[int, dt.date]]) -> None:
    now = timezone.now()
    new: list[SupportTicket] = []
    changed_rows: list[SupportTicket] = []
    for chunk in chunks(checked, BATCH):
        existing = {
            t.external_id: t for t in SupportTicket.objects.filter(external_id__in=[c.external_id for c in chunk])
        }
        for c in chunk:
            month = month_of(timezone.localtime(c.opened_at).date())
            current = existing.get(c.external_id)
            if current is None:
                new.append(
                    SupportTicket(
                        account_id=c.account_id,
                        external_id=c.external_id,
                        opened_at=c.opened_at,
                        closed_at=c.closed_at,
                        priority=c.priority,
                        status=c.status,
                        updated_at=now,
                    )
                )
                touched.add((c.account_id, month))
                continue
            if all(getattr(current, f) == getattr(c, f) for f in TICKET_FIELDS):
                result.unchanged += 1
                continue
            touched.add((current.account_id, month_of(timezone.localtime(current.opened_at).date())))
            touched.add((c.account_id, month))
            for f in TICKET_FIELDS:
                setattr(current, f, getattr(c, f))
            current.updated_at = now
            changed_rows.append(current)
    insert_instances(new)
    update_instances(changed_rows, [*TICKET_FIELDS, "updated_at"], batch_size=BATCH)
    result.created += len(new)
    result.updated += len(changed_rows)


def _month_start(month: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(month, dt.time.min))


def _refresh_ticket_months(pairs: set[tuple[int, dt.date]]) -> None:
    now = timezone.now()
    by_month: dict[dt.date, list[int]] = defaultdict(list)
    for account_id, month in pairs:
        by_month[month].append(account_id)
    for month, account_ids in by_month.items():
        start, end = _month_start(month), _month_start(next_month(month))
        for chunk in chunks(sorted(account_ids), 500):
            ids = list(chunk)
            counts: dict[int, list[int]] = {a: [0, 0] for a in ids}
            for account_id, priority in SupportTicket.objects.filter(
                account_id__in=ids, opened_at__gte=start, opened_at__lt=end
            ).values_list("account_id", "priority"):
                counts[account_id][0] += 1
                if priority == TicketPriority.URGENT:
                    counts[account_id][1] += 1
            TicketMonthly.objects.filter(account_id__in=ids, month=month).delete()
            # A month left with no tickets keeps a zero row: its updated_at says when the account's tickets changed.
            insert_instances(
                [
                    TicketMonthly(account_id=a, month=month, opened=c[0], urgent_opened=c[1], updated_at=now)
                    for a, c in counts.items()
                ]
            )
    # The rollups just written carry ``now``: that is when these accounts' tickets last changed.
    bulk_upsert(
        UsageState._meta.db_table,
        ["account_id", "tickets_updated_at"],
        [(a, connection.ops.adapt_datetimefield_value(now)) for a in sorted({a for a, _ in pairs})],
        conflict=["account_id"],
        update=["tickets_updated_at"],
    )


# --- Metrics (admins) -------------------------------------------------------------------------------------------


@transaction.atomic
def usage_metric_create(*, actor: User, key: str, label: str, source: str = "web") -> UsageMetric:
    """An admin adds a use-case metric (the built-in licenses, billable and active metrics are fixed)."""
    if not policy.can_manage_usage_metrics(actor):
        raise PermissionDenied("Only admins add usage metrics.")
    from django.utils.text import slugify

    key = slugify(key.strip()).replace("-", "_")
    label = " ".join(label.split())
    problems: dict[str, list[str]] = {}
    if not key:
        problems["key"] = ["Give the metric a key (letters, digits and underscores)."]
    elif len(key) > 50:
        problems["key"] = ["A key has at most 50 characters."]
    elif UsageMetric.objects.filter(key=key).exists():
        problems["key"] = [f"A metric with the key “{key}” exists."]
    if not label:
        problems["label"] = ["Give the metric a label."]
    elif len(label) > 100:
        problems["label"] = ["A label has at most 100 characters."]
    if problems:
        raise ValidationFailed(problems)
    metric = UsageMetric.objects.create(key=key, label=label, kind=MetricKind.USE_CASE)
    audit_record(
        actor=actor,
        obj=metric,
        action=AuditAction.CREATE,
        after={"key": key, "label": label, "kind": MetricKind.USE_CASE},
        source=source,
    )
    return metric
