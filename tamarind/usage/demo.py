"""Demo product usage and support tickets, shaped per account and loaded through the ingest services.

The demo book's TAM-managed customers report usage the way a product feed does: every built-in metric for every
day reported (licenses, billable users, active users, the standard use cases). ``usage_rows`` turns a
``UsageCurve`` (utilization and use cases adopted at the start and at the end of the story) into ``UsageRow``s for
the days asked; ``TicketDraft.row_as_of`` says how the support system reported a ticket at a given moment (open,
pending, solved or closed by then). ``usage_load`` and ``tickets_load`` send them through ``usage.services`` in
chunks, so the monthly rollups, the ingest batch records and their audit events are the production ones.

Everything is deterministic: the small day-to-day noise comes from a ``random.Random`` seeded by the account's CRM
id and the story's seed (string seeds hash the same in every process, unlike ``hash()``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tamarind.people.models import User
from tamarind.usage.models import MetricKind, TicketPriority, TicketStatus, UsageMetric
from tamarind.usage.rows import MAX_BATCH_ROWS, TicketRow, UsageRow
from tamarind.usage.services import IngestResult, tickets_ingest_chunks, usage_ingest_chunks

SOURCE = "demo"
CHUNK_ROWS = 20_000
# Share of active users on each standard use case once adopted, in adoption order (source code management comes
# first, continuous delivery last); metrics added by admins get the last share.
USE_CASE_ORDER = ("scm_users", "ci_users", "security_users", "cd_users")
USE_CASE_SHARES = (0.88, 0.62, 0.34, 0.22)
# Tickets move from solved to closed two days after they are solved.
CLOSE_AFTER = dt.timedelta(days=2)

ProgressFn = Callable[[int, int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class DemoMetrics:
    """The built-in metrics by role: what a demo feed reports."""

    licenses: str
    billable: str
    active: str
    use_cases: tuple[str, ...]


def demo_metrics() -> DemoMetrics:
    """The built-in metric keys (seeded by the usage app's migration), use cases in adoption order."""
    by_kind: dict[str, list[str]] = {}
    for key, kind in UsageMetric.objects.filter(builtin=True).order_by("key").values_list("key", "kind"):
        by_kind.setdefault(kind, []).append(key)
    use_cases = sorted(
        by_kind.get(MetricKind.USE_CASE, []),
        key=lambda k: (USE_CASE_ORDER.index(k) if k in USE_CASE_ORDER else len(USE_CASE_ORDER), k),
    )
    try:
        return DemoMetrics(
            licenses=by_kind[MetricKind.LICENSES][0],
            billable=by_kind[MetricKind.BILLABLE][0],
            active=by_kind[MetricKind.ACTIVE][0],
            use_cases=tuple(use_cases),
        )
    except (KeyError, IndexError) as exc:
        raise RuntimeError("The built-in usage metrics are missing: run `tamarind migrate` first.") from exc


@dataclass(frozen=True)
class UsageCurve:
    """How one account's usage moves over the story: utilization (active users / licenses) goes in a straight
    line from ``util_from`` on ``since`` to ``util_to`` on ``until``; ``use_cases_from`` use cases are adopted at
    the start and ``use_cases_to`` from the middle of the story on. A customer newer than the story starts from
    nothing on its first day (``since`` is then its contract start)."""

    crm_id: str
    licenses: int
    since: dt.date
    until: dt.date
    util_from: float
    util_to: float
    use_cases_from: int
    use_cases_to: int
    noise: float = 0.006

    def utilization(self, day: dt.date) -> float:
        span = max((self.until - self.since).days, 1)
        share = min(max((day - self.since).days / span, 0.0), 1.0)
        return self.util_from + (self.util_to - self.util_from) * share

    def use_cases(self, day: dt.date) -> int:
        middle = self.since + (self.until - self.since) / 2
        return self.use_cases_to if day >= middle else self.use_cases_from


def usage_rows(curve: UsageCurve, days: Iterable[dt.date], metrics: DemoMetrics, *, seed: int) -> list[UsageRow]:
    """Every metric of ``metrics`` for each of ``days`` (days before ``curve.since`` are skipped)."""
    rng = random.Random(f"{seed}:usage:{curve.crm_id}")
    licenses = max(curve.licenses, 1)
    rows: list[UsageRow] = []
    for day in days:
        if day < curve.since:
            continue
        util = max(curve.utilization(day) * (1 + rng.uniform(-curve.noise, curve.noise)), 0.0)
        active = min(round(licenses * util), licenses)
        billable = max(active, round(licenses * min(0.97, util + 0.12)))
        crm = curve.crm_id
        rows.append(UsageRow(crm, day, metrics.licenses, licenses))
        rows.append(UsageRow(crm, day, metrics.billable, billable))
        rows.append(UsageRow(crm, day, metrics.active, active))
        adopted = curve.use_cases(day)
        for i, key in enumerate(metrics.use_cases):
            share = USE_CASE_SHARES[min(i, len(USE_CASE_SHARES) - 1)]
            value = max(round(active * share * (1 + rng.uniform(-0.03, 0.03))), 1) if i < adopted and active else 0
            rows.append(UsageRow(crm, day, key, value))
    return rows


@dataclass(frozen=True)
class TicketDraft:
    """A support ticket's whole life: opened, solved (``solved_at``; None: still open today), priority, and whether
    it waits on the customer (pending) while open."""

    crm_id: str
    external_id: str
    opened_at: dt.datetime
    solved_at: dt.datetime | None
    priority: str = TicketPriority.NORMAL
    pending: bool = False

    def row_as_of(self, at: dt.datetime) -> TicketRow | None:
        """The ticket as the support system reported it at ``at`` (None: not opened yet)."""
        if self.opened_at > at:
            return None
        if self.solved_at is None or self.solved_at > at:
            status = TicketStatus.PENDING if self.pending else TicketStatus.OPEN
            return TicketRow(self.crm_id, self.external_id, self.opened_at, None, self.priority, status)
        status = TicketStatus.CLOSED if at - self.solved_at >= CLOSE_AFTER else TicketStatus.SOLVED
        return TicketRow(self.crm_id, self.external_id, self.opened_at, self.solved_at, self.priority, status)


def _batches(rows: Sequence[T], progress: ProgressFn | None, done: int, total: int) -> Iterator[Sequence[T]]:
    size = min(CHUNK_ROWS, MAX_BATCH_ROWS)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
        if progress is not None:
            progress(done + min(start + size, len(rows)), total)


def usage_load(
    *,
    actor: User | None,
    rows: Sequence[UsageRow],
    progress: ProgressFn | None = None,
    done: int = 0,
    total: int = 0,
) -> IngestResult:
    """Send ``rows`` through ``usage_ingest_chunks`` (one batch record, rollups kept). The health consequences are
    left to the caller: the demo rescores the whole book once its story is loaded (``health_recompute_all``)."""
    if not rows:
        return IngestResult()
    batches = _batches(rows, progress, done, total or len(rows))
    return usage_ingest_chunks(actor=actor, batches=batches, source=SOURCE, consequences=False)


def tickets_load(
    *, actor: User | None, drafts: Sequence[TicketDraft], at: dt.datetime, since: dt.datetime | None = None
) -> IngestResult:
    """Report ``drafts`` as they stood at ``at`` through ``tickets_ingest_chunks``. With ``since`` (the previous
    sync), only the tickets opened or changed since then are sent, as a support system's incremental sync does: a
    ticket reported open and solved since is updated."""
    rows = []
    for d in drafts:
        row = d.row_as_of(at)
        if row is not None and (since is None or row != d.row_as_of(since)):
            rows.append(row)
    if not rows:
        return IngestResult()
    batches = _batches(rows, None, 0, len(rows))
    return tickets_ingest_chunks(actor=actor, batches=batches, source=SOURCE, consequences=False)
