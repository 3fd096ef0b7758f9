"""The Signals API: back-test, an account's history, trust labels."""

from __future__ import annotations

import datetime as dt

import pytest

from tamarind.signals.models import Outcome, SignalInterval

pytestmark = pytest.mark.django_db


def test_backtest_and_history(book, api_for) -> None:  # type: ignore[no-untyped-def]
    Outcome.objects.create(account=book.account, kind="churned", on=dt.date(2026, 6, 1), source="renewal")
    SignalInterval.objects.create(account=book.account, key="no_call", started_on=dt.date(2026, 5, 1))
    api = api_for(book.tam)
    body = api.get("/api/v1/signals/backtest").json()
    assert body["judged"] == 1 and body["bad"] == 1
    line = next(s for s in body["signals"] if s["key"] == "no_call")["lines"][0]
    assert line["status"] == "too_few" and line["fired"] == 1
    history = api.get(f"/api/v1/signals/accounts/{book.account.pk}/history").json()
    assert history["intervals"] == [{"key": "no_call", "started_on": "2026-05-01", "ended_on": None}]
    assert api_for(book.other_tam).get(f"/api/v1/signals/accounts/{book.account.pk}/history").status_code == 404
    assert api.get("/api/v1/signals/backtest?start=not-a-date").status_code == 422


def test_trust_set_and_list(book, api_for) -> None:  # type: ignore[no-untyped-def]
    admin = api_for(book.admin)
    assert (
        admin.post(
            "/api/v1/signals/trust", data={"key": "no_call", "trusted": True}, content_type="application/json"
        ).status_code
        == 422
    )
    assert (
        admin.post(
            "/api/v1/signals/trust", data={"key": "zzz", "trusted": False}, content_type="application/json"
        ).status_code
        == 422
    )
    created = admin.post(
        "/api/v1/signals/trust", data={"key": "no_call", "trusted": False}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["version"] == 1
    assert [r["key"] for r in admin.get("/api/v1/signals/trust").json()] == ["no_call"]
