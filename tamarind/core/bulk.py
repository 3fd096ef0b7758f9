"""Writing many plain rows fast, for the paths that handle a whole book (imports, rule evaluation),
and reading plain values back from raw SQL alike on PostgreSQL and SQLite.

Django's ``bulk_create`` spends most of its time compiling SQL and adapting values for rows this plain (about ten
times what the database spends storing them), so these helpers hand the rows to the database directly: ``COPY``
on PostgreSQL, ``executemany`` elsewhere. Only identifiers ever go into the SQL text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.apps import apps
from django.db import connection, models

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``: for ``pk__in`` lists and batched writes that must stay bounded."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Up to this many values a PostgreSQL write with conflict handling is one multi-row INSERT: creating, filling and
# dropping a temporary table costs a few round trips, which dominates a handful of rows. Beyond it the temporary
# table wins (measured: 4,000 history rows took 350 ms as one INSERT, whose parameters the driver binds one by one,
# and 80 ms through COPY).
SMALL_VALUES = 1_000


def _small(rows: list[tuple[Any, ...]], columns: list[str]) -> bool:
    return len(rows) * len(columns) <= SMALL_VALUES


def _values(rows: list[tuple[Any, ...]], columns: list[str]) -> str:
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return ", ".join([one] * len(rows))


def bulk_insert(table: str, columns: list[str], rows: list[tuple[Any, ...]], *, ignore_conflicts: bool = False) -> int:
    """INSERT plain rows (values DB-ready); returns how many were inserted.

    With ``ignore_conflicts`` a row that would break a unique constraint (partial ones included) is skipped, as
    ``INSERT ... ON CONFLICT DO NOTHING`` does: on PostgreSQL the rows are copied into a temporary table first.
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    # psycopg's own cursor for COPY; wrap_database_errors turns its errors into Django's (IntegrityError...).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql" and ignore_conflicts and _small(rows, columns):
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES {_values(rows, columns)} ON CONFLICT DO NOTHING",  # noqa: S608
                [v for row in rows for v in row],
            )
            return max(int(cursor.rowcount), 0)
        if connection.vendor == "postgresql":
            target = quote(table)
            if ignore_conflicts:
                target = "_tamarind_bulk"
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS SELECT {names} FROM {quote(table)} WITH NO DATA"  # noqa: S608
                )
            with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if not ignore_conflicts:
                return len(rows)
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {target} ON CONFLICT DO NOTHING"  # noqa: S608
            )
            inserted = cursor.rowcount
            cursor.execute(f"DROP TABLE {target}")
            return int(inserted)
        marks = ", ".join(["%s"] * len(columns))
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        before = connection.connection.total_changes if connection.vendor == "sqlite" else None
        cursor.executemany(f"{verb} INTO {quote(table)} ({names}) VALUES ({marks})", rows)
        if before is not None:
            return int(connection.connection.total_changes - before)
        return len(rows) if not ignore_conflicts else max(int(cursor.rowcount), 0)


def bulk_upsert(
    table: str, columns: list[str], rows: list[tuple[Any, ...]], *, conflict: list[str], update: list[str]
) -> int:
    """INSERT plain rows (values DB-ready), or on a clash with the unique ``conflict`` columns UPDATE the ``update``
    columns from the new row (``INSERT ... ON CONFLICT ... DO UPDATE``); returns how many rows were sent.

    On PostgreSQL the rows are copied into a temporary table first, as ``bulk_insert`` does with conflicts; SQLite
    (3.24+) takes the same statement row by row through ``executemany``. Two rows with the same key in one call
    are the caller's to avoid (PostgreSQL refuses them).
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    keys = ", ".join(quote(c) for c in conflict)
    sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in update)
    action = f"DO UPDATE SET {sets}" if update else "DO NOTHING"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql" and _small(rows, columns):
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES {_values(rows, columns)} ON CONFLICT ({keys}) {action}",  # noqa: S608
                [v for row in rows for v in row],
            )
            return len(rows)
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMPORARY TABLE _tamarind_upsert ON COMMIT DROP AS SELECT {names} FROM {quote(table)} WITH NO DATA"  # noqa: S608
            )
            with cursor.cursor.copy(f"COPY _tamarind_upsert ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM _tamarind_upsert ON CONFLICT ({keys}) {action}"  # noqa: S608
            )
            cursor.execute("DROP TABLE _tamarind_upsert")
            return len(rows)
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {quote(table)} ({names}) VALUES ({marks}) ON CONFLICT ({keys}) {action}",  # noqa: S608
            rows,
        )
        return len(rows)


@dataclass(frozen=True)
class IdRange:
    """Every id from ``first`` to ``last`` inclusive: how a whole-book pass walks a table in primary-key order.
    A range costs the database one index range scan, where a list of thousands of ids costs it (and the driver,
    which quotes each one) far more."""

    first: int
    last: int


def id_filter(column: str, ids: Sequence[int] | IdRange) -> tuple[str, list[Any]]:
    """A WHERE condition on ``column`` (a trusted, already quoted SQL name) for raw SQL, with its parameters: a
    range, or a list of ids (one array parameter on PostgreSQL, an ``IN`` list elsewhere; keep lists to a few
    thousand ids)."""
    if isinstance(ids, IdRange):
        return f"{column} BETWEEN %s AND %s", [ids.first, ids.last]
    values = [int(pk) for pk in ids]
    if not values:
        return "1 = 0", []
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


_GENERATED = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})
# Field types whose Python value the database driver takes as it is: no per-value preparation needed.
_PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "EmailField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
        "URLField",
    }
)


def _preparer(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How one field's value becomes a database value (None: as it is). ``get_db_prep_save`` for every value of
    every row costs more than the COPY itself, so the common types skip it."""
    kind = field.get_internal_type()
    if kind in _PLAIN:
        return None
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def insert_instances(objs: Sequence[models.Model], *, ignore_conflicts: bool = False, batch_size: int = 5000) -> int:
    """INSERT unsaved model instances of one model the fast way; returns how many were inserted.

    Values are taken as they are on the instances (no ``save()``, no signals, no ``pre_save`` such as ``auto_now``):
    set every field first. Generated primary keys are left to the database and not set on the instances.
    """
    if not objs:
        return 0
    model = type(objs[0])
    # A generated primary key is left to the database; a chosen one (a one-to-one primary key) is written.
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.get_internal_type() in _GENERATED)]
    columns = [str(f.column) for f in fields]
    steps = [(f.attname, _preparer(f)) for f in fields]
    inserted = 0
    for chunk in chunks(objs, batch_size):
        rows = []
        for o in chunk:
            values = o.__dict__
            rows.append(
                tuple(
                    (values[name] if prep is None or values[name] is None else prep(values[name]))
                    for name, prep in steps
                )
            )
        inserted += bulk_insert(model._meta.db_table, columns, rows, ignore_conflicts=ignore_conflicts)
    return inserted


def bulk_update_rows(table: str, key: str, columns: list[str], rows: list[tuple[Any, ...]]) -> int:
    """UPDATE ``table`` from rows of ``(key value, *values of columns)`` (values DB-ready); returns the row count.

    On PostgreSQL the rows are copied into a temporary table and applied by one ``UPDATE ... FROM``; elsewhere by
    ``executemany``. Django's ``bulk_update`` builds a ``CASE WHEN`` per row and column instead, which costs seconds
    for a few thousand rows.
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    target = quote(table)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql" and _small(rows, [key, *columns]):
            # A few rows: one UPDATE ... FROM (VALUES ...), each value cast to its column's type (a NULL alone in
            # a VALUES column would be text). A temporary table costs more round trips than these rows.
            types = _column_types(table, [key, *columns])
            names = ", ".join(quote(c) for c in [key, *columns])
            assignments = ", ".join(f"{quote(c)} = u.{quote(c)}::{types[c]}" for c in columns)
            cursor.execute(
                f"UPDATE {target} AS t SET {assignments} FROM (VALUES {_values(rows, [key, *columns])}) AS u ({names}) "  # noqa: S608
                f"WHERE t.{quote(key)} = u.{quote(key)}::{types[key]}",
                [v for row in rows for v in row],
            )
            return int(cursor.rowcount)
        if connection.vendor == "postgresql":
            names = ", ".join(quote(c) for c in [key, *columns])
            cursor.execute(
                f"CREATE TEMPORARY TABLE _tamarind_update ON COMMIT DROP AS SELECT {names} FROM {target} WITH NO DATA"  # noqa: S608
            )
            with cursor.cursor.copy(f"COPY _tamarind_update ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            assignments = ", ".join(f"{quote(c)} = u.{quote(c)}" for c in columns)
            cursor.execute(
                f"UPDATE {target} AS t SET {assignments} FROM _tamarind_update AS u WHERE t.{quote(key)} = u.{quote(key)}"  # noqa: S608
            )
            updated = cursor.rowcount
            cursor.execute("DROP TABLE _tamarind_update")
            return int(updated)
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
        cursor.executemany(
            f"UPDATE {target} SET {assignments} WHERE {quote(key)} = %s",  # noqa: S608
            [(*row[1:], row[0]) for row in rows],
        )
        return len(rows)


def update_instances(objs: Sequence[models.Model], fields: Sequence[str], *, batch_size: int = 5000) -> int:
    """Save ``fields`` of many instances of one model (by primary key) the fast way; returns how many rows changed.
    Like ``insert_instances``: values as they are on the instances, no ``save()``, no signals. Django's
    ``bulk_update`` took 80% of a 98,000-row usage import's write transaction, all of it under SQLite's write lock."""
    if not objs:
        return 0
    model = type(objs[0])
    meta = model._meta
    chosen = [meta.get_field(name) for name in fields]
    columns = [str(f.column) for f in chosen]  # type: ignore[union-attr]
    steps = [(f.attname, _preparer(f)) for f in chosen]  # type: ignore[union-attr, arg-type]
    pk = meta.pk
    assert pk is not None
    updated = 0
    for chunk in chunks(objs, batch_size):
        rows = []
        for o in chunk:
            values = o.__dict__
            rows.append(
                (
                    values[pk.attname],
                    *(
                        values[name] if prep is None or values[name] is None else prep(values[name])
                        for name, prep in steps
                    ),
                )
            )
        updated += bulk_update_rows(meta.db_table, str(pk.column), columns, rows)
    return updated


def _column_types(table: str, columns: list[str]) -> dict[str, str]:
    """The database types of ``columns`` of ``table`` (PostgreSQL), from the model that owns the table."""
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    # "varchar(32)" casts as "varchar", "numeric(14, 2)" as "numeric": the length or precision is the column's own.
    return {c: str(by_column[c].db_type(connection)).split("(")[0] for c in columns}


def date_reader() -> Callable[[Any], Any]:
    """How a DATE read by raw SQL becomes a ``date``: SQLite may give text (an alias or an aggregate loses the
    column's type); PostgreSQL's driver gives dates."""
    if connection.vendor == "sqlite":
        return lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v
    return lambda v: v


def datetime_reader() -> Callable[[Any], Any]:
    """How a timestamp read by raw SQL becomes an aware ``datetime``: SQLite gives naive UTC (or text);
    PostgreSQL's driver gives aware ones."""
    if connection.vendor != "sqlite":
        return lambda v: v

    def read(v: Any) -> Any:
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v)
        if isinstance(v, dt.datetime) and v.tzinfo is None:
            return v.replace(tzinfo=dt.UTC)
        return v

    return read
