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


def test_needs_review_follows_the_review_due_setting(book) -> None:  # type: ignore[no-untyped-def]
    """A plan whose last manager review was 30 days ago is reviewed under the default 90 days and needs review once
    an admin sets 20; a never-reviewed plan needs review either way."""
    import datetime as dt

    from tamarind.success.models import PlanReview, ReviewKind, ReviewStatus
    from tamarind.success.selectors import PlanFilters, plan_rows
    from tamarind.success.services import success_settings_save

    reviewed = SuccessPlanFactory(account=book.account, color="green")
    never = SuccessPlanFactory(account=AccountFactory(region=book.east, tam=book.tam), color="yellow")
    PlanReview.objects.create(
        plan=reviewed,
        kind=ReviewKind.MANAGER,
        status=ReviewStatus.COMPLETED,
        reviewer=book.manager,
        completed_at=timezone.now() - dt.timedelta(days=30),
        verdict="strong",
        **{f"q{n}": "yes" for n in range(1, 7)},
    )

    def needing_review() -> set[int]:
        page = plan_rows(user=book.manager, filters=PlanFilters(needs_review=True))
        return {row.pk for row in page.rows}

    assert needing_review() == {never.account_id}
    success_settings_save(actor=book.admin, values={"review_due_days": 20})
    assert needing_review() == {never.account_id, reviewed.account_id}
