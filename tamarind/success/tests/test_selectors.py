"""``plan_colors``: the renewal review's success plan column."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tamarind.success.models import PlanStatus
from tamarind.success.selectors import plan_colors
from tamarind.success.tests.factories import SuccessPlanFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_plan_colors_reads_current_plans_and_calls_no_plan_red(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    green, yellow, archived_only, none = (AccountFactory() for _ in range(4))
    SuccessPlanFactory(account=green, color="green")
    SuccessPlanFactory(account=yellow, color="yellow")
    SuccessPlanFactory(account=archived_only, status=PlanStatus.ARCHIVED, archived_at=timezone.now(), color="")
    with django_assert_num_queries(1):
        colors = plan_colors([green.pk, yellow.pk, archived_only.pk, none.pk])
    assert colors == {green.pk: "green", yellow.pk: "yellow", archived_only.pk: "red", none.pk: "red"}
    assert plan_colors([]) == {}
