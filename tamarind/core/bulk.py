"""Writing many plain rows fast, for the paths that handle a whole book (imports, rule evaluation)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``: for ``pk__in`` lists and batched writes that must stay bounded."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT plain rows: ``COPY`` on PostgreSQL, ``executemany`` elsewhere. Values must be DB-ready."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    # psycopg's own cursor for COPY; wrap_database_errors turns its errors into Django's (IntegrityError...).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608
