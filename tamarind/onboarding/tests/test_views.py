"""Onboarding pages: the permission trio per route, what they show, and query counts that do not grow."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def detail(o):
    return reverse("onboarding:detail", args=[o.pk])


@pytest.fixture
def record(book):
    return OnboardingFactory(
        account=book.account,
        tam=book.tam,
        onboarding_start=dt.date(2025, 1, 20),
        first_engagement=dt.date(2025, 1, 30),
        contract_start=dt.date(2025, 1, 15),
        first_value=dt.date(2025, 1, 10),
    )


# --- detail -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_detail_allowed(book, client_for, record, who):
    response = client_for(getattr(book, who)).get(detail(record))
    assert response.status_code == 200
    assert "Onboarding of Acme Corp" in response.content.decode()


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_detail_outsider_gets_404(book, client_for, record, who):
    assert client_for(getattr(book, who)).get(detail(record)).status_code == 404


def test_detail_unknown_id_is_404(book, client_for):
    assert client_for(book.admin).get("/onboarding/999999/").status_code == 404


def test_detail_requires_login(client, record):
    response = client.get(detail(record))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_detail_shows_metrics_against_targets_and_data_errors(book, client_for, record):
    body = client_for(book.tam).get(detail(record)).content.decode()
    assert "Time to engage" in body and "10 days" in body and "4 days under" in body
    # First value dated before the contract start: shown as a data error, not as -5 days.
    assert "Data error" in body and "First value (2025-01-10) is before contract start (2025-01-15)" in body
    assert "-5 day" not in body and "−5" not in body


def test_detail_query_count_is_constant(book, client_for, record):
    c = client_for(book.admin)
    with CaptureQueriesContext(connection) as small:
        c.get(detail(record))
    for _ in range(20):
        OnboardingFactory(account=AccountFactory(region=book.east, tam=book.tam), tam=book.tam)
    with CaptureQueriesContext(connection) as large:
        c.get(detail(record))
    assert len(large) == len(small)
