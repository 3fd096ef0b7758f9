"""The fast insert paths: plain rows and model instances, with and without skipping conflicts."""

import pytest

from tamarind.core.bulk import bulk_insert, chunks, insert_instances
from tamarind.notifications.models import Notification, NotificationKind
from tamarind.people.models import Region

pytestmark = pytest.mark.django_db


def test_chunks():
    assert [list(c) for c in chunks([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    assert list(chunks([], 3)) == []


def test_bulk_insert_counts_rows():
    assert bulk_insert(Region._meta.db_table, ["name", "created_at"], []) == 0
    from django.utils import timezone

    now = timezone.now()
    assert bulk_insert(Region._meta.db_table, ["name", "created_at"], [("North", now), ("South", now)]) == 2
    assert set(Region.objects.values_list("name", flat=True)) == {"North", "South"}


def test_insert_instances_skips_what_a_unique_constraint_refuses(book):
    def note(key: str) -> Notification:
        from django.utils import timezone

        return Notification(
            recipient=book.tam,
            kind=NotificationKind.GENERAL,
            title=f"Hello {key}",
            dedupe_key=key,
            created_at=timezone.now(),
        )

    assert insert_instances([note("a"), note("b")], ignore_conflicts=True) == 2
    # "a" is held already and "c" twice in one batch: one new row.
    assert insert_instances([note("a"), note("c"), note("c")], ignore_conflicts=True) == 1
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == ["a", "b", "c"]
    assert insert_instances([]) == 0


def test_update_instances_and_rows(book):
    from tamarind.core.bulk import bulk_update_rows, update_instances

    book.east.name, book.west.name = "East Coast", "Europe"
    assert update_instances([book.east, book.west], ["name"]) == 2
    assert set(Region.objects.values_list("name", flat=True)) == {"East Coast", "Europe"}
    assert bulk_update_rows(Region._meta.db_table, "id", ["name"], [(book.east.pk, "Atlantic")]) == 1
    assert Region.objects.get(pk=book.east.pk).name == "Atlantic"
    assert update_instances([], ["name"]) == 0
