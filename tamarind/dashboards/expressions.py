"""Database expressions the dashboards aggregate with, written for both SQLite and PostgreSQL.

- ``DaysBetween(start, end)``: whole days from one date to another, as an integer (negative when reversed).
- ``Median(expr)``: the median of a group (the mean of the two middle values for an even count), like
  ``statistics.median``. PostgreSQL computes it with ``PERCENTILE_CONT(0.5) WITHIN GROUP``; SQLite has no
  such aggregate, so the same SQL calls an aggregate function Tamarind registers on the connection.
"""

from __future__ import annotations

import statistics
from typing import Any

from django.db import NotSupportedError
from django.db.models import Aggregate, FloatField, Func, IntegerField

SQLITE_MEDIAN = "TAMARIND_MEDIAN"


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (two dates): ``end - start`` on PostgreSQL, by Julian day on SQLite."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> Any:  # pragma: no cover
        raise NotSupportedError(f"DaysBetween is written for SQLite and PostgreSQL, not {connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # date - date is an integer number of days in PostgreSQL.
        (start_sql, start_params), (end_sql, end_params) = self._compiled(compiler)
        return f"({end_sql} - {start_sql})", (*end_params, *start_params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        (start_sql, start_params), (end_sql, end_params) = self._compiled(compiler)
        return (
            f"CAST(ROUND(julianday({end_sql}) - julianday({start_sql})) AS INTEGER)",
            (*end_params, *start_params),
        )

    def _compiled(self, compiler: Any) -> list[tuple[str, Any]]:
        return [compiler.compile(e) for e in self.get_source_expressions()]


class _SQLiteMedian:
    """The step/finalize aggregate SQLite calls for ``Median``."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return float(statistics.median(self.values)) if self.values else None


class Median(Aggregate):
    """The median of ``expression`` over the group (``None`` for an empty group), as a float."""

    name = "Median"
    output_field = FloatField()
    allow_distinct = False

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> Any:  # pragma: no cover
        raise NotSupportedError(f"Median is written for SQLite and PostgreSQL, not {connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # Aggregate.as_sql wraps ``self.template`` in its FILTER clause; a ``template`` keyword would clash with it.
        clone = self.copy()
        clone.template = "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
        return super(Median, clone).as_sql(compiler, connection, **extra_context)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # Registering is cheap and idempotent; doing it here covers every connection, however it was opened.
        connection.ensure_connection()
        connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _SQLiteMedian)
        return super().as_sql(compiler, connection, function=SQLITE_MEDIAN, **extra_context)
