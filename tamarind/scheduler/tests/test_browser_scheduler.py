"""The scheduler pages in a real browser: see the jobs, run one now, change its schedule, read the runs."""

from __future__ import annotations

import datetime as dt

import pytest

from tamarind.scheduler.models import JobRun, JobRunStatus, JobRunTrigger, PeriodicJob
from tamarind.scheduler.services import periodic_jobs_sync
from tamarind.scheduler.tests import sample_jobs
from tamarind.scheduler.tests.test_views import make_runs
from tamarind.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_jobs_run_now_edit_and_runs(page, live_server, book):
    periodic_jobs_sync(specs=sample_jobs.SPECS)
    jobs = {j.key: j for j in PeriodicJob.objects.filter(key__startswith="sampletests.")}
    make_runs(jobs["sampletests.explode"], 4)
    login(page, live_server, book.admin)

    page.click("nav >> text=Scheduler")
    page.wait_for_url("**/scheduler/")
    row = page.locator("tr[data-job='sampletests.tally']")
    assert "never" in row.inner_text()
    assert "RuntimeError: boom" in page.locator("tr[data-job='sampletests.explode']").inner_text()
    screenshot(page, "scheduler-jobs")

    row.locator("button[data-run-now]").click()
    page.wait_for_load_state("networkidle")
    assert "sampletests.tally: run" in page.locator(".messages").inner_text()
    assert "Succeeded" in page.locator("tr[data-job='sampletests.tally']").inner_text()
    run = JobRun.objects.get(job=jobs["sampletests.tally"])
    assert (run.status, run.trigger) == (JobRunStatus.SUCCEEDED, JobRunTrigger.MANUAL)
    screenshot(page, "scheduler-jobs-after-run-now")

    page.locator("tr[data-job='sampletests.tally'] >> text=Edit").click()
    page.wait_for_url(f"**/scheduler/{jobs['sampletests.tally'].pk}/")
    page.fill("input[name=every_value]", "15")
    page.select_option("select[name=every_unit]", "minutes")
    page.uncheck("input[name=enabled]")
    page.click("text=Save schedule")
    page.wait_for_load_state("networkidle")
    assert "sampletests.tally saved." in page.locator(".messages").inner_text()
    job = PeriodicJob.objects.get(key="sampletests.tally")
    assert (job.every, job.enabled) == (dt.timedelta(minutes=15), False)
    assert page.locator("#runs tr[data-run]").count() == 1
    screenshot(page, "scheduler-job")

    page.click("text=All runs of this job")
    page.wait_for_url("**/scheduler/runs/?job=sampletests.tally")
    assert page.locator("#runs tr[data-run]").count() == 1
    page.select_option("select[name=job]", "")
    page.select_option("select[name=status]", "failed")
    page.click("text=Filter")
    page.wait_for_load_state("networkidle")
    assert page.locator("#runs tr[data-status=failed]").count() == 2
    page.locator("#runs details summary").first.click()
    assert "Traceback" in page.locator("#runs details pre").first.inner_text()
    screenshot(page, "scheduler-runs")
