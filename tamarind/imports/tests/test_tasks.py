"""The background task is a thin wrapper: it runs the job and reports its outcome."""

from __future__ import annotations

import pytest

from tamarind.imports import services
from tamarind.imports.models import ImportStatus
from tamarind.imports.tasks import run_import_job
from tamarind.imports.tests.conftest import GOOD_ROWS, csv_text

pytestmark = pytest.mark.django_db


def test_task_runs_the_job(book, write_csv):
    job = services.import_job_create_from_path(actor=book.admin, path=write_csv(csv_text(*GOOD_ROWS)))
    result = run_import_job.enqueue(job.pk)
    assert result.return_value == {"job": job.pk, "status": "succeeded", "message": result.return_value["message"]}
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and job.created == 2


def test_job_of_a_demoted_admin_fails_cleanly(book, write_csv):
    job = services.import_job_create_from_path(actor=book.admin, path=write_csv(csv_text(*GOOD_ROWS)))
    book.admin.role = "director"
    book.admin.save(update_fields=["role"])
    job = services.import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and "may no longer import" in job.message


def test_job_whose_file_is_gone_fails_cleanly(book, write_csv):
    path = write_csv(csv_text(*GOOD_ROWS))
    job = services.import_job_create_from_path(actor=book.admin, path=path)
    path.unlink()
    job = services.import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and "no longer on the server" in job.message
