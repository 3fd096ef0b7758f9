"""``core.heartbeat``: a job's heartbeat written from a thread of its own while the job works, through database
failures, and seen by others while the job's own transaction is open (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from tamarind.core.heartbeat import Pulse, beat_seconds, lease, lost_reason, lost_since


class Recorder:
    """A write function that keeps what it was asked to write, and from which thread."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures = failures

    def __call__(self, fields: dict[str, Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise OperationalError("database is locked")
        self.calls.append((threading.current_thread().name, dict(fields)))


def wait_for(check: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_lease_and_the_beat_come_from_the_settings(settings):
    settings.TAMARIND_JOB_LEASE_SECONDS = 120
    assert lease() == dt.timedelta(minutes=2)
    assert beat_seconds() == 12
    now = timezone.now()
    assert lost_since(now - dt.timedelta(minutes=3), now)
    assert not lost_since(now - dt.timedelta(minutes=1), now)
    assert not lost_since(None, now)


def test_the_reason_says_since_when_and_which_worker(settings):
    settings.TIME_ZONE = "UTC"
    at = dt.datetime(2026, 3, 2, 9, 14, 5, tzinfo=dt.UTC)
    assert lost_reason(at, "host:42") == "Worker lost: no heartbeat since 2026-03-02 09:14:05 UTC (worker host:42)."
    assert lost_reason(at) == "Worker lost: no heartbeat since 2026-03-02 09:14:05 UTC."


def test_a_pulse_beats_from_its_own_thread_and_carries_progress():
    write = Recorder()
    with Pulse(write, name="job 1", every=0.1, min_gap=0.05) as pulse:
        assert not pulse.inline
        time.sleep(0.05)
        assert write.calls == []  # the claim wrote the first heartbeat: the pulse starts one beat later
        wait_for(lambda: len(write.calls) >= 3)
        pulse.update(rows_processed=10, stage="reading")
        pulse.update(rows_processed=20)
        wait_for(lambda: any(fields for _, fields in write.calls))
    count = len(write.calls)
    time.sleep(0.25)
    assert len(write.calls) == count, "the pulse goes on after the job"
    assert {thread for thread, _ in write.calls} == {"pulse job 1"}
    progress = [fields for _, fields in write.calls if fields]
    assert progress[0] == {"rows_processed": 20, "stage": "reading"}  # merged, written once


def test_a_pulse_survives_database_failures_and_keeps_what_it_could_not_write(caplog):
    write = Recorder(failures=2)
    with Pulse(write, name="job 2", every=0.05, min_gap=0.01) as pulse:
        pulse.update(stage="writing")
        wait_for(lambda: len(write.calls) >= 2)
    assert write.calls[0][1] == {"stage": "writing"}
    messages = [r.getMessage() for r in caplog.records if r.name == "tamarind.heartbeat"]
    assert len(messages) == 2  # the streak, once, and its end
    assert messages[0].startswith("heartbeat of job 2: the database failed (OperationalError: database is locked)")
    assert messages[1].startswith("heartbeat of job 2: the database answers again")


@pytest.mark.django_db
def test_inside_a_transaction_a_pulse_writes_there_at_once():
    """Another connection could not see the job's uncommitted row; the transaction is the job's record anyway."""
    write = Recorder()
    assert connection.in_atomic_block  # the test's own transaction
    with Pulse(write, name="job 3", every=0.05) as pulse:
        assert pulse.inline
        pulse.update(rows_processed=5)
        assert write.calls == [(threading.current_thread().name, {"rows_processed": 5})]
        time.sleep(0.15)
    assert len(write.calls) == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite has one writer: see core.heartbeat")
@pytest.mark.django_db(transaction=True)
def test_others_see_the_heartbeat_while_the_job_holds_a_long_transaction():
    from tamarind.imports.models import ImportJob, ImportStatus
    from tamarind.imports.services import _job_beat
    from tamarind.people.models import Region, Role
    from tamarind.testing.factories import UserFactory

    started = timezone.now() - dt.timedelta(minutes=1)
    admin = UserFactory(role=Role.ADMIN)
    job = ImportJob.objects.create(
        created_by=admin, file_name="f.csv", stored_path="/x", status=ImportStatus.RUNNING, heartbeat_at=started
    )
    s = connection.settings_dict
    url = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

    def seen() -> tuple[dt.datetime, int]:
        with psycopg.connect(url, autocommit=True) as other:
            row = other.execute(
                "SELECT heartbeat_at, rows_processed FROM imports_importjob WHERE id = %s", [job.pk]
            ).fetchone()
        return row[0], row[1]

    with Pulse(lambda fields: _job_beat(fields, job_id=job.pk), name="job", every=0.1) as pulse:
        assert not pulse.inline  # started outside a transaction, as import_job_run starts it
        with transaction.atomic():
            # The job's long write transaction: it has written rows nobody else sees yet.
            Region.objects.create(name="Written in a long transaction")
            wait_for(lambda: seen()[0] > started + dt.timedelta(seconds=30))
            pulse.update(rows_processed=123, stage="writing")
            wait_for(lambda: seen()[1] == 123)
