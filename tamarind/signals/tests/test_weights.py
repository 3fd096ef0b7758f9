"""Suggested weights: the fit finds the measure that drives churn and not the noise; a fit that cannot be made
says why (no 500); the draft is a draft (not live), audited, and opens in the editor; constant query counts."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.health.models import HealthModelDraft, HealthModelVersion
from tamarind.health.selectors import live_version
from tamarind.health.spec import DEFAULT_DEFINITION, parse_spec
from tamarind.signals import weights
from tamarind.signals.backtest import Judged
from tamarind.signals.models import BacktestSettings, Outcome, SignalInterval
from tamarind.testing.factories import AccountFactory

ON = dt.date(2026, 6, 1)
CURRENT = parse_spec(DEFAULT_DEFINITION).weights


def simulated_rows(n: int = 800, seed: int = 3) -> list[weights.WeightRow]:
    """Engagement trouble drives churn (bad 10% without it, 70% with it); support trouble is noise (fires half the
    time whatever happens); usage and the plan fire now and then, unrelated."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        engagement = 1.0 if rng.random() < 0.3 else 0.0
        support = rng.choice([0.0, 0.5, 1.0])
        usage = rng.choice([0.0, 0.0, 0.5])
        plan = 1.0 if rng.random() < 0.2 else 0.0
        bad = rng.random() < (0.7 if engagement else 0.1)
        inputs = {"engagement": engagement, "support": support, "product_usage": usage, "success_plan": plan}
        rows.append(weights.WeightRow(i, inputs, bad))
    return rows


def test_fit_finds_the_driver_not_the_noise() -> None:
    fit = weights.fit_weights(simulated_rows(), current=CURRENT, min_outcomes=10, horizon=365)
    assert fit.ok, fit.message
    by = {m.key: m for m in fit.measures}
    assert by["engagement"].suggested >= 40 and by["support"].suggested <= 5
    assert by["engagement"].suggested > 4 * by["support"].suggested
    assert by["engagement"].odds_ratio is not None and by["engagement"].odds_ratio > 10  # truth: 0.7/0.3 ÷ 0.1/0.9 = 21
    # The sentiment is not fitted and keeps its weight; the fitted ones share what they had (50 of 100).
    assert not by["sentiment"].fitted and by["sentiment"].suggested == Decimal(50)
    assert sum(by[m].suggested for m in weights.MEASURE_INDICATORS) == Decimal(50)


def test_effect_on_precision_and_recall() -> None:
    rows = simulated_rows()
    fit = weights.fit_weights(rows, current=CURRENT, min_outcomes=10, horizon=365)
    weights.effects(rows, fit, parse_spec(DEFAULT_DEFINITION), min_outcomes=10)
    assert len(fit.effects) == 6
    current = weights.effect(fit, "current", "not_green")
    suggested = weights.effect(fit, "suggested", "not_green")
    assert current is not None and suggested is not None
    # A plain restatement for the suggested weights at the not-Green threshold (score below 75).
    w = fit.suggested_weights()
    present = [m for m in weights.MEASURE_INDICATORS if w[m] > 0]
    total = sum(float(w[m]) for m in present)
    flagged = [r for r in rows if sum(float(w[m]) * (100 - 75 * r.inputs[m]) for m in present) / total < 75]
    assert suggested.flagged == len(flagged)
    assert suggested.flagged_bad == sum(1 for r in flagged if r.bad)
    assert suggested.recall.value == pytest.approx(suggested.flagged_bad / sum(1 for r in rows if r.bad))
    # The fitted weights lean on the measure that drives churn: a better ranking than the noise-heavy current mix.
    assert fit.auc["suggested"].value is not None and fit.auc["current"].value is not None
    assert fit.auc["suggested"].value > fit.auc["current"].value
    share_current, share_suggested = weights.effect(fit, "current", "share"), weights.effect(fit, "suggested", "share")
    assert share_current is not None and share_suggested is not None
    assert share_suggested.precision.value > share_current.precision.value  # type: ignore[operator]


@pytest.mark.parametrize(
    ("rows", "status", "words"),
    [
        ([], "no_outcomes", "No judged outcome"),
        ([weights.WeightRow(i, {"engagement": 1.0}, True) for i in range(40)], "one_class", "same outcome"),
        (
            [weights.WeightRow(i, {"engagement": float(i % 2)}, i < 3) for i in range(40)],
            "too_few",
            "3 judged, at least 10 needed",
        ),
        (
            [weights.WeightRow(i, {"engagement": 1.0}, i % 3 == 0) for i in range(60)],
            "no_variation",
            "nothing to fit",
        ),
        (
            [weights.WeightRow(i, {"engagement": float(i % 2)}, i % 2 == 0) for i in range(60)],
            "no_positive",
            "every coefficient is 0 or below",
        ),
    ],
)
def test_fit_refused_with_a_reason(rows: list[weights.WeightRow], status: str, words: str) -> None:
    fit = weights.fit_weights(rows, current=CURRENT, min_outcomes=10)
    assert fit.status == status and words in fit.message
    assert fit.suggested_weights() == fit.current_weights()


def test_fit_that_does_not_converge_is_explained() -> None:
    fit = weights.fit_weights(simulated_rows(), current=CURRENT, min_outcomes=10, max_iter=1)
    assert fit.status == "not_converged" and "did not converge within 1 iterations" in fit.message
    assert fit.suggested_weights() == fit.current_weights()


def test_measure_inputs_use_the_backtest_rule() -> None:
    judged = [Judged(1, ON, True), Judged(2, ON, False)]
    intervals = {
        "no_call": {
            1: [(ON - dt.timedelta(days=30), None)],
            2: [(ON - dt.timedelta(days=400), ON - dt.timedelta(days=380))],
        },
        "ticket_spike": {1: [(ON - dt.timedelta(days=5), ON)]},
    }
    rows = weights.measure_inputs(intervals, judged, horizon=365)
    assert rows[0].inputs["engagement"] == 1.0 and rows[0].inputs["support"] == 0.5
    assert rows[1].inputs["engagement"] == 0.0  # it stopped firing more than a year before the outcome


# --- Over the database -----------------------------------------------------------------------------------------


def seed_book(region, n: int, seed: int = 5) -> None:  # type: ignore[no-untyped-def]
    """Accounts whose churn follows "no call" and not "ticket spike" (fired at random)."""
    rng = random.Random(seed)
    for _ in range(n):
        account = AccountFactory(region=region)
        no_call = rng.random() < 0.35
        bad = rng.random() < (0.75 if no_call else 0.1)
        Outcome.objects.create(account=account, kind="churned" if bad else "renewed_flat", on=ON, source="renewal")
        if no_call:
            SignalInterval.objects.create(account=account, key="no_call", started_on=ON - dt.timedelta(days=60))
        if rng.random() < 0.5:
            SignalInterval.objects.create(account=account, key="ticket_spike", started_on=ON - dt.timedelta(days=90))


@pytest.mark.django_db
def test_page_explains_too_few_outcomes(book, client_for) -> None:  # type: ignore[no-untyped-def]
    seed_book(book.east, 6)
    page = client_for(book.admin).get("/signals/weights/?region=x&start=nope")
    assert page.status_code == 200
    text = page.content.decode()
    assert "No weights suggested." in text and "Too few churned or contracted accounts" in text
    assert "weights-draft-button" not in text


@pytest.mark.django_db
def test_page_fits_over_what_the_user_sees(book, client_for) -> None:  # type: ignore[no-untyped-def]
    seed_book(book.east, 150)
    seed_book(book.west, 20, seed=9)
    page = client_for(book.admin).get("/signals/weights/").content.decode()
    assert "Fitted in" in page and 'data-measure="engagement"' in page and "weights-draft-button" in page
    assert "<strong>170</strong> accounts" in page
    manager = client_for(book.manager).get("/signals/weights/").content.decode()
    assert "<strong>150</strong> accounts" in manager and "weights-draft-button" not in manager
    fragment = client_for(book.tam).get("/signals/weights/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="signals-results">')


@pytest.mark.django_db
def test_admin_makes_a_draft_not_a_version(book, client_for) -> None:  # type: ignore[no-untyped-def]
    seed_book(book.east, 150)
    live = live_version()
    versions = HealthModelVersion.objects.count()
    client = client_for(book.admin)
    response = client.post("/signals/weights/draft/", {"region": str(book.east.pk)})
    draft = HealthModelDraft.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/health/model/edit/?draft={draft.pk}"
    assert HealthModelVersion.objects.count() == versions and live_version().version == live.version
    assert draft.based_on_version == live.version and draft.origin == "signals:weights"
    weights_now = draft.definition["measures"]
    assert weights_now["engagement"]["weight"] > weights_now["support"]["weight"]
    assert weights_now["sentiment"]["weight"] == 50
    assert draft.detail["status"] == "ok" and draft.created_by == book.admin
    event = AuditEvent.objects.get(object_type="health.healthmodeldraft", object_id=str(draft.pk))
    assert event.action == "create" and event.actor_id == book.admin.pk
    editor = client.get(response["Location"]).content.decode()
    assert f"Draft {draft.pk}" in editor and 'hx-trigger="load"' in editor
    assert f'value="{weights_now["engagement"]["weight"]}"' in editor
    assert client.get("/health/model/edit/?draft=999999").status_code == 404
    assert client.get("/health/model/edit/?draft=abc").status_code == 404


@pytest.mark.django_db
def test_draft_refused_with_the_reason(book, client_for) -> None:  # type: ignore[no-untyped-def]
    seed_book(book.east, 5)
    response = client_for(book.admin).post("/signals/weights/draft/", follow=True)
    assert response.status_code == 200 and "Too few churned or contracted accounts" in response.content.decode()
    assert not HealthModelDraft.objects.exists()
    assert client_for(book.manager).post("/signals/weights/draft/").status_code == 403
    assert client_for(book.tam).post("/signals/weights/draft/").status_code == 403


@pytest.mark.django_db
def test_min_outcomes_come_from_the_settings(book, client_for) -> None:  # type: ignore[no-untyped-def]
    seed_book(book.east, 60)
    settings = BacktestSettings.load()
    settings.min_outcomes = 500
    settings.save(update_fields=["min_outcomes"])
    assert "at least 500 needed" in client_for(book.admin).get("/signals/weights/").content.decode()


@pytest.mark.django_db
def test_query_count_constant(book, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.admin)
    seed_book(book.east, 40)
    client.get("/signals/weights/")
    with CaptureQueriesContext(connection) as small:
        client.get("/signals/weights/")
    seed_book(book.east, 120, seed=11)
    with CaptureQueriesContext(connection) as large:
        client.get("/signals/weights/")
    assert len(large) == len(small)
    api = client.get("/api/v1/signals/weights")
    assert api.status_code == 200


@pytest.mark.django_db
def test_api_weights_and_draft(book, api_for) -> None:  # type: ignore[no-untyped-def]
    admin = api_for(book.admin)
    body = admin.get("/api/v1/signals/weights").json()
    assert body["status"] == "no_outcomes" and body["effects"] == [] and body["measures"][0]["key"] == "sentiment"
    refused = admin.post("/api/v1/signals/weights/draft", data={}, content_type="application/json")
    assert refused.status_code == 422 and "No judged outcome" in refused.content.decode()
    seed_book(book.east, 150)
    body = admin.get(f"/api/v1/signals/weights?region={book.east.pk}").json()
    assert body["status"] == "ok" and len(body["effects"]) == 6
    by = {m["key"]: m for m in body["measures"]}
    assert by["engagement"]["suggested"] > by["support"]["suggested"]
    made = admin.post("/api/v1/signals/weights/draft", data={}, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["editor_url"] == f"/health/model/edit/?draft={made.json()['draft_id']}"
    assert (
        api_for(book.manager)
        .post("/api/v1/signals/weights/draft", data={}, content_type="application/json")
        .status_code
        == 403
    )
    assert admin.get("/api/v1/signals/weights?start=nope").status_code == 422


def test_same_share_cut() -> None:
    assert weights._share_cut([10, 20, 20, 30, 100, 100], 2, 100) == 20  # ties at the cut all flagged
    assert weights._share_cut([10, 30, 100, 100], 3, 100) == 30  # never an account with no trouble
    assert weights._share_cut([100, 100], 1, 100) == -1.0 and weights._share_cut([], 3, 100) == -1.0
