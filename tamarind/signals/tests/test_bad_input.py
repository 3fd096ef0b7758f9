"""The issue's bad input on the Signals pages, each explained on the page, never a 500 or a division by zero: a
window with no outcomes, an indicator that never fired, an outcome dated before the account existed, a window
that ends before it starts, filters that name nothing, a book where every judged account churned (base rate 100%)
or none did, and a health score with no history."""

from __future__ import annotations

import datetime as dt

import pytest

from tamarind.health.models import HealthHistory
from tamarind.signals.models import Outcome, SignalInterval, SignalTrust
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 6, 1)


def outcomes(book, n: int, *, bad_every: int = 2, key: str | None = "no_call") -> list[int]:  # type: ignore[no-untyped-def]
    """``n`` accounts with an outcome on ``ON`` (every ``bad_every``-th churned), ``key`` firing before each."""
    ids = []
    for i in range(n):
        account = AccountFactory(region=book.east, customer_since=dt.date(2020, 1, 1))
        kind = "churned" if bad_every and i % bad_every == 0 else "renewed_flat"
        Outcome.objects.create(account=account, kind=kind, on=ON, source="renewal")
        if key:
            SignalInterval.objects.create(account=account, key=key, started_on=ON - dt.timedelta(days=40))
        ids.append(account.pk)
    return ids


def test_a_window_with_no_outcomes_on_the_index_and_the_detail(book, client_for) -> None:  # type: ignore[no-untyped-def]
    outcomes(book, 40)
    client = client_for(book.admin)
    for path in ("/signals/", "/signals/no_call/", "/signals/health:red/"):
        response = client.get(path, {"start": "2027-01-01", "end": "2027-12-31"})
        assert response.status_code == 200, path
        page = response.content.decode()
        assert "No outcomes in this window" in page
        assert "status-no_outcomes" in page and "ROC AUC" not in page


def test_a_window_that_ends_before_it_starts_is_explained(book, client_for) -> None:  # type: ignore[no-untyped-def]
    outcomes(book, 4)
    response = client_for(book.admin).get("/signals/", {"start": "2026-12-31", "end": "2026-01-01"})
    assert response.status_code == 200
    assert "the window ends before it starts" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"iteration": "999999"},
        {"region": "999999"},
        {"iteration": "-1", "region": "1e9"},
        {"start": "0001-01-01", "end": "9999-12-31"},
        {"start": "2026-02-30"},
        {"segment": "x" * 5000, "engagement_model": "y" * 5000},
    ],
)
def test_filters_that_name_nothing_answer_200(book, client_for, query) -> None:  # type: ignore[no-untyped-def]
    outcomes(book, 4)
    client = client_for(book.admin)
    assert client.get("/signals/", query).status_code == 200
    assert client.get("/signals/", query, HTTP_HX_REQUEST="true").status_code == 200
    assert client.get("/signals/no_call/", query).status_code == 200


def test_an_indicator_that_never_fired_says_so_and_cannot_be_trusted(book, client_for) -> None:  # type: ignore[no-untyped-def]
    outcomes(book, 40)  # "no call" fired before every one; "ticket spike" never did
    client = client_for(book.admin)
    page = client.get("/signals/ticket_spike/").content.decode()
    assert 'class="muted status-never_fired">Never fired before an outcome in this window.' in page
    assert "nan" not in page.lower().replace("nancy", "")
    refused = client.post("/signals/ticket_spike/trust/", {"trusted": "1"}, follow=True).content.decode()
    assert "Lift unknown is not above 2.00" in refused
    assert not SignalTrust.objects.exists()
    api = client.get("/api/v1/signals/backtest")
    line = next(s for s in api.json()["signals"] if s["key"] == "ticket_spike")["lines"][0]
    assert line["status"] == "never_fired" and line["lift"]["value"] is None


def test_an_outcome_before_the_account_existed_is_left_out_everywhere(book, client_for) -> None:  # type: ignore[no-untyped-def]
    account = AccountFactory(region=book.east, customer_since=dt.date(2024, 1, 1))
    Outcome.objects.create(account=account, kind="churned", on=dt.date(2023, 6, 1), source="arr_history")
    SignalInterval.objects.create(account=account, key="no_call", started_on=dt.date(2023, 5, 1))
    client = client_for(book.admin)
    for path in ("/signals/", "/signals/no_call/"):
        page = client.get(path).content.decode()
        assert "1 outcome dated before the account existed" in page and "No outcomes in this window" in page
    assert client.get("/api/v1/signals/backtest").json()["outcomes_before_account"] == 1
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    panel = page[page.index('id="signals-panel"') :]
    assert "dated before the account existed" in panel and "2023-06-01" in panel
    assert "No outcome yet" not in panel


def test_every_judged_account_churned_no_division_by_zero(book, client_for) -> None:  # type: ignore[no-untyped-def]
    ids = outcomes(book, 35, bad_every=1)
    for pk in ids:  # a health history with every account red before it churned
        HealthHistory.objects.create(account_id=pk, day=dt.date(2025, 1, 1), score=30, color="red")
    response = client_for(book.admin).get("/signals/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "base rate 100%" in page
    assert 'data-signal="no_call" data-horizon="90"' in page and "1.00×" in page
    score = page[page.index('id="signals-score"') :]
    assert "Too few outcomes to judge." in score  # no account renewed fine: no AUC


def test_no_account_churned_and_no_health_history(book, client_for) -> None:  # type: ignore[no-untyped-def]
    outcomes(book, 35, bad_every=0)
    response = client_for(book.admin).get("/signals/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>0</strong> of them churned or contracted" in page and "base rate 0%" in page
    assert "status-too_few" in page
    score = page[page.index('id="signals-score"') :]
    assert "ROC AUC" not in score and "No outcomes in this window" in score
