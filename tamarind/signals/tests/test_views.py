"""The Signals pages: figures over what the user sees, bad input explained, constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.signals.models import Outcome, SignalInterval
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 6, 1)


def seed(book, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        account = AccountFactory(region=book.east)
        Outcome.objects.create(account=account, kind="churned" if i % 2 else "renewed_flat", on=ON, source="renewal")
        SignalInterval.objects.create(account=account, key="no_call", started_on=ON - dt.timedelta(days=30 + i))


def test_index_explains_no_outcomes(book, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(book.manager).get("/signals/?segment=bogus&region=x&start=nope")
    assert response.status_code == 200
    assert b"No outcomes in this window" in response.content


def test_index_too_few_then_figures(book, client_for) -> None:  # type: ignore[no-untyped-def]
    seed(book, 6)
    page = client_for(book.admin).get("/signals/").content.decode()
    assert "Too few outcomes to judge." in page
    seed(book, 30)
    page = client_for(book.admin).get("/signals/").content.decode()
    assert 'data-signal="no_call" data-horizon="90"' in page and "1.00×" in page  # every account fired: lift 1


def test_manager_sees_only_their_region(book, client_for) -> None:  # type: ignore[no-untyped-def]
    seed(book, 4)
    west = AccountFactory(region=book.west)
    Outcome.objects.create(account=west, kind="churned", on=ON, source="renewal")
    assert "<strong>4</strong> accounts" in client_for(book.manager).get("/signals/").content.decode()
    assert "<strong>5</strong> accounts" in client_for(book.admin).get("/signals/").content.decode()


def test_outcome_before_account_existed_is_left_out(book, client_for) -> None:  # type: ignore[no-untyped-def]
    Outcome.objects.create(account=book.account, kind="churned", on=dt.date(2020, 1, 1), source="arr_history")
    page = client_for(book.admin).get("/signals/").content.decode()
    assert "1 outcome dated before the account existed" in page


def test_unknown_signal_404_and_htmx_fragment(book, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.tam)
    assert client.get("/signals/nope/").status_code == 404
    fragment = client.get("/signals/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="signals-results">')
    assert client.get("/signals/health:red/").status_code == 200


def test_trust_refused_without_evidence(book, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(book.admin).post("/signals/no_call/trust/", {"trusted": "1"}, follow=True)
    assert "at least 30 needed" in response.content.decode()


def test_query_count_constant(book, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.admin)
    seed(book, 3)
    client.get("/signals/")
    with CaptureQueriesContext(connection) as small:
        client.get("/signals/")
    seed(book, 40)
    with CaptureQueriesContext(connection) as large:
        client.get("/signals/")
    assert len(large) == len(small)
    with CaptureQueriesContext(connection) as small_detail:
        client.get(f"/accounts/{book.account.pk}/")
    Outcome.objects.create(account=book.account, kind="churned", on=ON, source="renewal")
    SignalInterval.objects.create(account=book.account, key="no_call", started_on=ON - dt.timedelta(days=10))
    with CaptureQueriesContext(connection) as large_detail:
        page = client.get(f"/accounts/{book.account.pk}/").content.decode()
    assert "fired 10 days before" in page
    assert len(large_detail) == len(small_detail)
