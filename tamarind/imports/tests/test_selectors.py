"""The gated fetches of jobs and mappings, the history list and the export rows."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tamarind.imports import selectors
from tamarind.imports.models import ImportJob, ImportMapping

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(book) -> ImportJob:
    return ImportJob.objects.create(created_by=book.admin, file_name="x.csv", stored_path="/tmp/x.csv")


def test_import_job_for_user(book, job):
    assert selectors.import_job_for_user(book.admin, job.pk) == job
    assert selectors.import_job_for_user(book.admin, str(job.pk)) == job
    for user in (book.director, book.manager, book.tam, book.sal):
        with pytest.raises(Http404):
            selectors.import_job_for_user(user, job.pk)
    for bad in (job.pk + 1, "abc", None):
        with pytest.raises(Http404):
            selectors.import_job_for_user(book.admin, bad)


def test_inactive_admin_sees_nothing(book, job):
    book.admin.is_active = False
    with pytest.raises(Http404):
        selectors.import_job_for_user(book.admin, job.pk)
    with pytest.raises(PermissionDenied):
        selectors.import_job_list(user=book.admin)


def test_job_list_is_admin_only_and_leaves_out_large_columns(book, job):
    jobs = list(selectors.import_job_list(user=book.admin))
    assert jobs == [job]
    assert {"errors", "changes", "columns"} <= jobs[0].get_deferred_fields()
    with pytest.raises(PermissionDenied):
        selectors.import_job_list(user=book.director)


def test_mapping_fetch_and_default(book):
    mapping = ImportMapping.objects.get()
    assert selectors.import_mapping_default() == mapping
    assert selectors.import_mapping_for_user(book.admin, mapping.pk) == mapping
    with pytest.raises(Http404):
        selectors.import_mapping_for_user(book.manager, mapping.pk)
    assert selectors.import_mapping_named(" SALESFORCE ACCOUNT REPORT ") == mapping
    mapping.is_default = False
    mapping.save(update_fields=["is_default"])
    assert selectors.import_mapping_default() is None


def test_export_rows_follow_the_default_mapping_headers(book):
    mapping = ImportMapping.objects.get()
    mapping.headers = {**mapping.headers, "arr": ["ARR", "CARR (This Account)"]}
    mapping.save(update_fields=["headers"])
    rows = list(selectors.account_export_rows())
    assert rows[0][5] == "ARR"
    assert [r[0] for r in rows[1:]] == sorted([book.account.crm_id, book.other_account.crm_id])
