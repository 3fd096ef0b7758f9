"""The RQ path against a real Redis (``make test-rq``; skipped unless selected with ``-m rq`` and Redis answers).

Scaling out: ``TAMARIND_TASK_BACKEND=rq`` sends tasks to Redis through django-tasks-rq, and RQ workers run them.
An RQ worker must load jobs with ``django_tasks_rq.Job`` (the settings' ``RQ["JOB_CLASS"]``; ``tamarind worker``
passes it too): with RQ's own job class the task never runs and the work stays queued, which is what happened
before. These tests run a real task through Redis and back, in process and through the real commands.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django_tasks.base import TaskResultStatus

from tamarind.scheduler.models import JobRun, JobRunStatus
from tamarind.scheduler.tasks import run_periodic_job
from tamarind.scheduler.tests import sample_jobs
from tamarind.scheduler.tests.conftest import T0
from tamarind.scheduler.tests.test_worker import REPORT, SEED, _database_env, tamarind

pytestmark = [pytest.mark.rq, pytest.mark.django_db(transaction=True)]

JOB_CLASS = "django_tasks_rq.Job"


@pytest.fixture
def rq_settings(settings, redis_url):
    """This process on the RQ backend, its queue emptied; the worker runs jobs in process (no fork) so they see
    the test database."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_rq", "django_tasks_rq"]  # as TAMARIND_TASK_BACKEND=rq
    settings.RQ_QUEUES = {"default": {"URL": redis_url}}
    settings.RQ = {"JOB_CLASS": JOB_CLASS, "WORKER_CLASS": "rq.worker.SimpleWorker"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    return settings


def test_a_task_goes_through_redis_and_a_burst_worker_runs_it(rq_settings, tally):
    run = JobRun.objects.create(job=tally, scheduled_for=T0)
    result = run_periodic_job.enqueue(run.pk)
    assert result.status == TaskResultStatus.READY
    import django_rq

    assert django_rq.get_queue("default").count == 1  # really in Redis
    call_command("rqworker", "default", "--burst")  # RQ["JOB_CLASS"] from the settings
    done = run_periodic_job.get_result(result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == {"run": run.pk, "job": "sampletests.tally", "status": "succeeded"}
    run.refresh_from_db()
    assert run.status == JobRunStatus.SUCCEEDED and run.result["calls"] == 1


def test_rqs_own_job_class_never_runs_the_task(rq_settings, tally):
    """Why the job stayed queued: RQ's default job class calls the Task object, which is not callable."""
    rq_settings.RQ = {"WORKER_CLASS": "rq.worker.SimpleWorker"}
    run = JobRun.objects.create(job=tally, scheduled_for=T0)
    run_periodic_job.enqueue(run.pk)
    call_command("rqworker", "default", "--burst", "--job-class", "rq.job.Job")
    run.refresh_from_db()
    assert run.status == JobRunStatus.QUEUED and sample_jobs.CALLS == []


def test_worker_ticks_and_runs_on_rq(rq_settings, jobs):
    call_command("worker", "--batch")
    runs = {run.job.key: run for run in JobRun.objects.select_related("job")}
    assert runs["sampletests.tally"].status == JobRunStatus.SUCCEEDED
    assert runs["sampletests.explode"].status == JobRunStatus.FAILED
    assert "the mail server said no" in runs["sampletests.explode"].error


def test_the_commands_on_rq_in_their_own_processes(redis_url, tmp_path):
    """The real thing: `tamarind worker --batch` and `tamarind rqworker default --burst`, forking RQ workers."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = _database_env(tmp_path)
    env.update(TAMARIND_TASK_BACKEND="rq", REDIS_URL=redis_url)
    tamarind(env, "shell", "-c", SEED)
    tamarind(env, "worker", "--batch")
    runs = json.loads(tamarind(env, "shell", "-c", REPORT).strip().splitlines()[-1])
    assert sorted((r["job"], r["status"]) for r in runs) == [
        ("sampletests.explode", "failed"),
        ("sampletests.tally", "succeeded"),
    ]
    # The README's way: queue from anywhere, run with `tamarind rqworker default`.
    tamarind(
        env,
        "shell",
        "-c",
        "import datetime as dt; from django.utils import timezone; "
        "from tamarind.scheduler.services import scheduler_tick; "
        "scheduler_tick(now=timezone.now() + dt.timedelta(days=3))",
    )
    tamarind(env, "rqworker", "default", "--burst")
    runs = json.loads(tamarind(env, "shell", "-c", REPORT).strip().splitlines()[-1])
    assert [r["status"] for r in runs if r["job"] == "sampletests.tally"] == ["succeeded", "succeeded"]
    assert all(r["status"] != "queued" for r in runs)
