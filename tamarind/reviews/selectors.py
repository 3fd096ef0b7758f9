"""Reads of the reviews app: the gated fetch of a review, the lists (due, overdue, completed), the settings."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.reviews.models import (
    OccurrenceQuerySet,
    OccurrenceStatus,
    ReviewItem,
    ReviewKind,
    ReviewOccurrence,
    ReviewSchedule,
    ReviewSettings,
)

if TYPE_CHECKING:
    from tamarind.people.models import User

MAX_ID = 2**63 - 1


def review_settings() -> ReviewSettings:
    """The settings row; until an admin has saved one, an unsaved row holding the defaults."""
    return ReviewSettings.objects.filter(pk=ReviewSettings.SINGLETON_PK).first() or ReviewSettings()


def _pk(raw: Any) -> int | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_ID else None


def review_for_user(user: User, review_id: Any, *, write: bool = False, agenda: bool = False) -> ReviewOccurrence:
    """The one permission-gated fetch: 404 out of scope; 403 when ``write`` (run it) or ``agenda`` (add to it)
    and the user may only read."""
    pk = _pk(review_id)
    review = ReviewOccurrence.objects.with_related().filter(pk=pk).first() if pk else None
    if review is None or not policy.can_read_review(user, review):
        raise Http404("No such review.")
    if write and not policy.can_run_review(user, review):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only the region's TAM Manager and admins run this review.")
    if agenda and not policy.can_add_to_agenda(user, review):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only the region's TAM Manager, admins and the TAM of a 1:1 add to it.")
    return review


def item_for_review(review: ReviewOccurrence, item_id: Any) -> ReviewItem:
    pk = _pk(item_id)
    item = ReviewItem.objects.select_related("task", "account").filter(pk=pk, occurrence=review).first() if pk else None
    if item is None:
        raise Http404("No such item.")
    return item


def review_items(review: ReviewOccurrence) -> list[ReviewItem]:
    return list(review.items.select_related("task", "task__owner", "decided_by", "added_by"))


def review_list(user: User, *, status: str = "", kind: str = "", limit: int = 200) -> OccurrenceQuerySet:
    qs = ReviewOccurrence.objects.visible_to(user).with_related()
    if status == "due":
        qs = qs.not_completed()
    elif status == "overdue":
        qs = qs.overdue(timezone.localdate())
    elif status == "completed":
        qs = qs.filter(status=OccurrenceStatus.COMPLETED).order_by("-due_on", "-id")
    if kind in ReviewKind.values:
        qs = qs.filter(kind=kind)
    return qs.annotate(item_count=Count("items"), undecided=Count("items", filter=Q(items__decision="")))[:limit]


# What a line of a list of due reviews shows (My week, the weekly digest): the review's name (its kind, subject and
# date), when and where it is held, its status.
DUE_LINE_COLUMNS = (
    "id", "kind", "region_id", "subject_id", "due_on", "due_at", "status",
    "region__name", "subject__full_name", "subject__email",
)  # fmt: skip


def due_reviews(user: User, *, today: dt.date, days: int = 7) -> list[ReviewOccurrence]:
    """Reviews not completed due before the end of the coming ``days`` (overdue ones first), as lines: the
    columns ``DUE_LINE_COLUMNS`` only (not the notes, the stored checklist sections, the schedule and owners: a
    hundred rows of those cost the page more than its query)."""
    return list(
        ReviewOccurrence.objects.visible_to(user)
        .select_related("region", "subject")
        .only(*DUE_LINE_COLUMNS)
        .not_completed()
        .filter(due_on__lte=today + dt.timedelta(days=days))
        .order_by("due_on", "kind", "id")[:100]
    )


def previous_one_on_one(review: ReviewOccurrence) -> ReviewOccurrence | None:
    """The last 1:1 with the same TAM before this one."""
    if review.kind != ReviewKind.ONE_ON_ONE:
        return None
    return (
        ReviewOccurrence.objects.filter(
            kind=ReviewKind.ONE_ON_ONE, subject_id=review.subject_id, due_on__lt=review.due_on
        )
        .exclude(pk=review.pk)
        .order_by("-due_on", "-id")
        .first()
    )


def schedule_list(user: User) -> list[ReviewSchedule]:
    return list(ReviewSchedule.objects.visible_to(user).select_related("region", "region__manager", "owner"))


def review_with_items(review: ReviewOccurrence) -> ReviewOccurrence:
    """``review`` with its items and attendees prefetched (a page or an API answer)."""
    items = ReviewItem.objects.select_related("task", "task__owner", "decided_by", "added_by")
    return (
        ReviewOccurrence.objects.with_related()
        .prefetch_related(Prefetch("items", queryset=items), "attendees")
        .get(pk=review.pk)
    )
