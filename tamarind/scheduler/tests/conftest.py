"""Fixtures of the scheduler's tests: the sample jobs registered, and Redis for the tests marked ``rq``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest

from tamarind.scheduler.models import PeriodicJob
from tamarind.scheduler.services import periodic_jobs_sync
from tamarind.scheduler.tests import sample_jobs

REDIS_URL = os.environ.get("TAMARIND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_calls() -> Iterator[None]:
    sample_jobs.CALLS.clear()
    yield
    sample_jobs.CALLS.clear()


@pytest.fixture
def jobs(db: None) -> dict[str, PeriodicJob]:
    """The sample jobs as rows, both due at ``T0``."""
    periodic_jobs_sync(specs=sample_jobs.SPECS, now=T0)
    return {job.key.split(".")[1]: job for job in PeriodicJob.objects.filter(key__startswith="sampletests.")}


@pytest.fixture
def tally(jobs: dict[str, PeriodicJob]) -> PeriodicJob:
    return jobs["tally"]


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> str:
    """The Redis the ``rq`` tests use; they run only when selected (``-m rq``) and Redis answers."""
    if "rq" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("RQ tests run with `make test-rq` (pytest -m rq)")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("TAMARIND_TEST_REQUIRE_REDIS") == "1":  # CI: a missing Redis is a failure, not a skip
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL
