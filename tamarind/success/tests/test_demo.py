"""The success demo: plans in every color and state, reviews, EBRs, and the tasks they raise."""

from __future__ import annotations

import pytest

from tamarind.actions.models import Task, TaskType
from tamarind.success.demo import seed_success_story
from tamarind.success.models import Ebr, Objective, PlanReview, SuccessPlan
from tamarind.testing.factories import AccountFactory


@pytest.mark.django_db
def test_demo_story_has_every_color_and_state(book) -> None:  # type: ignore[no-untyped-def]
    for i in range(16):
        AccountFactory(
            region=book.east, tam=book.tam if i % 2 else book.tam2, segment="mid_market" if i % 3 else "enterprise"
        )
    out = seed_success_story(seed=3)
    assert out.plans >= 10
    current = SuccessPlan.objects.current()
    assert set(current.values_list("color", flat=True)) == {"green", "yellow", "red"}
    assert SuccessPlan.objects.filter(status="archived").exists()
    assert set(current.values_list("status", flat=True)) == {"draft", "active"}
    assert set(Objective.objects.values_list("status", flat=True)) >= {"in_progress", "closed"}
    assert PlanReview.objects.filter(kind="manager").exists()
    assert PlanReview.objects.filter(kind="peer", status="completed").exists()
    assert PlanReview.objects.filter(kind="peer", status="requested").exists()
    assert Ebr.objects.filter(status="completed").exists() and Ebr.objects.filter(status="scheduled").exists()
    assert Task.objects.filter(type=TaskType.SUCCESS_PLAN).exists()
    assert Task.objects.filter(type=TaskType.PLAN_PEER_REVIEW).exists()
