"""Lost work in a real browser: an import whose worker went silent shows its worker and last heartbeat, then why it
failed; the scheduler's runs and the health model's recent recomputes say the same; Run now works again at once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tamarind.core.heartbeat import lease
from tamarind.health.models import HealthLock, HealthRun, RunKind
from tamarind.imports.models import ImportJob, ImportStatus
from tamarind.scheduler.models import JobRun, JobRunStatus, JobRunTrigger, PeriodicJob
from tamarind.scheduler.services import periodic_jobs_sync, scheduler_tick
from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKER = "worker-7:31337"


def test_lost_import_run_and_recompute_show_why_and_run_now_works_again(page, live_server, book):
    beat = timezone.now() - dt.timedelta(seconds=20)  # its worker was alive 20 s ago
    started = beat - dt.timedelta(minutes=2)
    job = ImportJob.objects.create(
        created_by=book.admin,
        file_name="crm-export.csv",
        stored_path="/nowhere/crm-export.csv",
        size=1000,
        status=ImportStatus.RUNNING,
        stage="writing",
        started_at=started,
        bytes_processed=990,
        rows_processed=4800,
        heartbeat_at=beat,
        worker=WORKER,
    )
    periodic_jobs_sync()  # an earlier transactional test's flush took the rows migrate made
    health_job = PeriodicJob.objects.get(key="health.recompute_all")
    run = JobRun.objects.create(
        job=health_job,
        status=JobRunStatus.RUNNING,
        trigger=JobRunTrigger.SCHEDULE,
        scheduled_for=started,
        created_at=started,
        started_at=started,
        heartbeat_at=beat,
        worker=WORKER,
    )
    HealthRun.objects.create(kind=RunKind.FULL, source="scheduler", started_at=started, heartbeat_at=beat)
    HealthLock.objects.update_or_create(name="full", defaults={"holder": "dead", "locked_until": beat + lease()})
    login(page, live_server, book.admin)

    page.goto(live_server.url + reverse("imports:detail", args=[job.pk]))
    heartbeat = page.locator("#job-heartbeat")
    assert f"Worker {WORKER}" in heartbeat.inner_text()
    assert re.search(r"last heard from \d+\s+seconds ago", heartbeat.inner_text())
    assert "Saving the changes" in page.locator("#job-body").inner_text()
    screenshot(page, "import-running-heartbeat")

    # The worker is never heard from again: a tick past the lease fails the job, and the page (polling) says why.
    scheduler_tick(now=beat + lease() + dt.timedelta(seconds=1))
    page.wait_for_selector("#job-body[data-status=failed]", timeout=10_000)
    outcome = page.locator(".imp-outcome.bad").inner_text()
    assert "Worker lost: no heartbeat since" in outcome and f"(worker {WORKER})" in outcome
    assert "nothing was imported" in outcome
    screenshot(page, "import-lost-worker")

    page.goto(live_server.url + reverse("scheduler:runs") + "?status=failed")
    row = page.locator(f"#runs tr[data-run='{run.pk}']")
    assert "Worker lost: no heartbeat since" in row.inner_text()
    screenshot(page, "scheduler-runs-lost-worker")

    page.goto(live_server.url + reverse("health:model"))
    recompute = page.locator("#health-runs [data-run-status=failed]").first
    assert "Worker lost: no heartbeat since" in recompute.inner_text()
    screenshot(page, "health-model-lost-recompute")

    # Run now is not refused for an hour: the recompute runs, takes the freed lock and is done.
    page.goto(live_server.url + reverse("scheduler:jobs"))
    page.locator("tr[data-job='health.recompute_all'] button[data-run-now]").click()
    page.wait_for_load_state("networkidle")
    assert "Succeeded" in page.locator("tr[data-job='health.recompute_all']").inner_text()
    latest = JobRun.objects.filter(job=health_job).order_by("-pk").first()
    assert latest is not None and latest.status == JobRunStatus.SUCCEEDED and latest.result["status"] == "done"
    screenshot(page, "scheduler-run-now-after-lost-run")
