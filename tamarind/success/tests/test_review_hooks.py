"""What success plans bring to the manager's reviews: checklist sections, the burn-down's plan and EBR
exceptions, and EBRs in the calendar feed (``success/review_hooks.py``, looked up by ``tamarind.reviews``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from icalendar import Calendar

from tamarind.reviews import burndown, checklists
from tamarind.reviews.calendar import build_feed
from tamarind.reviews.models import ReviewKind
from tamarind.reviews.selectors import review_settings
from tamarind.success import review_hooks
from tamarind.success.models import EbrStatus, PlanReview, ReviewStatus
from tamarind.success.models import ReviewKind as PlanReviewKind
from tamarind.success.tests.factories import EbrFactory, SuccessPlanFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _ctx(book, tam=None):  # type: ignore[no-untyped-def]
    return checklists.ChecklistContext(
        region_id=book.east.pk, today=timezone.localdate(), settings=review_settings(), tam=tam
    )


def _keys(items) -> set[str]:  # type: ignore[no-untyped-def]
    return {i.key for i in items}


def test_plans_not_green_lists_yellow_and_red_plans_and_p1_without_a_plan(book) -> None:  # type: ignore[no-untyped-def]
    green = AccountFactory(region=book.east, tam=book.tam, priority=1)
    yellow = AccountFactory(region=book.east, tam=book.tam, priority=2)
    no_plan_p1 = AccountFactory(region=book.east, tam=book.tam, priority=1)
    AccountFactory(region=book.east, tam=book.tam, priority=2)  # no plan, priority 2: not an item
    elsewhere = AccountFactory(region=book.west, tam=book.other_tam, priority=1)
    SuccessPlanFactory(account=green, color="green")
    SuccessPlanFactory(account=yellow, color="yellow")
    SuccessPlanFactory(account=elsewhere, color="red")
    keys = _keys(review_hooks.plans_not_green(_ctx(book)))
    assert f"plan_not_green:{yellow.pk}" in keys and f"plan_not_green:{no_plan_p1.pk}" in keys
    assert f"plan_not_green:{green.pk}" not in keys and f"plan_not_green:{elsewhere.pk}" not in keys
    # The section as a review stores it: through the registry, not "not wired yet".
    section = next(s for s in checklists.REGISTRY[ReviewKind.SUCCESS_PLAN] if s.key == "plans_not_green")
    result = section.provider(_ctx(book))
    assert "not wired" not in result.notice and _keys(result.items) >= {f"plan_not_green:{yellow.pk}"}


def test_plans_to_review_picks_two_per_tam_never_reviewed_first(book) -> None:  # type: ignore[no-untyped-def]
    plans = [SuccessPlanFactory(account=AccountFactory(region=book.east, tam=book.tam)) for _ in range(3)]
    PlanReview.objects.create(
        plan=plans[0],
        reviewer=book.manager,
        kind=PlanReviewKind.MANAGER,
        status=ReviewStatus.COMPLETED,
        completed_at=timezone.now(),
        verdict="strong",
        **{f"q{n}": "yes" for n in range(1, 7)},
    )
    items = review_hooks.plans_to_review(_ctx(book, tam=book.tam))
    assert len(items) == 2
    assert {i.account_id for i in items} == {plans[1].account_id, plans[2].account_id}
    assert all(i.link.startswith("/success/plans/") for i in items)


def test_ebrs_due_inside_the_window_without_a_recent_ebr(book) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    due = AccountFactory(region=book.east, priority=1, next_renewal_date=today + dt.timedelta(days=100))
    done = AccountFactory(region=book.east, priority=1, next_renewal_date=today + dt.timedelta(days=100))
    later = AccountFactory(region=book.east, priority=1, next_renewal_date=today + dt.timedelta(days=300))
    EbrFactory(account=done, status=EbrStatus.COMPLETED, held_on=today - dt.timedelta(days=30))
    keys = _keys(review_hooks.ebrs_due(_ctx(book)))
    assert f"ebr_due:{due.pk}" in keys
    assert f"ebr_due:{done.pk}" not in keys and f"ebr_due:{later.pk}" not in keys


def test_burndown_plan_and_ebr_exceptions_count_their_rows(book) -> None:  # type: ignore[no-untyped-def]
    green = AccountFactory(region=book.east, tam=book.tam, priority=1)
    SuccessPlanFactory(account=green, color="green")
    EbrFactory(account=green, status=EbrStatus.COMPLETED, held_on=timezone.localdate())
    bare = AccountFactory(region=book.east, tam=book.tam, priority=1)
    i = burndown.inputs()
    for key in ("p1_no_green_plan", "p1_no_ebr"):
        qs = burndown.rows(burndown.BY_KEY[key], i, region_ids=[book.east.pk])
        assert qs is not None
        ids = set(qs.values_list("pk", flat=True))
        assert bare.pk in ids and green.pk not in ids
        counted = burndown.counts(i, region_ids=[book.east.pk])[key]
        assert counted is not None and sum(counted.values()) == len(ids)


def test_scheduled_ebrs_reach_the_tams_calendar(book) -> None:  # type: ignore[no-untyped-def]
    account = AccountFactory(region=book.east, tam=book.tam, name="Globex")
    EbrFactory(account=account, status=EbrStatus.SCHEDULED, held_on=timezone.localdate() + dt.timedelta(days=9))
    summaries = [str(e.get("summary")) for e in Calendar.from_ical(build_feed(book.tam)).walk("VEVENT")]
    assert "EBR: Globex" in summaries
    assert "EBR: Globex" not in [
        str(e.get("summary")) for e in Calendar.from_ical(build_feed(book.other_tam)).walk("VEVENT")
    ]
