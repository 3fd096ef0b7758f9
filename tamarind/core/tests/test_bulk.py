"""The fast insert paths: plain rows and model instances, with and without skipping conflicts."""

import pytest

from tamarind.core.bulk import bulk_insert, chunks, insert_instances
from tamarind.notifications.models import Notification, NotificationKind
from tamarind.people.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["one statement", "temporary table"], autouse=True)
def write_path(request, monkeypatch):
    """Every test runs on both PostgreSQL paths: small batches in one multi-row INSERT, large ones through a
    temporary table (forced here by a zero threshold)."""
    if request.param == "temporary table":
        monkeypatch.setattr("tamarind.core.bulk.SMALL_VALUES", 0)
    return request.param


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


def test_bulk_update_rows(book):
    from tamarind.core.bulk import bulk_update_rows

    assert bulk_update_rows(Region._meta.db_table, "id", ["name"], [(book.east.pk, "Atlantic")]) == 1
    assert Region.objects.get(pk=book.east.pk).name == "Atlantic"
    assert bulk_update_rows(Region._meta.db_table, "id", ["name"], []) == 0


@pytest.mark.parametrize("many", [False, True])
def test_bulk_update_rows_few_or_many_with_dates_and_nulls(book, many):
    """A few rows go in one UPDATE ... FROM (VALUES ...) on PostgreSQL, many through a temporary table: both set
    dates, texts and NULLs (a column of NULLs only included) as given."""
    import datetime as dt

    from django.db import connection

    from tamarind.core.bulk import bulk_update_rows
    from tamarind.health.models import HealthScore
    from tamarind.testing.factories import AccountFactory

    accounts = [book.account] + ([AccountFactory(region=book.east) for _ in range(300)] if many else [])
    for a in accounts:
        HealthScore.objects.create(account=a, model_version=1)
    day = connection.ops.adapt_datefield_value(dt.date(2026, 3, 1))
    rows = [(a.pk, f"key{a.pk}", day, None) for a in accounts]
    assert bulk_update_rows(
        HealthScore._meta.db_table, "account_id", ["inputs_digest", "scored_on", "rescore_on"], rows
    ) == len(rows)
    stored = HealthScore.objects.get(account=book.account)
    assert (stored.inputs_digest, stored.scored_on, stored.rescore_on) == (
        f"key{book.account.pk}",
        dt.date(2026, 3, 1),
        None,
    )
    assert HealthScore.objects.filter(scored_on=dt.date(2026, 3, 1)).count() == len(rows)


def test_bulk_upsert_inserts_new_rows_and_updates_clashing_ones():
    from django.db import connection
    from django.utils import timezone

    from tamarind.core.bulk import bulk_upsert

    at = connection.ops.adapt_datetimefield_value(timezone.now())
    table, columns = Region._meta.db_table, ["name", "created_at"]
    bulk_insert(table, columns, [("North", at)])
    north = Region.objects.get(name="North")
    later = connection.ops.adapt_datetimefield_value(timezone.now() + timezone.timedelta(days=1))
    assert bulk_upsert(table, columns, [("North", later), ("South", at)], conflict=["name"], update=["created_at"]) == 2
    assert Region.objects.count() == 2
    north_after = Region.objects.get(name="North")
    assert north_after.pk == north.pk and north_after.created_at > north.created_at
    # No update columns: a clash is left as it is.
    assert bulk_upsert(table, columns, [("North", at)], conflict=["name"], update=[]) == 1
    assert Region.objects.get(name="North").created_at == north_after.created_at
    assert bulk_upsert(table, columns, [], conflict=["name"], update=["created_at"]) == 0


def test_id_filter_by_range_and_by_list():
    from django.db import connection

    from tamarind.core.bulk import IdRange, id_filter

    regions = [Region.objects.create(name=f"R{i}") for i in range(5)]
    ids = [r.pk for r in regions]
    table = connection.ops.quote_name(Region._meta.db_table)

    def names(scope):
        where, params = id_filter("id", scope)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT name FROM {table} WHERE {where} ORDER BY id", params)
            return [row[0] for row in cursor.fetchall()]

    assert names(IdRange(ids[1], ids[3])) == ["R1", "R2", "R3"]
    assert names([ids[0], ids[4]]) == ["R0", "R4"]
    assert names([]) == []


def test_readers_turn_raw_sql_values_into_dates_and_aware_datetimes():
    import datetime as dt

    from tamarind.core.bulk import date_reader, datetime_reader

    day, at = date_reader(), datetime_reader()
    assert day(None) is None and day(dt.date(2026, 3, 1)) == dt.date(2026, 3, 1)
    assert day("2026-03-01") in ("2026-03-01", dt.date(2026, 3, 1))  # text comes back only from SQLite
    aware = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    assert at(None) is None and at(aware) == aware
    from django.db import connection

    if connection.vendor == "sqlite":
        assert day("2026-03-01") == dt.date(2026, 3, 1)
        assert at("2026-03-01 12:00:00") == aware and at(dt.datetime(2026, 3, 1, 12)) == aware
