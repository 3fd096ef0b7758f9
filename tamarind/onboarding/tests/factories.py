"""Factories for onboarding tests (and other apps' tests that need a record)."""

from __future__ import annotations

import datetime as dt

from factory.django import DjangoModelFactory

from tamarind.onboarding.models import Onboarding, OnboardingStatus


class OnboardingFactory(DjangoModelFactory):
    class Meta:
        model = Onboarding

    status = OnboardingStatus.NOT_STARTED
    contract_start = dt.date(2025, 1, 15)
    onboarding_start = dt.date(2025, 1, 20)


def complete_values(**overrides):
    """Field values that make a record completable: every date in order, notes and a score."""
    values = {
        "contract_start": dt.date(2025, 1, 15),
        "onboarding_start": dt.date(2025, 1, 20),
        "first_engagement": dt.date(2025, 1, 27),
        "infrastructure_ready": dt.date(2025, 2, 3),
        "first_value": dt.date(2025, 2, 10),
        "onboarding_finish": dt.date(2025, 2, 28),
        "notes": "Kickoff went well; SSO took a week.",
        "experience_score": 4,
    }
    values.update(overrides)
    return values
