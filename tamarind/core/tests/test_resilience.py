"""``core.resilience``: which database errors mean "later", the outage log of a loop, bookkeeping writes that give way.

The SQLite cases use a real database file that a second connection really locks (the suite's own SQLite database is
in memory, where a lock fails at once instead of waiting), through a Django connection of its own.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

from tamarind.core.resilience import Outage, bookkeeping_write, is_db_unavailable, pause_for_writers
from tamarind.testing.processes import free_port

SCRATCH = "scratch"


@pytest.fixture
def scratch(tmp_path: Path, django_db_blocker) -> Iterator[tuple[SQLiteWrapper, Path]]:
    """A Django connection (alias ``scratch``) to an SQLite file with a 20 s busy timeout, as the settings give."""
    path = tmp_path / "scratch.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE token (id INTEGER PRIMARY KEY, used TEXT)")
    conn.execute("INSERT INTO token (id, used) VALUES (1, '')")
    conn.close()
    settings_dict = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        "TEST": {},
    }
    wrapper = SQLiteWrapper(settings_dict, alias=SCRATCH)
    connections[SCRATCH] = wrapper
    try:
        with django_db_blocker.unblock():  # a scratch file of this test's own, not the test database
            yield wrapper, path
            wrapper.close()
    finally:
        del connections[SCRATCH]


def lock(path: Path) -> sqlite3.Connection:
    """Another connection holding SQLite's write lock (a long writer) until it commits."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE token SET used = 'writer'")
    return holder


def test_outage_logs_a_streak_once_with_what_comes_next_and_its_end(caplog):
    caplog.set_level(logging.INFO, logger="tamarind.resilience")
    outage = Outage("worker", meanwhile="queued tasks wait until it is back", cap=30)
    assert not outage.active and outage.delay() == 0
    delays = [outage.failed(OperationalError("database is locked")) for _ in range(7)]
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert outage.active
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "worker: the database failed (OperationalError: database is locked); retrying in 1s, then backing off up "
        "to 30s between tries until it answers; queued tasks wait until it is back."
    ]
    outage.recovered()
    outage.recovered()  # no streak: nothing more to say
    assert len(caplog.records) == 2
    assert caplog.records[1].getMessage().startswith("worker: the database answers again after ")
    assert "(7 failed tries)" in caplog.records[1].getMessage()
    assert not outage.active
    assert outage.failed(OperationalError("server closed the connection unexpectedly")) == 1  # a new streak
    assert len(caplog.records) == 3


def test_a_long_outage_is_recalled_now_and_then(caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="tamarind.resilience")
    clock = [1000.0]
    monkeypatch.setattr("tamarind.core.resilience.time.monotonic", lambda: clock[0])
    outage = Outage("scheduler", meanwhile="due jobs wait", cap=5, remind_every=600)
    for _ in range(130):  # a failure every 5 s for almost 11 minutes: one reminder, at 10 minutes
        outage.failed(OperationalError("database is locked"))
        clock[0] += 5
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[1].startswith("scheduler: the database still fails after 600s (121 tries")


def test_a_real_sqlite_lock_means_later_and_a_bug_does_not(scratch):
    wrapper, path = scratch
    wrapper.settings_dict["OPTIONS"]["timeout"] = 0.2
    holder = lock(path)
    try:
        with pytest.raises(OperationalError) as locked, wrapper.cursor() as cursor:
            cursor.execute("UPDATE token SET used = 'request'")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_db_unavailable(locked.value)
    with pytest.raises(OperationalError) as typo, wrapper.cursor() as cursor:
        cursor.execute("UPDATE no_such_table SET x = 1")
    assert not is_db_unavailable(typo.value)
    assert not is_db_unavailable(IntegrityError("UNIQUE constraint failed"))
    assert not is_db_unavailable(DatabaseError("something else"))
    assert not is_db_unavailable(ValueError("database is locked"))


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's own errors")
@pytest.mark.django_db(transaction=True)
def test_postgresql_lock_timeouts_and_refused_connections_mean_later():
    from django.db.backends.postgresql.base import DatabaseWrapper as PgWrapper

    from tamarind.people.models import Region

    Region.objects.create(name="Locked")
    other = PgWrapper({**connection.settings_dict}, alias="pg-other")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("UPDATE people_region SET name = name")
            with pytest.raises(OperationalError) as timed_out, connection.cursor() as mine:
                mine.execute("SET lock_timeout = '100ms'")
                mine.execute("UPDATE people_region SET name = name")
            cursor.execute("ROLLBACK")
    finally:
        other.close()
        with connection.cursor() as mine:
            mine.execute("SET lock_timeout = 0")
    assert is_db_unavailable(timed_out.value)
    refused = PgWrapper({**connection.settings_dict, "HOST": "127.0.0.1", "PORT": free_port()}, alias="pg-refused")
    with pytest.raises(OperationalError) as no_server:
        refused.ensure_connection()
    assert is_db_unavailable(no_server.value)
    with pytest.raises(DatabaseError) as typo, connection.cursor() as mine:
        mine.execute("SELECT * FROM no_such_table")
    assert not is_db_unavailable(typo.value)


def test_a_bookkeeping_write_gives_way_to_a_long_writer_at_once(scratch, caplog):
    wrapper, path = scratch
    holder = lock(path)
    try:
        started = time.monotonic()
        made = bookkeeping_write(
            lambda: wrapper.cursor().execute("UPDATE token SET used = 'read'"), what="token last use", using=SCRATCH
        )
        waited = time.monotonic() - started
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert made is False
    assert waited < 2, f"waited {waited:.1f}s; the busy timeout is 20 s, a bookkeeping write must not use it"
    assert "skipped token last use: the database is busy (OperationalError: database is locked)" in caplog.text
    with wrapper.cursor() as cursor:
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 20000  # the connection's own, back
        assert cursor.execute("SELECT used FROM token").fetchone()[0] == "writer"
    assert bookkeeping_write(
        lambda: wrapper.cursor().execute("UPDATE token SET used = 'read'"), what="token last use", using=SCRATCH
    )
    with wrapper.cursor() as cursor:
        assert cursor.execute("SELECT used FROM token").fetchone()[0] == "read"


def test_a_bookkeeping_write_still_raises_a_bug(scratch):
    wrapper, _ = scratch
    with pytest.raises(OperationalError, match="no such table"):
        bookkeeping_write(lambda: wrapper.cursor().execute("UPDATE nope SET x = 1"), what="x", using=SCRATCH)


def test_pause_for_writers_leaves_sqlite_free_between_transactions(scratch):
    started = time.monotonic()
    pause_for_writers(using=SCRATCH)
    assert time.monotonic() - started >= 0.09


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_bookkeeping_write_gives_way_to_a_row_lock(caplog):
    from django.db.backends.postgresql.base import DatabaseWrapper as PgWrapper

    from tamarind.people.models import Region

    region = Region.objects.create(name="Busy")
    other = PgWrapper({**connection.settings_dict}, alias="pg-writer")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("UPDATE people_region SET name = 'Writer' WHERE id = %s", [region.pk])
            started = time.monotonic()
            made = bookkeeping_write(
                lambda: Region.objects.filter(pk=region.pk).update(name="Reader"), what="the region's name"
            )
            waited = time.monotonic() - started
            cursor.execute("COMMIT")
    finally:
        other.close()
    assert made is False and waited < 2
    assert "skipped the region's name: the database is busy" in caplog.text
    assert Region.objects.get(pk=region.pk).name == "Writer"
    with connection.cursor() as mine:  # SET LOCAL ended with its transaction
        mine.execute("SHOW lock_timeout")
        assert mine.fetchone()[0] == "0"
