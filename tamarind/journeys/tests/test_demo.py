"""The demo journey: months of sends with opens and clicks for the small accounts, contacts given where none exist,
deterministic, and today's run on top never sends twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tamarind.journeys import services
from tamarind.journeys.demo import seed_journeys_demo
from tamarind.journeys.models import Event, Send
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_demo_sends_opens_and_clicks_for_small_accounts() -> None:
    today = dt.date(2026, 12, 5)
    small = [
        AccountFactory(arr=Decimal("9000"), customer_since=today - dt.timedelta(days=30 * i + 5)) for i in range(1, 9)
    ]
    big = AccountFactory(
        arr=Decimal("300000"), engagement_model="high_touch", customer_since=today - dt.timedelta(days=200)
    )
    result = seed_journeys_demo(seed=7, today=today)
    assert result["accounts"] == len(small) and result["sends"] > 40
    assert not Send.objects.filter(account=big).exists()
    assert (
        Send.objects.filter(opened_at__isnull=False).exists()
        and Send.objects.filter(first_clicked_at__isnull=False).exists()
    )
    assert Event.objects.filter(kind="click").count() == Send.objects.filter(first_clicked_at__isnull=False).count()
    assert not Send.objects.filter(due_on__gte=today, status="sent").exists()
    assert not Send.objects.filter(due_on__lt=today - dt.timedelta(days=270)).exists()
    # a day-90 NPS of an account 155 days in: sent; and today's run adds nothing already there
    before = Send.objects.count()
    services.journey_run(day=today)
    assert Send.objects.count() == before


def test_demo_adds_a_webinar_invitation_step_that_invites_to_coming_sessions() -> None:
    from django.utils import timezone

    from tamarind.journeys.models import Step
    from tamarind.webinars.tests.factories import make_session

    today = timezone.localdate()
    account = AccountFactory(arr=Decimal("9000"), customer_since=today - dt.timedelta(days=40))
    start = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=6), dt.time(16, 0)))
    session = make_session(starts_at=start, ends_at=start + dt.timedelta(hours=1))
    result = seed_journeys_demo(seed=7, today=today)
    step = Step.objects.get(program__key="digital-onboarding", kind="webinar")
    assert step.day == 14 and "{{ webinar.url }}" in step.body
    invited = Send.objects.filter(step=step, account=account)
    assert invited.exists() and set(invited.values_list("webinar_session_id", flat=True)) == {session.pk}
    assert result["queued_today"] >= invited.count()
    from tamarind.journeys.demo import ensure_webinar_step

    assert ensure_webinar_step() == step  # added once
    assert Step.objects.filter(program__key="digital-onboarding", kind="webinar").count() == 1
