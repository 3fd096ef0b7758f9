"""gather_inputs: the scorer's inputs read by raw SQL, the same for a list of ids and a range, in a fixed number of
queries, with timestamps turned into the local dates of the configured time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tamarind.core.bulk import IdRange
from tamarind.health.models import Sentiment
from tamarind.health.selectors import gather_inputs
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _review(account: Any, at: dt.datetime, color: str = "green", triage: bool = False) -> None:
    Sentiment.objects.create(account=account, color=color, reason="r", requires_triage=triage, set_at=at)


def test_newest_sentiment_and_last_call_as_local_dates(book: Any, settings: Any) -> None:
    settings.TIME_ZONE = "America/Los_Angeles"
    # 03:00 UTC on 10 March is still 9 March in Los Angeles.
    _review(book.account, dt.datetime(2026, 3, 1, 12, tzinfo=UTC), "red")
    _review(book.account, dt.datetime(2026, 3, 10, 3, tzinfo=UTC), "yellow", triage=True)
    TimelineEntry.objects.create(
        account=book.account, kind=EntryKind.CALL, title="c", occurred_at=dt.datetime(2026, 4, 2, 1, tzinfo=UTC)
    )
    TimelineEntry.objects.create(
        account=book.account, kind=EntryKind.NOTE, title="n", occurred_at=dt.datetime(2026, 5, 1, tzinfo=UTC)
    )
    with timezone.override("America/Los_Angeles"):
        data = gather_inputs([book.account.pk])[book.account.pk]
    assert (data.inputs.sentiment, data.inputs.sentiment_at, data.requires_triage) == (
        "yellow",
        dt.date(2026, 3, 9),
        True,
    )
    assert data.inputs.last_engagement == dt.date(2026, 4, 1)  # a note is not engagement
    assert (data.tam_id, data.manager_id) == (book.account.tam_id, book.account.region.manager_id)


def test_a_range_reads_what_the_list_reads(book: Any) -> None:
    _review(book.account, timezone.now())
    ids = sorted([book.account.pk, book.other_account.pk])
    assert gather_inputs(IdRange(ids[0], ids[-1])) == gather_inputs(ids)
    assert set(gather_inputs(ids)) == set(ids)


def test_queries_are_fixed_whatever_the_number_of_accounts(book: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(7):
        gather_inputs([book.account.pk])
    more = [AccountFactory(region=book.east) for _ in range(8)]
    for account in more:
        _review(account, timezone.now())
    with django_assert_num_queries(7):
        gather_inputs([book.account.pk, *[a.pk for a in more]])
