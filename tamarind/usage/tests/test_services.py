"""Usage and ticket ingest: upserts, rollups, idempotency, all-or-nothing, first value, the policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.usage.models import IngestBatch, SupportTicket, TicketMonthly, UsageDaily, UsageMetric, UsageMonthly
from tamarind.usage.rows import TicketRow, UsageRow
from tamarind.usage.services import tickets_ingest, usage_ingest_daily, usage_metric_create

D = dt.date


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day))


def rows(crm: str, *items: tuple[str, str, int]) -> list[UsageRow]:
    return [
        UsageRow(crm, D.fromisoformat(day), metric, value, ref=f"row {i}")
        for i, (day, metric, value) in enumerate(items)
    ]


@pytest.mark.django_db
def test_ingest_creates_rows_and_monthly_rollups(book: Any) -> None:
    crm = book.account.crm_id
    result = usage_ingest_daily(
        actor=book.admin,
        rows=rows(
            crm,
            ("2026-03-01", "active_users", 10),
            ("2026-03-02", "active_users", 30),
            ("2026-03-03", "active_users", 20),
            ("2026-04-01", "active_users", 25),
        ),
    )
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    assert result.account_ids == [book.account.pk]
    march = UsageMonthly.objects.get(account=book.account, month=D(2026, 3, 1))
    assert (march.last_value, march.last_day, march.max_value, march.days_reported) == (20, D(2026, 3, 3), 30, 3)
    assert UsageMonthly.objects.get(account=book.account, month=D(2026, 4, 1)).last_value == 25
    batch = IngestBatch.objects.get()
    assert (batch.created, batch.accounts, batch.first_day, batch.last_day) == (4, 1, D(2026, 3, 1), D(2026, 4, 1))
    assert AuditEvent.objects.filter(object_type="usage.ingestbatch").count() == 1


@pytest.mark.django_db
def test_ingest_is_idempotent_and_updates_rollups(book: Any) -> None:
    crm = book.account.crm_id
    batch = rows(crm, ("2026-03-01", "active_users", 10), ("2026-03-02", "ci_users", 4))
    usage_ingest_daily(actor=book.admin, rows=batch)
    events = AuditEvent.objects.count()
    again = usage_ingest_daily(actor=book.admin, rows=batch)
    assert (again.created, again.updated, again.unchanged, again.account_ids) == (0, 0, 2, [])
    assert AuditEvent.objects.count() == events
    assert IngestBatch.objects.count() == 1
    fixed = usage_ingest_daily(actor=book.admin, rows=rows(crm, ("2026-03-02", "ci_users", 9)))
    assert (fixed.created, fixed.updated) == (0, 1)
    ci = UsageMetric.objects.get(key="ci_users")
    assert UsageMonthly.objects.get(account=book.account, metric=ci).last_value == 9
    assert UsageDaily.objects.count() == 2


@pytest.mark.django_db
def test_ingest_is_all_or_nothing_with_row_errors(book: Any) -> None:
    bad = [
        UsageRow(book.account.crm_id, D(2026, 3, 1), "active_users", 5, ref="row 0"),
        UsageRow("NOPE", D(2026, 3, 1), "active_users", 5, ref="row 1"),
        UsageRow(book.account.crm_id, D(2026, 3, 1), "no_such_metric", 5, ref="row 2"),
        UsageRow(book.account.crm_id, D(2026, 3, 1), "active_users", 6, ref="row 3"),
    ]
    with pytest.raises(ValidationFailed) as exc:
        usage_ingest_daily(actor=book.admin, rows=bad)
    assert set(exc.value.errors) == {"row 1", "row 2", "row 3"}
    assert "is not a known account" in exc.value.errors["row 1"][0]
    assert "repeats row 0" in exc.value.errors["row 3"][0]
    assert not UsageDaily.objects.exists()
    with pytest.raises(ValidationFailed):
        usage_ingest_daily(actor=book.admin, rows=[])


@pytest.mark.django_db
def test_only_admins_push(book: Any) -> None:
    with pytest.raises(PermissionDenied):
        usage_ingest_daily(actor=book.manager, rows=rows(book.account.crm_id, ("2026-03-01", "active_users", 1)))
    with pytest.raises(PermissionDenied):
        tickets_ingest(actor=book.tam, rows=[])
    assert not UsageDaily.objects.exists()


@pytest.mark.django_db
def test_first_value_set_when_utilization_reaches_ten_percent(book: Any) -> None:
    onboarding = OnboardingFactory(account=book.account, tam=book.tam)
    crm = book.account.crm_id  # 250 licenses on the account
    usage_ingest_daily(actor=book.admin, rows=rows(crm, ("2026-03-01", "active_users", 24)))
    onboarding.refresh_from_db()
    assert onboarding.first_value is None
    result = usage_ingest_daily(
        actor=book.admin,
        rows=rows(crm, ("2026-03-03", "active_users", 26), ("2026-03-02", "active_users", 25)),
    )
    assert result.first_values == 1
    onboarding.refresh_from_db()
    assert onboarding.first_value == D(2026, 3, 2)
    event = AuditEvent.objects.filter(object_type="onboarding.onboarding").latest("id")
    assert event.actor is None and event.after == {"first_value": "2026-03-02"}
    # Set once: later usage leaves it alone.
    usage_ingest_daily(actor=book.admin, rows=rows(crm, ("2026-02-01", "active_users", 200)))
    onboarding.refresh_from_db()
    assert onboarding.first_value == D(2026, 3, 2)


@pytest.mark.django_db
def test_first_value_uses_the_days_licenses_metric(book: Any) -> None:
    onboarding = OnboardingFactory(account=book.account, tam=book.tam)
    crm = book.account.crm_id
    usage_ingest_daily(
        actor=book.admin, rows=rows(crm, ("2026-03-01", "licenses", 1000), ("2026-03-01", "active_users", 50))
    )
    onboarding.refresh_from_db()
    assert onboarding.first_value is None  # 5% of the day's 1,000 licenses, though 20% of the account's 250


def ticket(
    crm: str,
    ext: str,
    opened: str,
    *,
    priority: str = "normal",
    status: str = "open",
    closed: str | None = None,
    ref: str = "",
) -> TicketRow:
    return TicketRow(crm, ext, at(opened), at(closed) if closed else None, priority, status, ref=ref)


@pytest.mark.django_db
def test_tickets_ingest_rollups_and_idempotency(book: Any) -> None:
    crm = book.account.crm_id
    batch = [
        ticket(crm, "T-1", "2026-03-01T10:00"),
        ticket(crm, "T-2", "2026-03-05T10:00", priority="urgent"),
        ticket(crm, "T-3", "2026-04-01T10:00"),
    ]
    result = tickets_ingest(actor=book.admin, rows=batch)
    assert (result.created, result.account_ids) == (3, [book.account.pk])
    march = TicketMonthly.objects.get(account=book.account, month=D(2026, 3, 1))
    assert (march.opened, march.urgent_opened) == (2, 1)
    again = tickets_ingest(actor=book.admin, rows=batch)
    assert (again.changed, again.unchanged) == (0, 3)
    # Moving a ticket to another month updates both months.
    moved = tickets_ingest(
        actor=book.admin,
        rows=[ticket(crm, "T-2", "2026-04-02T10:00", priority="urgent", status="solved", closed="2026-04-03T00:00")],
    )
    assert moved.updated == 1
    assert TicketMonthly.objects.get(account=book.account, month=D(2026, 3, 1)).opened == 1
    april = TicketMonthly.objects.get(account=book.account, month=D(2026, 4, 1))
    assert (april.opened, april.urgent_opened) == (2, 1)
    assert SupportTicket.objects.get(external_id="T-2").status == "solved"


@pytest.mark.django_db
def test_tickets_row_errors(book: Any) -> None:
    crm = book.account.crm_id
    with pytest.raises(ValidationFailed) as exc:
        tickets_ingest(
            actor=book.admin,
            rows=[
                ticket(crm, "T-1", "2026-03-01T10:00", ref="row 0"),
                ticket(crm, "T-1", "2026-03-01T10:00", ref="row 1"),
                ticket(crm, "T-2", "2026-03-01T10:00", priority="p1", ref="row 2"),
                ticket(crm, "T-3", "2026-03-02T10:00", closed="2026-03-01T00:00", ref="row 3"),
            ],
        )
    assert set(exc.value.errors) == {"row 1", "row 2", "row 3"}
    assert not SupportTicket.objects.exists()


@pytest.mark.django_db
def test_metric_create_admin_only_and_audited(book: Any) -> None:
    metric = usage_metric_create(actor=book.admin, key="Pages Users", label="Pages users")
    assert (metric.key, metric.kind, metric.builtin) == ("pages_users", "use_case", False)
    assert AuditEvent.objects.filter(object_type="usage.usagemetric").count() == 1
    with pytest.raises(ValidationFailed):
        usage_metric_create(actor=book.admin, key="pages_users", label="Again")
    with pytest.raises(PermissionDenied):
        usage_metric_create(actor=book.manager, key="x", label="X")
