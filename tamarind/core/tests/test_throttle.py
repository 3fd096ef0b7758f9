"""The public links' request budget: within it every request passes; over it a 429 page with Retry-After; a new
window (or another client, or another scope) starts afresh; a trusted proxy's X-Forwarded-For names the client."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tamarind.core import throttle
from tamarind.testing.factories import AccountFactory, ContactFactory


def test_spend_counts_per_scope_client_and_window(settings):
    settings.TAMARIND_PUBLIC_LINK_RATE = (3, 60)
    assert [throttle.spend("s", "1.2.3.4", now=120.0) for _ in range(3)] == [None, None, None]
    assert throttle.spend("s", "1.2.3.4", now=150.0) == 30  # over: 30 s left of the window [120, 180)
    assert throttle.spend("s", "5.6.7.8", now=150.0) is None  # another client
    assert throttle.spend("t", "1.2.3.4", now=150.0) is None  # another scope
    assert throttle.spend("s", "1.2.3.4", now=180.0) is None  # the next window


def test_the_client_is_remote_addr_unless_a_trusted_proxy_says_otherwise(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
    settings.TAMARIND_TRUST_X_FORWARDED_FOR = False
    assert throttle.client_address(request) == "10.0.0.1"  # the header is the client's to forge
    settings.TAMARIND_TRUST_X_FORWARDED_FOR = True
    assert throttle.client_address(request) == "203.0.113.9"


@pytest.mark.django_db
def test_a_survey_link_over_the_budget_answers_429_and_stores_nothing(client, settings):
    from tamarind.surveys.models import SurveyAnswer
    from tamarind.surveys.services import survey_invitation_create

    settings.TAMARIND_PUBLIC_LINK_RATE = (2, 600)
    contact = ContactFactory(account=AccountFactory())
    invitation = survey_invitation_create(contact=contact, kind="nps", actor=None)
    url = f"/s/{invitation.token}/"
    assert client.get(url).status_code == 200
    assert client.get("/s/not-a-token/").status_code == 404
    refused = client.post(url, {"score": "9"})
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 600
    assert not SurveyAnswer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/j/u/x/", "/desk/x/"])
def test_the_other_public_links_are_budgeted_too(client, settings, path):
    settings.TAMARIND_PUBLIC_LINK_RATE = (1, 600)
    client.get(path)
    assert client.get(path).status_code == 429
