"""The model editor's reads: the preview (a draft scored over every account beside the live model, a fixed number
of queries per chunk, writes nothing), versions with their changes, and the words the editor shows."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.health.models import HealthModelVersion, HealthScore, Sentiment
from tamarind.health.preview import health_model_preview, model_version_page
from tamarind.health.services import health_model_save
from tamarind.health.spec import (
    DEFAULT_DEFINITION,
    definition_changes,
    definition_summary,
    month_column_labels,
    parse_spec,
    utilization_row_labels,
)
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def draft(**weights: int) -> object:
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    for key, weight in weights.items():
        definition["measures"][key]["weight"] = weight
    return parse_spec(definition)


def seed(region, n: int, *, sentiment: str = "green", call_days: int | None = 50, prefix: str = "Acct"):  # type: ignore[no-untyped-def]
    accounts = [AccountFactory(name=f"{prefix} {i:03}", region=region) for i in range(n)]
    Sentiment.objects.bulk_create(Sentiment(account=a, color=sentiment, reason="Review") for a in accounts)
    if call_days is not None:
        at = timezone.now() - dt.timedelta(days=call_days)
        TimelineEntry.objects.bulk_create(
            TimelineEntry(account=a, kind=EntryKind.CALL, title="Call", occurred_at=at) for a in accounts
        )
    return accounts


def test_the_live_model_as_draft_changes_nothing(book):
    seed(book.east, 4)
    result = health_model_preview(parse_spec(DEFAULT_DEFINITION))
    assert result.evaluated == 6  # the book's two accounts have no data: no score
    assert result.live_counts == result.draft_counts == {"green": 4, "yellow": 0, "red": 0, "none": 2}
    assert result.changed == result.score_moved == 0 and result.changes == []


def test_counts_and_changes_worst_turn_first(book):
    seed(book.east, 3, prefix="Calm")  # green 94 -> (10x100 + 90x62)/100 = 66 yellow
    seed(book.east, 2, sentiment="yellow", call_days=80, prefix="Drift")  # 62/25 -> 10x62+90x25 = 28.7 red
    result = health_model_preview(draft(sentiment=10, engagement=90), today=timezone.localdate())
    assert result.live_counts == {"green": 3, "yellow": 2, "red": 0, "none": 2}
    assert result.draft_counts == {"green": 0, "yellow": 3, "red": 2, "none": 2}
    assert (result.changed, result.worse, result.better) == (5, 5, 0)
    assert [c.name for c in result.changes] == ["Calm 000", "Calm 001", "Calm 002", "Drift 000", "Drift 001"]
    first = result.changes[0]
    assert (first.live_score, first.live_color, first.draft_score, first.draft_color) == (94, "green", 66, "yellow")
    assert result.count_rows()[0] == ("green", 3, 0, -3)


def test_the_list_keeps_the_first_fifty(book):
    seed(book.east, 7)
    result = health_model_preview(draft(sentiment=10, engagement=90), sample=5)
    assert result.changed == 7 and len(result.changes) == 5


def test_the_preview_writes_nothing(book):
    seed(book.east, 3)
    with CaptureQueriesContext(connection) as queries:
        health_model_preview(draft(sentiment=10, engagement=90))
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    assert not HealthScore.objects.exists() and HealthModelVersion.objects.count() == 1


def test_queries_are_a_fixed_number_per_chunk(book):
    """One for the live model, then per chunk its ids and gather_inputs's fixed few, however many accounts."""
    spec = draft(sentiment=10, engagement=90)

    def queries(chunk: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            health_model_preview(spec, chunk=chunk)
        return len(captured)

    seed(book.east, 3)  # 5 accounts
    one = queries(7)  # one short chunk
    seed(book.east, 7)  # 12 accounts
    two = queries(7)  # 7 + 5
    seed(book.east, 6)  # 18 accounts
    three = queries(7)  # 7 + 7 + 4
    per_chunk = two - one
    assert 0 < per_chunk <= 10
    assert three == one + 2 * per_chunk
    assert queries(1000) == one  # 18 accounts in one chunk cost what 5 did


def test_a_version_page_names_its_changes(book):
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["bands"]["green"] = 80
    definition["measures"]["support"]["urgent_is_red"] = False
    health_model_save(actor=book.admin, definition=definition, note="Stricter")
    page = model_version_page(2)
    assert page.previous is not None and page.previous.version == 1 and page.live_version == 2
    assert ("Overall bands: Green from", "75", "80") in page.changes
    assert ("Support: an open urgent ticket makes it Red", "yes", "no") in page.changes
    assert model_version_page(1).changes == []
    with pytest.raises(Http404):
        model_version_page(3)


def test_words_for_columns_rows_and_changes():
    assert month_column_labels([2, 6, 9]) == ["under 2 months", "2-5 months", "6-8 months", "9+ months"]
    assert month_column_labels([]) == ["any contract age"]
    assert month_column_labels([1, 2]) == ["under 1 months", "1 months", "2+ months"]
    rows = [("10", False), ("50", True), ("75", True), (None, False)]
    assert utilization_row_labels(rows) == ["under 10%", "10% to 50%", "over 50% to 75%", "over 75%"]
    assert utilization_row_labels([(None, False)]) == ["any"]
    before = copy.deepcopy(DEFAULT_DEFINITION)
    after = copy.deepcopy(DEFAULT_DEFINITION)
    after["measures"]["product_usage"]["month_breaks"] = [3, 6, 9]
    after["measures"]["engagement"]["by_priority"]["3"] = {"green": 90, "yellow": 120}
    changes = definition_changes(before, after)
    assert ("Product usage: utilization table columns (months)", "2, 6, 9", "3, 6, 9") in changes
    assert ("Engagement, priority 3: Green up to (days)", "—", "90") in changes
    after["measures"]["product_usage"]["utilization"].pop(1)
    (what, was, now) = definition_changes(before, after)[-1]
    assert what == "Product usage: utilization table" and "10% to 50%" in was and "10% to 50%" not in now


def test_the_summary_shows_shares_of_the_score():
    summary = definition_summary(DEFAULT_DEFINITION)
    assert summary["weights"][0] == ("TAM sentiment", "50%", "50%")
    assert summary["weight_total"] == "100%"
    assert summary["rows"][0] == ("under 10%", ["yellow", "red", "red", "red"])
    assert summary["engagement"][2] == (3, None)
