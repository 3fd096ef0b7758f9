"""The demo's usage feed and ticket sync: curves to daily rows, tickets as reported at a moment, loaded through the
ingest services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tamarind.usage.demo import (
    TicketDraft,
    UsageCurve,
    demo_metrics,
    tickets_load,
    usage_load,
    usage_rows,
)
from tamarind.usage.models import IngestBatch, SupportTicket, UsageDaily, UsageMonthly

DAY = dt.date(2026, 11, 23)


def _curve(**kw: Any) -> UsageCurve:
    values: dict[str, Any] = {
        "crm_id": "A-1",
        "licenses": 200,
        "since": DAY - dt.timedelta(days=100),
        "until": DAY,
        "util_from": 0.8,
        "util_to": 0.4,
        "use_cases_from": 3,
        "use_cases_to": 1,
    }
    values.update(kw)
    return UsageCurve(**values)


def test_a_curve_moves_in_a_straight_line_and_use_cases_change_halfway() -> None:
    curve = _curve()
    assert curve.utilization(curve.since) == pytest.approx(0.8)
    assert curve.utilization(DAY - dt.timedelta(days=50)) == pytest.approx(0.6)
    assert curve.utilization(DAY) == pytest.approx(0.4)
    assert curve.utilization(DAY + dt.timedelta(days=9)) == pytest.approx(0.4)
    assert curve.use_cases(DAY - dt.timedelta(days=51)) == 3
    assert curve.use_cases(DAY - dt.timedelta(days=50)) == 1


@pytest.mark.django_db
def test_rows_report_every_builtin_metric_per_day() -> None:
    metrics = demo_metrics()
    days = [DAY - dt.timedelta(days=d) for d in (120, 30, 1, 0)]
    rows = usage_rows(_curve(), days, metrics, seed=1)
    assert {r.day for r in rows} == set(days[1:])  # nothing before the curve starts
    assert len(rows) == 3 * (3 + len(metrics.use_cases))
    today = {r.metric: r.value for r in rows if r.day == DAY}
    assert today[metrics.licenses] == 200 and 75 <= today[metrics.active] <= 85
    assert today[metrics.billable] >= today[metrics.active]
    adopted = [today[k] for k in metrics.use_cases]
    assert adopted[0] > 0 and adopted[1:] == [0] * (len(adopted) - 1)
    assert usage_rows(_curve(), days, metrics, seed=1) == rows
    assert usage_rows(_curve(), days, metrics, seed=2) != rows


def test_a_ticket_as_the_support_system_reported_it() -> None:
    opened = timezone.make_aware(dt.datetime(2026, 11, 1, 9))
    ticket = TicketDraft("A-1", "SUP-1", opened, opened + dt.timedelta(days=3), pending=True)
    assert ticket.row_as_of(opened - dt.timedelta(hours=1)) is None
    row = ticket.row_as_of(opened + dt.timedelta(days=1))
    assert row is not None and row.status == "pending" and row.closed_at is None
    row = ticket.row_as_of(opened + dt.timedelta(days=4))
    assert row is not None and row.status == "solved" and row.closed_at == opened + dt.timedelta(days=3)
    row = ticket.row_as_of(opened + dt.timedelta(days=6))
    assert row is not None and row.status == "closed"
    still_open = TicketDraft("A-1", "SUP-2", opened, None, priority="urgent")
    row = still_open.row_as_of(opened + dt.timedelta(days=30))
    assert row is not None and row.status == "open" and row.priority == "urgent"


@pytest.mark.django_db
def test_loading_goes_through_the_ingest_services(book: Any) -> None:
    crm = book.account.crm_id
    today = timezone.localdate()
    rows = usage_rows(
        _curve(crm_id=crm, until=today, since=today - dt.timedelta(days=60)), [today], demo_metrics(), seed=1
    )
    seen: list[tuple[int, int]] = []
    result = usage_load(actor=book.admin, rows=rows, progress=lambda done, total: seen.append((done, total)))
    assert result.created == len(rows) == UsageDaily.objects.count()
    assert UsageMonthly.objects.filter(account=book.account).count() == len(rows)
    assert seen[-1] == (len(rows), len(rows))
    now = timezone.now()
    earlier = now - dt.timedelta(days=10)
    drafts = [
        TicketDraft(crm, "SUP-1", now - dt.timedelta(days=20), now - dt.timedelta(days=19)),  # closed by then
        TicketDraft(crm, "SUP-2", now - dt.timedelta(days=12), now - dt.timedelta(days=1)),  # solved since
        TicketDraft(crm, "SUP-3", now - dt.timedelta(days=3), None),  # opened since
    ]
    assert tickets_load(actor=book.admin, drafts=drafts, at=earlier).created == 2
    again = tickets_load(actor=book.admin, drafts=drafts, at=now, since=earlier)
    assert (again.received, again.created, again.updated) == (2, 1, 1)  # only what changed is sent
    assert SupportTicket.objects.get(external_id="SUP-2").status == "solved"
    assert IngestBatch.objects.filter(source="demo").count() == 3
