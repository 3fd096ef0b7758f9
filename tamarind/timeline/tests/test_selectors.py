"""Timeline reads: newest first with people loaded, the attendee choices, the account panel."""

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.timeline import selectors
from tamarind.timeline.models import TimelineEntry
from tamarind.timeline.services import timeline_entry_create

pytestmark = pytest.mark.django_db


def log(book, title, days_ago, **data):
    return timeline_entry_create(
        actor=book.tam,
        account=book.account,
        data={"kind": "note", "title": title, "occurred_at": timezone.now() - dt.timedelta(days=days_ago), **data},
    )


def test_entries_newest_first_with_people_in_two_queries(book, django_assert_num_queries):
    log(book, "old", 5, internal_attendees=[book.sal.pk])
    log(book, "new", 1, internal_attendees=[book.sa.pk, book.tam.pk])
    log(book, "mid", 3)
    with django_assert_num_queries(2):
        rows = list(selectors.timeline_entries(account=book.account))
        assert [e.title for e in rows] == ["new", "mid", "old"]
        assert [p.full_name for p in rows[0].internal_attendees.all()] == ["Sasha Sa", "Tara Tam"]
        assert rows[0].author.full_name == "Tara Tam"


def test_scope_follows_the_account(book):
    log(book, "east", 1)
    assert TimelineEntry.objects.visible_to(book.sal).count() == 1
    assert TimelineEntry.objects.visible_to(book.other_tam).count() == 0
    assert TimelineEntry.objects.visible_to(book.director).count() == 1


def test_attendee_choices_are_the_team_and_the_user_without_queries(book, django_assert_num_queries):
    with django_assert_num_queries(0):
        people = selectors.attendee_choices(user=book.manager, account=book.account)
    assert [p.full_name for p in people] == ["Mia Manager", "Sam Sal", "Sasha Sa", "Tara Tam"]


def test_account_panel_caps_the_list(book, monkeypatch):
    monkeypatch.setattr(selectors, "PANEL_SIZE", 2)
    for i in range(3):
        log(book, f"n{i}", 3 - i)
    panel = selectors.account_panel(user=book.director, account=book.account)
    assert [e.title for e in panel["timeline"]] == ["n2", "n1"] and panel["timeline_more"]
    assert panel["timeline_can_log"] is False and panel["timeline_attendees"] == []
