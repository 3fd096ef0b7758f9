"""Health pages: the account page's panel (breakdown, drag, stale flag, constant queries), the two-click sentiment
(htmx), and the model page (everyone reads, admins save)."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.health.models import HealthHistory, HealthModelVersion, HealthScore, Sentiment
from tamarind.health.services import health_recompute_accounts, sentiment_set
from tamarind.health.spec import DEFAULT_DEFINITION
from tamarind.timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def account_url(account):  # type: ignore[no-untyped-def]
    return f"/accounts/{account.pk}/"


def sentiment_url(account):  # type: ignore[no-untyped-def]
    return f"/health/accounts/{account.pk}/sentiment/"


def test_the_account_page_shows_the_breakdown_and_the_drag(book, client_for):
    TimelineEntry.objects.create(
        account=book.account, kind=EntryKind.CALL, title="Sync", occurred_at=timezone.now() - dt.timedelta(days=50)
    )
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Happy customer")
    body = client_for(book.sal).get(account_url(book.account)).content.decode()
    assert 'id="health"' in body and 'id="health-breakdown"' in body
    health = HealthScore.objects.get(account=book.account)
    # (50 x 100 + 10 x 62) / 60 = 93.67 -> 94, engagement yellow drags
    assert health.score == 94 and health.drag == "engagement"
    assert "94 · Green" in body
    assert 'id="health-drag"' in body and "Engagement" in body
    assert 'data-measure="support"' in body and "Happy customer" in body
    assert 'id="health-stale"' not in body
    assert 'health-sentiment"' not in body  # the SAL reads only: no form


def test_the_stale_flag_shows(book, client_for):
    s = sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    Sentiment.objects.filter(pk=s.pk).update(set_at=timezone.now() - dt.timedelta(days=120))
    health_recompute_accounts(account_ids=[book.account.pk], source="test")
    body = client_for(book.tam).get(account_url(book.account)).content.decode()
    assert 'id="health-stale"' in body


def test_an_unscored_account_says_so(book, client_for):
    body = client_for(book.tam).get(account_url(book.account)).content.decode()
    assert 'id="health-none"' in body and 'class="health-sentiment"' in body


def test_account_page_queries_do_not_grow_with_health_data(book, client_for):
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    c = client_for(book.manager)
    with CaptureQueriesContext(connection) as small:
        assert c.get(account_url(book.account)).status_code == 200
    today = timezone.localdate()
    HealthHistory.objects.bulk_create(
        HealthHistory(account=book.account, day=today - dt.timedelta(days=i), score=50 + i % 40, color="yellow")
        for i in range(1, 60)
    )
    for i in range(8):
        sentiment_set(actor=book.tam, account=book.account, color=["red", "yellow"][i % 2], reason=f"Review {i}")
    with CaptureQueriesContext(connection) as large:
        assert c.get(account_url(book.account)).status_code == 200
    assert len(large) == len(small)


@pytest.mark.parametrize("who", ["tam", "manager", "admin"])
def test_two_click_sentiment_with_htmx_answers_the_panel(book, client_for, who):
    response = client_for(getattr(book, who)).post(
        sentiment_url(book.account),
        {"color": "yellow", "reason": "Sponsor moved on", "requires_triage": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="health"' in body and 'id="health-saved"' in body
    sentiment = Sentiment.objects.get()
    assert (sentiment.color, sentiment.requires_triage, sentiment.set_by) == ("yellow", True, getattr(book, who))
    assert "62 · Yellow" in body and "Requires triage" in body


def test_a_plain_post_redirects_to_the_account(book, client_for):
    response = client_for(book.tam).post(sentiment_url(book.account), {"color": "red", "reason": "Outage"})
    assert response.status_code == 302 and response["Location"] == account_url(book.account)
    assert Sentiment.objects.get().color == "red"


def test_a_sentiment_without_a_reason_is_refused(book, client_for):
    response = client_for(book.tam).post(
        sentiment_url(book.account), {"color": "red", "reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert not Sentiment.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("director", 403), ("sal", 403), ("tam2", 403), ("other_tam", 404)])
def test_readers_and_outsiders_cannot_set_sentiment(book, client_for, who, status):
    response = client_for(getattr(book, who)).post(
        sentiment_url(book.account), {"color": "red", "reason": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == status
    assert not Sentiment.objects.exists()


def test_the_model_page_reads_for_everyone_and_saves_for_admins(book, client_for):
    body = client_for(book.tam).get("/health/model/").content.decode()
    assert "Version 1 is live" in body and "id_definition" not in body
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["staleness_days"] = 45
    admin = client_for(book.admin)
    assert "id_definition" in admin.get("/health/model/").content.decode()
    response = admin.post("/health/model/", {"definition": json.dumps(definition), "note": "Tighter reviews"})
    assert response.status_code == 302
    live = HealthModelVersion.objects.live()
    assert live is not None and live.version == 2 and live.definition["staleness_days"] == 45


@pytest.mark.parametrize(("text", "message"), [("{not json", "Not valid JSON"), (json.dumps({"bands": {}}), "Missing")])
def test_the_model_page_shows_errors(book, client_for, text, message):
    response = client_for(book.admin).post("/health/model/", {"definition": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert HealthModelVersion.objects.count() == 1


def test_only_admins_save_the_model(book, client_for):
    response = client_for(book.director).post("/health/model/", {"definition": json.dumps(DEFAULT_DEFINITION)})
    assert response.status_code == 403
