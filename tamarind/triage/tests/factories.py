"""Factories for triage tests (and other apps' tests that need a case)."""

from __future__ import annotations

from factory.django import DjangoModelFactory

from tamarind.triage.models import CaseStatus, HealthColor, TriageCase


class TriageCaseFactory(DjangoModelFactory):
    class Meta:
        model = TriageCase

    status = CaseStatus.NEW
    health_color = HealthColor.RED
