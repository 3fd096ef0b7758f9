"""The usage API: batch pushes (all-or-nothing, per-row 422, idempotent), reads, the trio and query counts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tamarind.audit.models import AuditEvent
from tamarind.testing.factories import AccountFactory
from tamarind.usage.models import SupportTicket, UsageDaily


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def usage_rows(crm: str, n: int = 3) -> list[dict[str, Any]]:
    return [
        {"account": crm, "day": f"2026-03-{1 + i:02d}", "metric": "active_users", "value": 10 + i} for i in range(n)
    ]


@pytest.mark.django_db
def test_push_daily_and_idempotent(book: Any, api_for: Any) -> None:
    client = api_for(book.admin)
    response = post(client, "/api/v1/usage/daily", usage_rows(book.account.crm_id))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "received": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "accounts": 1,
        "first_values": 0,
    }
    again = post(client, "/api/v1/usage/daily", usage_rows(book.account.crm_id))
    assert again.json()["unchanged"] == 3 and again.json()["accounts"] == 0


@pytest.mark.django_db
def test_push_daily_422_names_each_bad_row_and_writes_nothing(book: Any, api_for: Any) -> None:
    client = api_for(book.admin)
    rows = usage_rows(book.account.crm_id)
    rows[1]["account"] = "NOPE"
    rows[2]["metric"] = "nope"
    response = post(client, "/api/v1/usage/daily", rows)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"row 1", "row 2"}
    assert not UsageDaily.objects.exists()
    # Schema problems are per row too.
    response = post(client, "/api/v1/usage/daily", [{**usage_rows(book.account.crm_id)[0], "value": -1}])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][-2:] == [0, "value"] or "value" in response.json()["detail"]
    assert post(client, "/api/v1/usage/daily", []).status_code == 422


@pytest.mark.django_db
def test_push_tickets(book: Any, api_for: Any) -> None:
    client = api_for(book.admin)
    rows = [
        {
            "account": book.account.crm_id,
            "external_id": "T-1",
            "opened_at": "2026-03-01T10:00:00",
            "priority": "urgent",
        },
        {
            "account": book.account.crm_id,
            "external_id": "T-2",
            "opened_at": "2026-03-02T10:00:00Z",
            "closed_at": "2026-03-03T10:00:00Z",
            "status": "solved",
        },
    ]
    response = post(client, "/api/v1/usage/tickets", rows)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    assert SupportTicket.objects.get(external_id="T-1").opened_at.tzinfo is not None
    bad = post(client, "/api/v1/usage/tickets", [{**rows[0], "priority": "p1"}])
    assert bad.status_code == 422


@pytest.mark.django_db
def test_push_trio(book: Any, api_for: Any) -> None:
    """Admins push; everyone else signed in gets 403 and nothing is written; no token gets 401."""
    rows = usage_rows(book.account.crm_id, 1)
    assert post(api_for(book.admin), "/api/v1/usage/daily", rows).status_code == 200
    clients = [api_for(user) for user in (book.manager, book.tam, book.director)]  # token creation is audited
    before = AuditEvent.objects.count()
    for client in clients:
        assert post(client, "/api/v1/usage/daily", usage_rows(book.account.crm_id, 2)).status_code == 403
    assert AuditEvent.objects.filter(object_type="usage.ingestbatch").count() == 1
    assert AuditEvent.objects.count() == before
    from django.test import Client

    assert post(Client(), "/api/v1/usage/daily", rows).status_code == 401


@pytest.mark.django_db
def test_account_usage_trio(book: Any, api_for: Any) -> None:
    post(api_for(book.admin), "/api/v1/usage/daily", usage_rows(book.account.crm_id))
    ok = api_for(book.tam).get(f"/api/v1/usage/accounts/{book.account.pk}")
    assert ok.status_code == 200
    body = ok.json()
    assert body["facts"]["active_users"] == 12 and body["facts"]["licenses"] == 250
    assert body["months"][0]["metric"] == "active_users" and body["months"][0]["days_reported"] == 3
    assert api_for(book.other_tam).get(f"/api/v1/usage/accounts/{book.account.pk}").status_code == 404
    assert api_for(book.other_tam).get(f"/api/v1/usage/accounts/{book.account.pk}/tickets").status_code == 404
    assert api_for(book.sal).get(f"/api/v1/usage/accounts/{book.account.pk}/tickets").status_code == 200


@pytest.mark.django_db
def test_metric_create_trio(book: Any, api_for: Any) -> None:
    body = {"key": "pages_users", "label": "Pages users"}
    assert post(api_for(book.manager), "/api/v1/usage/metrics", body).status_code == 403
    admin = api_for(book.admin)
    created = post(admin, "/api/v1/usage/metrics", body)
    assert created.status_code == 201 and created.json()["kind"] == "use_case"
    assert post(admin, "/api/v1/usage/metrics", body).status_code == 422
    keys = [m["key"] for m in api_for(book.sa).get("/api/v1/usage/metrics").json()]
    assert "pages_users" in keys and "active_users" in keys


def _count_queries(_: Any, fn: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_push_query_count_does_not_grow_with_rows(book: Any, api_for: Any, monkeypatch: Any) -> None:
    # The health recompute that follows an ingest is counted by the health app's tests.
    monkeypatch.setattr("tamarind.usage.services._after_ingest", lambda account_ids, source: None)
    client = api_for(book.admin)
    accounts = [AccountFactory(region=book.east) for _ in range(6)]
    client.get("/api/v1/usage/metrics")  # the token's first use is recorded once
    small = _count_queries(None, lambda: post(client, "/api/v1/usage/daily", usage_rows(accounts[0].crm_id, 2)))
    large_rows = [r for a in accounts[1:] for r in usage_rows(a.crm_id, 20)]
    large = _count_queries(None, lambda: post(client, "/api/v1/usage/daily", large_rows))
    assert large == small


@pytest.mark.django_db
def test_read_query_counts_constant(book: Any, api_for: Any) -> None:
    client = api_for(book.admin)
    post(client, "/api/v1/usage/daily", usage_rows(book.account.crm_id, 1))
    one = {"account": book.account.crm_id, "external_id": "T-0", "opened_at": "2026-03-01T10:00:00Z"}
    post(client, "/api/v1/usage/tickets", [one])
    reader = api_for(book.tam)
    reader.get("/api/v1/usage/metrics")  # the token's first use is recorded once
    small = _count_queries(None, lambda: reader.get(f"/api/v1/usage/accounts/{book.account.pk}"))
    small_t = _count_queries(None, lambda: reader.get(f"/api/v1/usage/accounts/{book.account.pk}/tickets"))
    post(client, "/api/v1/usage/daily", usage_rows(book.account.crm_id, 28))
    post(
        client,
        "/api/v1/usage/tickets",
        [
            {"account": book.account.crm_id, "external_id": f"T-{i}", "opened_at": f"2026-03-{1 + i:02d}T10:00:00Z"}
            for i in range(20)
        ],
    )
    assert _count_queries(None, lambda: reader.get(f"/api/v1/usage/accounts/{book.account.pk}")) == small
    assert _count_queries(None, lambda: reader.get(f"/api/v1/usage/accounts/{book.account.pk}/tickets")) == small_t
