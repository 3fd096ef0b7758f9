"""Factories for success tests (and other apps' tests that need a plan)."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from tamarind.success.models import Ebr, Objective, PlanTask, SuccessPlan


class SuccessPlanFactory(DjangoModelFactory):
    class Meta:
        model = SuccessPlan

    status = "active"
    strategy = "Grow **adoption** across three teams."
    highlights = "Rolled out to the platform team."
    why_bought = "Consolidate their toolchain."
    start_on = dt.date(2025, 1, 1)


class ObjectiveFactory(DjangoModelFactory):
    class Meta:
        model = Objective

    plan = factory.SubFactory(SuccessPlanFactory)
    name = factory.Sequence(lambda n: f"Objective {n}")
    category = "adoption"
    status = "in_progress"


class PlanTaskFactory(DjangoModelFactory):
    class Meta:
        model = PlanTask

    objective = factory.SubFactory(ObjectiveFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")


class EbrFactory(DjangoModelFactory):
    class Meta:
        model = Ebr

    status = "completed"
    held_on = dt.date(2026, 6, 1)
    outcome = "Agreed the expansion roadmap."
