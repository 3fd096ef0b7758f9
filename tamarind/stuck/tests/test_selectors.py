"""The facts the sweep reads, from the stored data they come from: health facts, onboarding, tickets, requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tamarind.health.models import HealthScore
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.servicedesk.models import ServiceRequest
from tamarind.stuck import selectors
from tamarind.stuck.tests.factories import pool_of, pooled
from tamarind.testing.factories import AccountFactory
from tamarind.usage.models import SupportTicket

pytestmark = pytest.mark.django_db


def test_facts_from_stored_data(book: Any, django_assert_max_num_queries: Any) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    pool = pool_of(book)
    account = pooled(book, days_in=200)
    HealthScore.objects.create(
        account=account, model_version=1, licenses=100, active_users=40, engaged_on=today - dt.timedelta(days=50)
    )
    OnboardingFactory(account=account, contract_start=today - dt.timedelta(days=120), experience_score=2)
    for i, days in enumerate((1, 5, 10, 20, 29, 45)):
        SupportTicket.objects.create(account=account, external_id=f"T-{i}", opened_at=now - dt.timedelta(days=days))
    ServiceRequest.objects.create(
        pool=pool,
        account=account,
        subject="Help",
        channel="api",
        created_at=now - dt.timedelta(days=12),
        first_response_due_at=now + dt.timedelta(days=1),
    )
    with django_assert_max_num_queries(5):
        facts = selectors.stuck_facts([account.pk], now=now)[account.pk]
    assert facts.contract_start == today - dt.timedelta(days=120)  # the onboarding's, not customer since
    assert (facts.licenses, facts.active_users, facts.onboarding_score) == (100, 40, 2)
    assert facts.last_activity == today - dt.timedelta(days=12)  # the request is newer than the last call
    assert (facts.tickets_30d, facts.tickets_prev_30d) == (5, 1)


def test_facts_hold_the_survey_answers_of_the_last_year(book: Any) -> None:
    from tamarind.surveys.models import SurveyAnswer
    from tamarind.surveys.services import survey_invitation_create
    from tamarind.testing.factories import ContactFactory

    now = timezone.now()
    account = pooled(book)
    contact = ContactFactory(account=account)
    for days, score in ((10, 3), (200, 9), (400, 0)):
        invitation = survey_invitation_create(contact=contact, kind="nps")
        at = now - dt.timedelta(days=days)
        SurveyAnswer.objects.create(
            invitation=invitation, account=account, kind="nps", score=score, answered_at=at, updated_at=at
        )
    facts = selectors.stuck_facts([account.pk], now=now)[account.pk]
    assert facts.survey_answers == (
        (timezone.localdate(now - dt.timedelta(days=200)), "nps", 9),
        (timezone.localdate(now - dt.timedelta(days=10)), "nps", 3),
    )


def test_facts_unknown_without_data(book: Any) -> None:
    account = pooled(book, days_in=10)
    facts = selectors.stuck_facts([account.pk], now=timezone.now())[account.pk]
    assert facts.active_users is None and facts.tickets_30d is None and facts.last_activity is None
    assert facts.licenses == account.licenses


def test_pooled_accounts_follow_the_pools_criteria(book: Any) -> None:
    pool = pool_of(book)
    small = pooled(book)
    AccountFactory(region=book.east, engagement_model="named")
    assert selectors.pooled_accounts() == {small.pk: pool.pk}
    pool.criteria = {"match": "all", "conditions": [{"field": "region", "op": "in", "value": [book.west.pk]}]}
    pool.save(update_fields=["criteria"])
    assert small.pk not in selectors.pooled_accounts()


def test_a_pool_with_invalid_criteria_is_skipped(book: Any) -> None:
    from tamarind.servicedesk.models import Pool

    good = pool_of(book)
    Pool.objects.create(name="A broken pool", criteria={"match": "any", "conditions": "nope"})
    small = pooled(book)
    assert selectors.pooled_accounts() == {small.pk: good.pk}
