"""The renewals API: bad input answers 422 naming the field and writes nothing; list and detail queries constant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.conftest import Book
from tamarind.renewals.models import Renewal, RenewalStep
from tamarind.renewals.tests.factories import RenewalFactory, snap
from tamarind.testing.factories import AccountFactory


def test_bad_input_is_named(book: Book, api_for: Any) -> None:
    api = api_for(book.tam)
    for body, field in (
        ({"account_id": book.account.pk, "renewal_date": "not a date"}, "renewal_date"),
        ({"account_id": book.account.pk, "arr": "-1"}, "arr"),
        ({"account_id": book.account.pk, "arr": "abc"}, "arr"),
        ({"account_id": book.account.pk, "forecast": "maybe"}, "forecast"),
    ):
        response = api.post("/api/v1/renewals/", body, content_type="application/json")
        assert response.status_code == 422 and field in response.content.decode(), (body, response.content)
    assert (
        api.post(
            "/api/v1/renewals/", {"account_id": book.other_account.pk}, content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        api_for(book.sa)
        .post("/api/v1/renewals/", {"account_id": book.account.pk}, content_type="application/json")
        .status_code
        == 403
    )
    r = RenewalFactory(account=book.account)
    response = api.post(f"/api/v1/renewals/{r.pk}/close", {"outcome": "expanded"}, content_type="application/json")
    assert response.status_code == 422 and "new_arr" in response.content.decode()
    response = api.post(
        f"/api/v1/renewals/{r.pk}/close", {"outcome": "expanded", "new_arr": "100"}, content_type="application/json"
    )
    assert response.status_code == 422 and "outcome" in response.content.decode()
    assert api_for(book.director).get("/api/v1/renewals/retention?by=planet").status_code == 422
    assert Renewal.objects.count() == 1 and Renewal.objects.get().is_open


def test_create_close_and_retention(book: Book, api_for: Any) -> None:
    api = api_for(book.manager)
    created = api.post(
        "/api/v1/renewals/", {"account_id": book.account.pk, "forecast": "commit"}, content_type="application/json"
    )
    assert created.status_code == 201
    body = created.json()
    assert body["renewal_date"] == book.account.next_renewal_date.isoformat() and body["forecast"] == "commit"
    closed = api.post(
        f"/api/v1/renewals/{body['id']}/close",
        {"outcome": "churned", "new_arr": "0", "outcome_reason": "cancellation"},
        content_type="application/json",
    )
    assert closed.status_code == 200 and closed.json()["outcome"] == "churned"
    summary = api.get("/api/v1/renewals/review").json()
    assert len(summary["quarters"]) == 4 and summary["quarters"][0]["label"].startswith("FY")
    empty = api.get("/api/v1/renewals/retention?end=2020-01-01").json()
    assert empty["book"]["gross"] is None and empty["book"]["accounts"] == 0


def _grow(book: Book, n: int) -> None:
    for i in range(n):
        a = AccountFactory(region=book.east, tam=book.tam)
        r = RenewalFactory(account=a, renewal_date=dt.date(2027, 1, 1) + dt.timedelta(days=i), arr=Decimal(10 + i))
        RenewalStep.objects.create(renewal=r, text="x")
        snap(a.pk, dt.date(2025, 10, 1), 100)
        snap(a.pk, dt.date(2026, 10, 1), 90 + i)


def test_query_counts_are_constant(book: Book, api_for: Any, django_assert_num_queries: Any) -> None:
    api = api_for(book.manager)
    paths = [
        "/api/v1/renewals/",
        "/api/v1/renewals/review",
        "/api/v1/renewals/reviews",
        "/api/v1/renewals/retention?by=tam",
    ]
    _grow(book, 3)
    counts = {}
    for path in paths:
        api.get(path)
        with CaptureQueriesContext(connection) as small:
            assert api.get(path).status_code == 200
        counts[path] = len(small.captured_queries)
    _grow(book, 30)
    for path in paths:
        with django_assert_num_queries(counts[path]):
            assert api.get(path).status_code == 200
