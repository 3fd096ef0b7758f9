"""The usage pages: the permission trio and constant query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.usage.models import UsageMetric
from tamarind.usage.rows import TicketRow, UsageRow
from tamarind.usage.services import tickets_ingest, usage_ingest_daily


def fill(book: Any, days: int, tickets: int) -> None:
    crm = book.account.crm_id
    start = dt.date(2025, 1, 1)
    rows = []
    for i in range(days):
        day = start + dt.timedelta(days=i * 7)
        rows += [UsageRow(crm, day, "active_users", 10 + i), UsageRow(crm, day, "licenses", 300)]
    usage_ingest_daily(actor=book.admin, rows=rows)
    if tickets:
        opened = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        tickets_ingest(
            actor=book.admin,
            rows=[
                TicketRow(crm, f"T-{i}", opened + dt.timedelta(days=i), None, "normal", "open") for i in range(tickets)
            ],
        )


def queries(client: Any, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return len(ctx.captured_queries), response


@pytest.mark.django_db
def test_account_usage_page_trio_and_query_count(book: Any, client_for: Any) -> None:
    url = f"/usage/accounts/{book.account.pk}/"
    fill(book, 1, 1)
    reader = client_for(book.sal)
    reader.get(url)
    small, response = queries(reader, url)
    assert response.status_code == 200
    assert b"Usage of Acme Corp" in response.content
    fill(book, 60, 15)
    large, response = queries(reader, url)
    assert large == small
    assert b'id="usage-chart"' in response.content and b"T-14" in response.content
    assert client_for(book.other_tam).get(url).status_code == 404


@pytest.mark.django_db
def test_metrics_page_trio(book: Any, client_for: Any) -> None:
    assert client_for(book.tam).get("/usage/metrics/").status_code == 200
    manager = client_for(book.manager)
    before = AuditEvent.objects.count()
    assert manager.post("/usage/metrics/", {"key": "x", "label": "X"}).status_code == 403
    assert AuditEvent.objects.count() == before
    admin = client_for(book.admin)
    response = admin.post("/usage/metrics/", {"key": "pages_users", "label": "Pages users"})
    assert response.status_code == 302
    assert UsageMetric.objects.filter(key="pages_users", kind="use_case").exists()
    again = admin.post("/usage/metrics/", {"key": "pages_users", "label": "Again"})
    assert again.status_code == 400 and "exists" in again.content.decode()


@pytest.mark.django_db
def test_metrics_page_query_count(book: Any, client_for: Any) -> None:
    admin = client_for(book.admin)
    admin.get("/usage/metrics/")
    small, _ = queries(admin, "/usage/metrics/")
    fill(book, 5, 3)
    UsageMetric.objects.create(key="extra", label="Extra")
    large, _ = queries(admin, "/usage/metrics/")
    assert large == small


@pytest.mark.django_db
def test_account_page_and_navigation_link_to_usage(book: Any, client_for: Any) -> None:
    page = client_for(book.sal).get(f"/accounts/{book.account.pk}/").content.decode()
    assert f'href="/usage/accounts/{book.account.pk}/"' in page
    assert 'href="/usage/metrics/"' in page
