"""A CRM export into an install that lacks its regions and owners: the dry run lists them with their line counts,
the import can create the regions (audited, in its own transaction) and import lines without unknown owners."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.imports import services
from tamarind.imports.models import ImportJob, ImportStatus
from tamarind.imports.tests.conftest import csv_text
from tamarind.imports.unknowns import MAX_NEW_REGIONS
from tamarind.people.models import Region, Role
from tamarind.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

# Columns: Account ID, Account Name, Parent Account ID, Sales Segment, Region, CARR, Products Purchased,
# Technical Account Manager, Account Owner, Solutions Architect, Customer Since, Next Renewal Date, Licenses.
FRESH_ROWS = [
    "N-1,Nile,,Enterprise,APAC,90000,Premium,jane@new.example.com,Sid Sales,,,,",
    "N-2,Niger,,Enterprise,apac,90000,Premium,jane@new.example.com,,,,,",
    "N-3,Congo,,Mid-Market,LATAM,60000,Premium,,sal@example.com,,,,",
    "N-4,Zambezi,,Enterprise,APAC,70000,Premium,Tara Tam,,,,,",
    "N-5,Volga,,Enterprise,AMER East,70000,Premium,,,Nina Nobody,,,",
]


def run(path, actor, **options) -> ImportJob:
    job = services.import_job_create_from_path(actor=actor, path=path, **options)
    return services.import_job_run(job_id=job.pk)


def test_dry_run_lists_unknown_regions_and_owners_with_their_lines(book, write_csv):
    job = run(write_csv(csv_text(*FRESH_ROWS)), book.admin, dry_run=True)

    assert job.status == ImportStatus.FAILED
    assert job.unknown["regions"] == [
        {"name": "APAC", "lines": 3, "first_line": 2, "id": None},
        {"name": "LATAM", "lines": 1, "first_line": 4, "id": None},
    ]
    assert job.unknown["owners"] == [
        {"field": "tam", "role": "TAM", "value": "jane@new.example.com", "lines": 2, "first_line": 2},
        {"field": "sal", "role": "SAL / AE", "value": "Sid Sales", "lines": 1, "first_line": 2},
        {"field": "sa", "role": "Solutions Architect", "value": "Nina Nobody", "lines": 1, "first_line": 6},
    ]
    assert (job.unknown["region_errors"], job.unknown["owner_errors"], job.unknown["other_errors"]) == (4, 4, 0)
    assert (job.unknown["region_lines"], job.unknown["owner_lines"]) == (4, 3)
    assert job.unknown_only
    assert job.message == (
        "The file was rejected (8 errors: 2 regions and 3 owners Tamarind does not know); nothing was imported."
    )
    # Each line still says what is wrong with it.
    messages = [e["message"] for e in job.errors]
    assert 'line 2: Region "APAC" is not a known region' in messages
    assert 'line 3: Region "apac" is not a known region' in messages
    assert 'line 2: Account Owner "Sid Sales" is not a known person' in messages
    assert Region.objects.count() == 2


def test_create_regions_and_skip_unknown_owners_import_the_file_in_one_step(
    book, write_csv, django_capture_on_commit_callbacks
):
    book.account.crm_id = "N-4"  # an existing account whose TAM the file does not know: it keeps its own
    book.account.save(update_fields=["crm_id"])
    rows = [*FRESH_ROWS[:3], "N-4,Acme Corp,,Enterprise,APAC,120000,Premium,ghost@new.example.com,,,,,"]
    dry = run(write_csv(csv_text(*rows)), book.admin, dry_run=True)
    assert dry.unknown_only
    with pytest.raises(ValidationFailed, match="choose to import the lines with unknown owners without them"):
        services.import_job_apply(actor=book.admin, job=dry, create_regions=True)

    job = services.import_job_apply(actor=book.admin, job=dry, create_regions=True, skip_unknown_owners=True)
    job = services.import_job_run(job_id=job.pk)

    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert (job.created, job.updated, job.error_count) == (3, 1, 0)
    apac, latam = Region.objects.get(name="APAC"), Region.objects.get(name="LATAM")
    assert apac.manager is None
    assert [r["id"] for r in job.unknown["regions"]] == [apac.pk, latam.pk] and job.unknown["regions_created"]
    assert job.unknown["skip_unknown_owners"] and job.unknown["owner_lines"] == 3
    nile = Account.objects.get(crm_id="N-1")
    assert (nile.region, nile.tam, nile.sal) == (apac, None, None)
    assert Account.objects.get(crm_id="N-3").sal == book.sal
    acme = Account.objects.get(pk=book.account.pk)
    assert acme.region == apac and acme.tam == book.tam  # moved region; the unknown TAM left its own TAM alone
    # Rows imported without an owner keep no digest: the next import reads them again.
    assert nile.import_hash == "" and Account.objects.get(crm_id="N-3").import_hash != ""
    events = AuditEvent.objects.filter(object_type="people.region", action="create")
    assert {e.object_repr for e in events} == {"APAC", "LATAM"}
    assert all(e.source == "import" and e.actor_id == book.admin.pk for e in events)
    assert {e.request_id for e in events} == {f"import-{job.pk}"}

    # The admin adds the missing TAM; the same file, imported again, now sets her.
    jane = UserFactory(email="jane@new.example.com", full_name="Jane New", role=Role.TAM, region=apac)
    again = run(job_path(job), book.admin, skip_unknown_owners=True)
    assert again.status == ImportStatus.SUCCEEDED, again.errors
    assert again.updated == 2 and Region.objects.filter(name__iexact="apac").count() == 1
    assert Account.objects.get(crm_id="N-1").tam == jane and Account.objects.get(crm_id="N-2").tam == jane
    assert Account.objects.get(crm_id="N-2").import_hash != ""
    assert Account.objects.get(crm_id="N-1").import_hash == ""  # Sid Sales is still unknown


def job_path(job):
    from pathlib import Path

    return Path(job.stored_path)


def test_dry_run_with_create_regions_previews_them_and_creates_nothing(book, write_csv):
    rows = [FRESH_ROWS[2].replace("sal@example.com", ""), FRESH_ROWS[3]]
    job = run(write_csv(csv_text(*rows)), book.admin, dry_run=True, create_regions=True)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.created == 2 and job.unknown["create_regions"] and not job.unknown["regions_created"]
    assert ["Region", "", "LATAM (new region)"] in job.changes[0]["fields"]
    assert job.summary().startswith("dry run, nothing written: 2 would change")
    assert not Region.objects.filter(name__in=["APAC", "LATAM"]).exists()
    assert not AuditEvent.objects.filter(object_type="people.region").exists()


def test_regions_created_by_a_failed_import_are_rolled_back_with_it(book, write_csv, monkeypatch):
    def conflict(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("tamarind.imports.writer.assignment_services.qualification_refresh", conflict)
    job = run(write_csv(csv_text(FRESH_ROWS[3])), book.admin, create_regions=True)
    assert job.status == ImportStatus.FAILED and "nothing was imported" in job.message
    assert not Region.objects.filter(name="APAC").exists()
    assert not AuditEvent.objects.filter(object_type="people.region").exists()
    assert not Account.objects.filter(crm_id="N-4").exists()


def test_other_errors_still_refuse_the_file_and_cannot_be_skipped(book, write_csv):
    rows = [FRESH_ROWS[3], "N-9,Bad,,Enterprise,APAC,lots,Premium,,,,,,"]
    job = run(write_csv(csv_text(*rows)), book.admin, dry_run=True)
    assert job.unknown["other_errors"] == 1 and not job.unknown_only
    assert job.message == (
        "The file was rejected (3 errors, among them 1 region Tamarind does not know); nothing was imported."
    )
    with pytest.raises(ValidationFailed, match="Only a dry run that found no errors"):
        services.import_job_apply(actor=book.admin, job=job, create_regions=True)
    created = run(write_csv(csv_text(*rows)), book.admin, create_regions=True)
    assert created.status == ImportStatus.FAILED and created.error_count == 1
    assert not Region.objects.filter(name="APAC").exists()


def test_a_region_name_too_long_to_create_is_an_error_of_its_own(book, write_csv):
    long_name = "R" * 81
    job = run(write_csv(csv_text(f"N-1,Nile,,Enterprise,{long_name},1,,,,,,,")), book.admin, create_regions=True)
    assert job.status == ImportStatus.FAILED and not job.unknown
    assert job.errors[0]["message"].endswith("is not a known region, and too long to be one (at most 80 characters)")


def test_a_file_naming_too_many_new_regions_is_refused(book, write_csv):
    rows = [f"N-{i},Name {i},,Enterprise,Region {i},1,,,,,,," for i in range(MAX_NEW_REGIONS + 1)]
    job = run(write_csv(csv_text(*rows)), book.admin, create_regions=True)
    assert job.status == ImportStatus.FAILED
    assert [e["message"] for e in job.errors] == [
        f"the file names {MAX_NEW_REGIONS + 1} regions Tamarind does not know; an import creates at most "
        f"{MAX_NEW_REGIONS} (is the right column mapped as Region?)"
    ]
    assert Region.objects.count() == 2


def test_only_those_who_may_create_regions_ask_for_it(book, write_csv, monkeypatch):
    path = write_csv(csv_text(FRESH_ROWS[3]))
    with pytest.raises(PermissionDenied):
        services.import_job_create_from_path(actor=book.manager, path=path, create_regions=True)
    monkeypatch.setattr("tamarind.policy.can_manage_people", lambda user: False)
    with pytest.raises(PermissionDenied, match="Only admins create regions"):
        services.import_job_create_from_path(actor=book.admin, path=path, create_regions=True)
    assert services.import_job_create_from_path(actor=book.admin, path=path).pk


def test_a_job_whose_admin_lost_the_right_creates_no_region(book, write_csv, monkeypatch):
    job = services.import_job_create_from_path(
        actor=book.admin, path=write_csv(csv_text(FRESH_ROWS[3])), create_regions=True
    )
    monkeypatch.setattr("tamarind.policy.can_manage_people", lambda user: False)
    job = services.import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and job.message.endswith("may no longer create regions.")
    assert not Region.objects.filter(name="APAC").exists()


def test_the_options_apply_to_account_files_only(book, write_csv):
    with pytest.raises(ValidationFailed, match="account files only"):
        services.import_job_create_from_path(
            actor=book.admin, path=write_csv("Account ID,Date,Metric,Value\n"), kind="usage", create_regions=True
        )


def test_a_region_synonym_names_the_region_it_creates(book, write_csv):
    from tamarind.imports.models import ImportMapping

    mapping = ImportMapping.objects.get()
    mapping.synonyms = {"region": {"AP": "Asia Pacific"}}
    mapping.save(update_fields=["synonyms"])
    job = run(write_csv(csv_text(FRESH_ROWS[3].replace(",APAC,", ",AP,"))), book.admin, create_regions=True)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert Account.objects.get(crm_id="N-4").region.name == "Asia Pacific"


def test_a_region_created_by_someone_else_meanwhile_fails_the_import_cleanly(book, write_csv, monkeypatch):
    from tamarind.imports.importer import Importer
    from tamarind.testing.factories import RegionFactory

    check = Importer._check_file

    def check_then_someone_creates_the_region(self):
        check(self)
        RegionFactory(name="APAC")

    monkeypatch.setattr(Importer, "_check_file", check_then_someone_creates_the_region)
    job = run(write_csv(csv_text(FRESH_ROWS[3])), book.admin, create_regions=True)
    assert job.status == ImportStatus.FAILED
    assert job.message == "The account book changed while this file was imported; nothing was imported. Run it again."
    assert not Account.objects.filter(crm_id="N-4").exists() and Region.objects.filter(name="APAC").count() == 1
