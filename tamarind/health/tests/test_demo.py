"""The bulk writers behind the demo's health story: checked, audited, on the timeline, no rescoring."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.health.demo import EngagementDraft, SentimentDraft, engagement_log_many, sentiment_set_many
from tamarind.health.models import HealthScore, Sentiment
from tamarind.health.selectors import stored_measures
from tamarind.health.services import STALE_REASON, health_recompute_all
from tamarind.timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def _draft(book: Any, **kw: Any) -> SentimentDraft:
    values: dict[str, Any] = {
        "account_id": book.account.pk,
        "color": "yellow",
        "reason": "Champion left.",
        "set_by_id": book.tam.pk,
        "set_at": timezone.now() - dt.timedelta(days=3),
        "requires_triage": True,
    }
    values.update(kw)
    return SentimentDraft(**values)


def test_sentiments_in_bulk_are_backdated_logged_and_audited(book: Any) -> None:
    old = timezone.now() - dt.timedelta(days=120)
    assert sentiment_set_many(drafts=[_draft(book, color="green", set_at=old), _draft(book)]) == 2
    newest = Sentiment.objects.newest_first().first()
    assert newest is not None and newest.color == "yellow" and newest.requires_triage
    assert Sentiment.objects.filter(set_at=old).exists()
    notes = TimelineEntry.objects.filter(account=book.account, kind=EntryKind.NOTE).order_by("occurred_at")
    assert [n.title for n in notes] == [
        "Health review: sentiment Green",
        "Health review: sentiment Yellow (requires triage)",
    ]
    assert notes[0].occurred_at == old and notes[1].author == book.tam
    events = AuditEvent.objects.filter(object_type="health.sentiment")
    assert events.count() == 2 and {e.actor_id for e in events} == {book.tam.pk}
    assert not HealthScore.objects.exists()  # the caller recomputes once
    health_recompute_all(source="test")
    assert HealthScore.objects.get(account=book.account).color == "yellow"


def test_a_review_answers_the_stale_review_task(book: Any) -> None:
    sentiment_set_many(drafts=[_draft(book, color="green", set_at=timezone.now() - dt.timedelta(days=120))])
    health_recompute_all(source="test")
    task = Task.objects.get(type=TaskType.HEALTH_REVIEW, account=book.account, reason=STALE_REASON)
    assert task.status == TaskStatus.OPEN
    sentiment_set_many(drafts=[_draft(book, color="green")])
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert AuditEvent.objects.filter(object_type="actions.task", object_id=str(task.pk), action="update").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"color": "amber"}, "0.color"),
        ({"reason": "  "}, "0.reason"),
        ({"set_at": timezone.now() + dt.timedelta(days=2)}, "0.set_at"),
    ],
)
def test_bad_sentiments_are_refused_whole(book: Any, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        sentiment_set_many(drafts=[_draft(book, **changes), _draft(book)])
    assert field in exc.value.errors
    assert not Sentiment.objects.exists() and not TimelineEntry.objects.exists()


@pytest.mark.parametrize("who", ["other_tam", "sal", "director", "other_manager"])
def test_only_who_may_review_writes_sentiments(book: Any, who: str) -> None:
    with pytest.raises(PermissionDenied):
        sentiment_set_many(drafts=[_draft(book, set_by_id=getattr(book, who).pk)])
    assert not Sentiment.objects.exists()


def _call(book: Any, **kw: Any) -> EngagementDraft:
    values: dict[str, Any] = {
        "account_id": book.account.pk,
        "kind": EntryKind.CALL,
        "occurred_at": timezone.now() - dt.timedelta(days=10),
        "title": "Cadence call",
        "external_attendees": "Alex Meyer (VP Engineering)",
        "notes": "Adoption review.",
        "author_id": book.tam.pk,
    }
    values.update(kw)
    return EngagementDraft(**values)


def test_calls_in_bulk_rate_engagement(book: Any) -> None:
    assert engagement_log_many(drafts=[_call(book), _call(book, kind=EntryKind.MEETING, author_id=book.sal.pk)]) == 2
    assert TimelineEntry.objects.filter(account=book.account, kind__in=[EntryKind.CALL, EntryKind.MEETING]).count() == 2
    assert AuditEvent.objects.filter(object_type="timeline.timelineentry", action="create").count() == 2
    health_recompute_all(source="test")
    engagement = next(
        m for m in stored_measures(HealthScore.objects.get(account=book.account)) if m["key"] == "engagement"
    )
    assert engagement["band"] == "green" and "10 days" in engagement["value"]


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": EntryKind.NOTE},
        {"external_attendees": ""},
        {"occurred_at": timezone.now() + dt.timedelta(days=1)},
    ],
)
def test_bad_calls_are_refused(book: Any, changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        engagement_log_many(drafts=[_call(book, **changes)])
    assert not TimelineEntry.objects.exists()


def test_calls_need_someone_of_the_account_team(book: Any) -> None:
    with pytest.raises(PermissionDenied):
        engagement_log_many(drafts=[_call(book, author_id=book.other_tam.pk)])
