"""Living with a database that is busy or gone for a while: the worker's loops, bookkeeping writes and web answers.

- ``is_db_unavailable(exc)``: the error means "try again later" (SQLite's write lock held past the busy timeout, a
  PostgreSQL lock timeout, a server restarting or refusing connections), not a bug.
- ``Outage``: a loop's streak of database failures. It logs the first failure of a streak once, with what happens
  next, and the streak's end; closes the thread's broken connections; and gives the delay before the next try
  (1, 2, 4, ... seconds, capped).
- ``bookkeeping_write(fn, what=...)``: a write a read does on the side (a token's ``last_used_at``). It waits for
  the write lock only briefly and is skipped, with a log line, when it cannot be made: a read never fails for it.
- ``pause_for_writers()``: what a long job calls between two of its write transactions. On SQLite it sleeps a
  moment so the writers waiting on the lock (requests, heartbeats) get their turn: SQLite's busy handler polls,
  so a job that commits and begins again at once would win the lock again nearly every time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, Error, InterfaceError, OperationalError, connections, transaction

logger = logging.getLogger("tamarind.resilience")

# Errors a worker loop survives by waiting and trying again: every error the database driver raises.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (Error,)
# PostgreSQL SQLSTATEs that mean "not now": lock_not_available, admin_shutdown, crash_shutdown, cannot_connect_now,
# and the connection_exception class (08...).
_PG_UNAVAILABLE = {"55P03", "57P01", "57P02", "57P03"}
# How long a bookkeeping write waits for the write lock before it is skipped.
BOOKKEEPING_WAIT = 0.25
# Seconds a long job leaves the SQLite write lock free between two of its transactions. SQLite's busy handler
# sleeps at most 100 ms between tries, so a pause as long lets every waiting writer in.
SQLITE_WRITER_PAUSE = 0.1
# Seconds a request that met a busy database is told to wait before trying again (the Retry-After header).
RETRY_AFTER_SECONDS = 5


def is_db_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is busy or unreachable for now (answer 503, retry), not a bug."""
    if isinstance(exc, InterfaceError):
        return True  # "connection already closed": the server went away under us
    if not isinstance(exc, OperationalError):
        return False
    message = str(exc).lower()
    if "database is locked" in message or "database table is locked" in message or "database is busy" in message:
        return True
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _PG_UNAVAILABLE or sqlstate.startswith("08")
    # psycopg raises connection failures (refused, server closed the connection) without a SQLSTATE.
    return cause is not None and type(cause).__module__.startswith("psycopg")


def describe(exc: BaseException) -> str:
    """``OperationalError: database is locked``: the exception on one line, for logs and messages."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def close_connections() -> None:
    """Close this thread's database connections, broken or not, so the next query opens a fresh one."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Error:
            # A connection that cannot even close cleanly is dropped all the same.
            conn.connection = None


class Outage:
    """A loop's streak of database failures: one log line when it starts (with what happens next), reminders while
    it lasts, one when it ends; the delay before the next try doubles from ``first`` up to ``cap`` seconds.

    ``loop`` names the loop in the log ("worker", "scheduler"); ``meanwhile`` says what waits ("queued tasks wait").
    """

    def __init__(
        self,
        loop: str,
        *,
        meanwhile: str,
        first: float = 1.0,
        cap: float = 30.0,
        remind_every: float = 600.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.loop = loop
        self.meanwhile = meanwhile
        self.first = first
        self.cap = cap
        self.remind_every = remind_every
        self.log = log or logger
        self.failures = 0
        self.since = 0.0
        self._last_log = 0.0

    @property
    def active(self) -> bool:
        return self.failures > 0

    def delay(self) -> float:
        """Seconds to wait before the next try: ``first`` after one failure, doubling up to ``cap``."""
        if not self.failures:
            return 0.0
        return float(min(self.cap, self.first * 2 ** min(self.failures - 1, 30)))

    def failed(self, exc: BaseException) -> float:
        """Count a failure, close the broken connections, log as needed; returns how long to wait."""
        close_connections()
        now = time.monotonic()
        self.failures += 1
        delay = self.delay()
        if self.failures == 1:
            self.since = self._last_log = now
            self.log.warning(
                "%s: the database failed (%s); retrying in %.0fs, then backing off up to %.0fs between tries "
                "until it answers; %s.",
                self.loop,
                describe(exc),
                delay,
                self.cap,
                self.meanwhile,
            )
        elif now - self._last_log >= self.remind_every:
            self._last_log = now
            self.log.warning(
                "%s: the database still fails after %.0fs (%d tries; last: %s); retrying every %.0fs.",
                self.loop,
                now - self.since,
                self.failures,
                describe(exc),
                delay,
            )
        return delay

    def recovered(self) -> None:
        """The database answered: end the streak (logged if there was one)."""
        if not self.failures:
            return
        self.log.warning(
            "%s: the database answers again after %.1fs (%d failed tries); carrying on.",
            self.loop,
            time.monotonic() - self.since,
            self.failures,
        )
        self.failures = 0


@contextmanager
def _sqlite_busy_timeout(using: str, seconds: float) -> Iterator[None]:
    """Within the block, an SQLite write waits at most ``seconds`` for the lock (the busy timeout; the
    connection's own comes back after it). Set before the transaction begins: BEGIN IMMEDIATE is what waits."""
    conn = connections[using]
    if conn.vendor != "sqlite":
        yield
        return
    conn.ensure_connection()
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {before}")


def bookkeeping_write(
    write: Callable[[], Any], *, what: str, wait: float = BOOKKEEPING_WAIT, using: str = DEFAULT_DB_ALIAS
) -> bool:
    """Make a bookkeeping write (one a read does on the side) if the database lets it within ``wait`` seconds.

    Behind a long writer it is skipped with a log line instead of failing the request or holding it up; the
    next read makes it. Returns whether it was made. Inside a caller's transaction it is simply part of it: on
    SQLite that transaction holds the write lock already (IMMEDIATE), and on PostgreSQL a failure would abort it.
    """
    conn = connections[using]
    if conn.in_atomic_block:
        write()
        return True
    try:
        with _sqlite_busy_timeout(using, wait), transaction.atomic(using=using):
            if conn.vendor == "postgresql":
                with conn.cursor() as cursor:  # a row lock another transaction holds: wait this long at most
                    cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(wait * 1000)}ms"])
            write()
    except OperationalError as exc:
        if not is_db_unavailable(exc):
            raise
        logger.warning("skipped %s: the database is busy (%s)", what, describe(exc))
        return False
    return True


def pause_for_writers(using: str = DEFAULT_DB_ALIAS) -> None:
    """Between two write transactions of a long job: on SQLite, leave the write lock free for a moment (see the
    module docstring). Nothing on databases whose writers do not queue on one lock, nor inside a transaction."""
    conn = connections[using]
    if conn.vendor == "sqlite" and not conn.in_atomic_block:
        time.sleep(SQLITE_WRITER_PAUSE)
