"""The rows an ingest takes (from the API or a CSV file), and how they are checked against the book.

Both entry points parse their input into ``UsageRow`` / ``TicketRow`` first (the API through its schema, a CSV
through ``usage.csv_import``); ``check_usage_rows`` / ``check_ticket_rows`` then resolve accounts (by CRM id) and
metrics (by key) in a few queries per batch and report every problem as a ``RowError`` naming the row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tamarind.accounts.models import Account
from tamarind.core.bulk import chunks
from tamarind.usage.models import TicketPriority, TicketStatus, UsageMetric

MAX_BATCH_ROWS = 50_000
MAX_VALUE = 2_147_483_647


@dataclass(frozen=True)
class UsageRow:
    """One metric's value for one account (by CRM id) on one day."""

    account: str
    day: dt.date
    metric: str
    value: int
    ref: str = ""  # how messages name the row: "row 3" (API), "line 7" (CSV)


@dataclass(frozen=True)
class TicketRow:
    """One support ticket as the support system reports it."""

    account: str
    external_id: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    priority: str
    status: str
    ref: str = ""


@dataclass(frozen=True)
class RowError:
    ref: str
    field: str
    value: str
    message: str

    def text(self) -> str:
        return (
            f"{self.ref}: {self.field} {self.message}"
            if not self.value
            else (f'{self.ref}: {self.field} "{self.value[:80]}" {self.message}')
        )


def account_ids_by_crm(crm_ids: Sequence[str]) -> dict[str, int]:
    """CRM id -> account id, in chunked queries."""
    out: dict[str, int] = {}
    unique = sorted(set(crm_ids))
    for chunk in chunks(unique, 2000):
        out.update(Account.objects.filter(crm_id__in=list(chunk)).values_list("crm_id", "pk"))
    return out


def check_usage_rows(rows: Sequence[UsageRow]) -> tuple[list[tuple[int, int, dt.date, int]], list[RowError]]:
    """Resolve ``rows`` to (account id, metric id, day, value); every problem as a ``RowError``."""
    errors: list[RowError] = []
    metrics = dict(UsageMetric.objects.values_list("key", "pk"))
    accounts = account_ids_by_crm([r.account for r in rows])
    seen: dict[tuple[int, int, dt.date], str] = {}
    out: list[tuple[int, int, dt.date, int]] = []
    for row in rows:
        bad = False
        account_id = accounts.get(row.account)
        if account_id is None:
            errors.append(RowError(row.ref, "account", row.account, "is not a known account (CRM id)"))
            bad = True
        metric_id = metrics.get(row.metric)
        if metric_id is None:
            errors.append(RowError(row.ref, "metric", row.metric, "is not a known metric"))
            bad = True
        if row.value < 0:
            errors.append(RowError(row.ref, "value", str(row.value), "is negative"))
            bad = True
        elif row.value > MAX_VALUE:
            errors.append(RowError(row.ref, "value", str(row.value), "is too large"))
            bad = True
        if bad or account_id is None or metric_id is None:
            continue
        key = (account_id, metric_id, row.day)
        first = seen.get(key)
        if first is not None:
            errors.append(RowError(row.ref, "day", row.day.isoformat(), f"repeats {first} (same account and metric)"))
            continue
        seen[key] = row.ref
        out.append((account_id, metric_id, row.day, row.value))
    return out, errors


@dataclass(frozen=True)
class CheckedTicket:
    account_id: int
    external_id: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    priority: str
    status: str


def check_ticket_rows(rows: Sequence[TicketRow]) -> tuple[list[CheckedTicket], list[RowError]]:
    errors: list[RowError] = []
    accounts = account_ids_by_crm([r.account for r in rows])
    seen: dict[str, str] = {}
    out: list[CheckedTicket] = []
    priorities = set(TicketPriority.values)
    statuses = set(TicketStatus.values)
    for row in rows:
        bad = False
        account_id = accounts.get(row.account)
        if account_id is None:
            errors.append(RowError(row.ref, "account", row.account, "is not a known account (CRM id)"))
            bad = True
        external_id = row.external_id.strip()
        if not external_id:
            errors.append(RowError(row.ref, "external_id", "", "is empty"))
            bad = True
        elif len(external_id) > 64:
            errors.append(RowError(row.ref, "external_id", external_id, "is longer than 64 characters"))
            bad = True
        if row.priority not in priorities:
            errors.append(RowError(row.ref, "priority", row.priority, "is not urgent, high, normal or low"))
            bad = True
        if row.status not in statuses:
            errors.append(RowError(row.ref, "status", row.status, "is not open, pending, solved or closed"))
            bad = True
        if row.closed_at is not None and row.closed_at < row.opened_at:
            errors.append(RowError(row.ref, "closed_at", row.closed_at.isoformat(), "is before opened_at"))
            bad = True
        if bad or account_id is None:
            continue
        first = seen.get(external_id)
        if first is not None:
            errors.append(RowError(row.ref, "external_id", external_id, f"repeats {first}"))
            continue
        seen[external_id] = row.ref
        out.append(CheckedTicket(account_id, external_id, row.opened_at, row.closed_at, row.priority, row.status))
    return out, errors
