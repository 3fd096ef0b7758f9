"""Two workers, one tick: however their ticks interleave, each due slot is claimed and run exactly once.

Threads stand in for worker processes here (each has its own database connection), on PostgreSQL.
``test_worker.py`` runs two real ``tamarind worker`` processes, on an SQLite file (and on PostgreSQL). The test
suite's SQLite database is in memory with a shared cache, where a second writer fails at once with "table is
locked" instead of waiting its turn as it does on a real SQLite file; so the threads here are PostgreSQL's.
Transactional tests: the ticks must really commit and really compete.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tamarind.scheduler import services
from tamarind.scheduler.models import JobRun, JobRunStatus
from tamarind.scheduler.services import scheduler_tick
from tamarind.scheduler.tests import sample_jobs
from tamarind.scheduler.tests.conftest import T0

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="in-memory SQLite: see the module docstring"),
]

HOUR = dt.timedelta(hours=1)


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads at once; return their results (re-raising the first failure)."""
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results


def test_two_workers_ticking_together_claim_each_slot_once(jobs):
    rounds = 12
    barrier = threading.Barrier(2, timeout=30)

    def worker(i: int) -> list[int]:
        claimed = []
        for r in range(rounds):
            barrier.wait()  # both tick the same moment, as two workers started together would
            runs = scheduler_tick(now=T0 + r * HOUR + dt.timedelta(seconds=5), worker=f"w{i}")
            claimed.extend(run.pk for run in runs)
        return claimed

    first, second = in_threads(2, worker)
    assert not set(first) & set(second)
    tally = jobs["tally"]
    runs = JobRun.objects.filter(job=tally)
    assert runs.count() == rounds  # hourly: one run per round
    assert sorted(runs.values_list("scheduled_for", flat=True)) == [T0 + r * HOUR for r in range(rounds)]
    assert sample_jobs.CALLS.count("tally") == rounds
    assert set(runs.values_list("status", flat=True)) == {JobRunStatus.SUCCEEDED}
    # The daily job was due once in those twelve hours.
    assert JobRun.objects.filter(job=jobs["explode"]).count() == 1
    assert {run.claimed_by for run in runs} <= {"w0", "w1"}


def test_both_read_the_due_row_before_either_claims_it(jobs, monkeypatch):
    """The worst interleaving, forced: both ticks have read the same due rows before either updates one (the
    tick computes the next slot between its read and its compare-and-swap, so both wait there for each other)."""
    barrier = threading.Barrier(2, timeout=30)
    seen = threading.local()
    next_slot = services.next_slot

    def next_slot_after_both_read(slot: dt.datetime, every: dt.timedelta, now: dt.datetime) -> dt.datetime:
        if not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait()
        return next_slot(slot, every, now)

    monkeypatch.setattr(services, "next_slot", next_slot_after_both_read)
    first, second = in_threads(2, lambda i: [r.pk for r in scheduler_tick(now=T0, worker=f"w{i}")])
    assert len(first) + len(second) == 2 and not set(first) & set(second)
    assert JobRun.objects.count() == 2
    assert sample_jobs.CALLS.count("tally") == 1
