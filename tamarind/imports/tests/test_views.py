"""Import pages: who may see what, the upload's answers, the job page and its htmx fragment, mappings."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tamarind.accounts.models import Account
from tamarind.imports.models import ImportJob, ImportMapping, ImportStatus
from tamarind.imports.tests.conftest import GOOD_ROWS, csv_text

pytestmark = pytest.mark.django_db


def upload(client, content: bytes | str, name: str = "crm.csv", **data):
    if isinstance(content, str):
        content = content.encode()
    return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, content, "text/csv"), **data})


def make_job(book, **kwargs) -> ImportJob:
    defaults = {"created_by": book.admin, "file_name": "crm.csv", "stored_path": "/tmp/crm.csv", "size": 10}
    return ImportJob.objects.create(**{**defaults, **kwargs})


# --- Permissions ----------------------------------------------------------------------------------------------


def test_admin_sees_list_upload_job_errors_and_mappings(book, client_for):
    job = make_job(
        book,
        status=ImportStatus.FAILED,
        error_count=1,
        errors=[{"line": 2, "column": "ARR", "value": "x", "message": 'line 2: ARR "x" is not a number'}],
    )
    client = client_for(book.admin)
    for name, args in [
        ("imports:list", []),
        ("imports:upload", []),
        ("imports:detail", [job.pk]),
        ("imports:errors", [job.pk]),
        ("imports:mappings", []),
        ("imports:mapping_create", []),
        ("imports:mapping_edit", [ImportMapping.objects.get().pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name


@pytest.mark.parametrize("who", ["director", "manager", "tam", "sal"])
def test_non_admins_get_403_on_lists_and_upload_and_404_on_a_job(book, client_for, who):
    job = make_job(book)
    client = client_for(getattr(book, who))
    assert client.get(reverse("imports:list")).status_code == 403
    assert client.get(reverse("imports:upload")).status_code == 403
    assert upload(client, csv_text(*GOOD_ROWS)).status_code == 403
    assert client.get(reverse("imports:mappings")).status_code == 403
    assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("imports:errors", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:apply", args=[job.pk])).status_code == 404
    assert client.get(reverse("imports:mapping_edit", args=[ImportMapping.objects.get().pk])).status_code == 404
    assert not ImportJob.objects.exclude(pk=job.pk).exists()


def test_anonymous_is_sent_to_login(client, book):
    response = client.get(reverse("imports:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_job_is_404(book, client_for):
    assert client_for(book.admin).get(reverse("imports:detail", args=[999])).status_code == 404


# --- Queries ----------------------------------------------------------------------------------------------------


def test_list_queries_do_not_grow_with_jobs(book, client_for, django_assert_num_queries):
    client = client_for(book.admin)
    make_job(book)
    # session, user, count, page of jobs (people and mapping joined)
    with django_assert_num_queries(4):
        assert client.get(reverse("imports:list")).status_code == 200
    mapping = ImportMapping.objects.get()
    for i in range(40):
        make_job(book, file_name=f"crm-{i}.csv", mapping=mapping, status=ImportStatus.SUCCEEDED)
    with django_assert_num_queries(4):
        response = client.get(reverse("imports:list"))
    assert response.status_code == 200 and b"crm-39.csv" in response.content and b"Older" in response.content


def test_job_page_queries_are_fixed(book, client_for, django_assert_num_queries):
    errors = [
        {"line": i, "column": "ARR", "value": "x", "message": f'line {i}: ARR "x" is not a number'} for i in range(300)
    ]
    job = make_job(book, status=ImportStatus.FAILED, error_count=300, errors=errors)
    client = client_for(book.admin)
    with django_assert_num_queries(3):
        response = client.get(reverse("imports:detail", args=[job.pk]))
    assert response.content.count(b"is not a number") == 200 and b"100 more in the error report" in response.content


# --- Upload -------------------------------------------------------------------------------------------------------


def test_upload_runs_the_import_and_shows_the_result(book, client_for, settings):
    client = client_for(book.admin)
    response = upload(client, csv_text(*GOOD_ROWS))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:detail", args=[job.pk])
    assert job.status == ImportStatus.SUCCEEDED and job.created == 2  # the task ran inline (ImmediateBackend)
    assert job.stored_path.startswith(str(settings.MEDIA_ROOT / "imports"))
    page = client.get(response["Location"])
    assert b"Import complete: 2 accounts changed." in page.content
    assert b'<div id="job-body" data-status' in page.content  # finished: the job body polls no more


def test_dry_run_upload_then_apply(book, client_for):
    client = client_for(book.admin)
    upload(client, csv_text(*GOOD_ROWS), dry_run="on")
    dry = ImportJob.objects.get()
    assert dry.dry_run and dry.created == 2 and not Account.objects.filter(crm_id="A-1").exists()
    page = client.get(reverse("imports:detail", args=[dry.pk]))
    assert b"Dry run: nothing was written" in page.content and b"Import this file now" in page.content
    response = client.post(reverse("imports:apply", args=[dry.pk]))
    job = ImportJob.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    assert Account.objects.filter(crm_id="A-1").exists()


def test_rejected_upload_shows_errors_and_the_error_report(book, client_for):
    client = client_for(book.admin)
    upload(client, csv_text(GOOD_ROWS[1], "A-7,Seven,,Enterprise,AMER East,lots,,,,,,,"))
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:detail", args=[job.pk]))
    assert b"The file was rejected (1 error); nothing was imported." in page.content
    assert b'line 3: CARR (This Account) "lots" is not a number' in page.content.replace(b"&quot;", b'"')
    report = client.get(reverse("imports:errors", args=[job.pk]))
    assert report["Content-Type"].startswith("text/csv")
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "line,column,value,message"
    assert lines[1] == '3,CARR (This Account),lots,"line 3: CARR (This Account) ""lots"" is not a number"'


def test_rejected_import_pages_say_would_not_did(book, client_for):
    """A rejected import wrote nothing: its page and the history list say what the clean rows *would* have done."""
    client = client_for(book.admin)
    upload(client, csv_text(*GOOD_ROWS, "A-7,Seven,,Enterprise,AMER East,lots,,,,,,,"))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.created == 2
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert '<span class="label">would be created</span>' in page
    assert '<span class="label">created</span>' not in page
    assert "Changes it would make" in page
    listing = client.get(reverse("imports:list")).content.decode()
    assert 'title="Nothing written: the rows without errors would have created 2 and updated 0."' in listing


def test_error_report_escapes_cells_a_spreadsheet_would_run(book, client_for):
    """The error report repeats the file's cells: one that starts a formula is written behind an apostrophe
    (the shared escape of every export), so opening the report in a spreadsheet runs nothing."""
    import csv
    import io

    client = client_for(book.admin)
    upload(client, csv_text(GOOD_ROWS[1], "A-7,Seven,,Enterprise,=cmd|' /C calc'!A0,-5,,,,,,,"))
    job = ImportJob.objects.get()
    report = client.get(reverse("imports:errors", args=[job.pk])).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(report, newline="")))
    values = {row[1]: row[2] for row in rows[1:]}
    assert values["Region"] == "'=cmd|' /C calc'!A0"
    assert values["CARR (This Account)"] == "'-5"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_too_large_upload_is_413(book, client_for, settings):
    settings.TAMARIND_MAX_UPLOAD_BYTES = 100
    response = upload(client_for(book.admin), csv_text(*GOOD_ROWS))
    assert response.status_code == 413
    assert b"an import may be at most 100 bytes" in response.content
    assert not ImportJob.objects.exists()


def test_much_too_large_upload_is_refused_before_reading_it(book, client_for, settings):
    settings.TAMARIND_MAX_UPLOAD_BYTES = 10
    response = upload(client_for(book.admin), "x" * 200_000)
    assert response.status_code == 413 and b"an import may be at most 10 bytes" in response.content


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("crm.xlsx", b"PK\x03\x04rest", "is not a CSV file"),
        ("crm.csv", b"PK\x03\x04rest", "is a spreadsheet or ZIP archive, not a CSV file"),
        ("crm.csv", b"%PDF-1.7", "is a PDF document, not a CSV file"),
        ("crm.csv", b"", "The submitted file is empty."),
    ],
)
def test_non_csv_or_empty_upload_is_400(book, client_for, name, content, message):
    response = upload(client_for(book.admin), content, name=name)
    assert response.status_code == 400
    assert message.encode() in response.content.replace(b"&#x27;", b"'")
    assert not ImportJob.objects.exists()


def test_upload_without_file_is_400(book, client_for):
    response = client_for(book.admin).post(reverse("imports:upload"), {})
    assert response.status_code == 400 and b"This field is required." in response.content


# --- Progress --------------------------------------------------------------------------------------------------------


def test_running_job_polls_its_fragment(book, client_for):
    job = make_job(
        book, status=ImportStatus.RUNNING, size=1000, bytes_processed=420, rows_processed=1234, stage="reading"
    )
    client = client_for(book.admin)
    page = client.get(reverse("imports:detail", args=[job.pk]))
    assert b'hx-trigger="every 1s"' in page.content and b"<html" in page.content
    fragment = client.get(reverse("imports:detail", args=[job.pk]), headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and b'id="job-body"' in fragment.content
    assert b"42%" in fragment.content and b"1,234 rows read" in fragment.content
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, total=5, unchanged=5)
    fragment = client.get(reverse("imports:detail", args=[job.pk]), headers={"HX-Request": "true"})
    assert b"hx-trigger" not in fragment.content and b"Import complete" in fragment.content


# --- Mappings --------------------------------------------------------------------------------------------------------


def mapping_post(mapping: ImportMapping, **changes) -> dict[str, str]:
    data = {"name": mapping.name, "description": mapping.description, "is_default": "on" if mapping.is_default else ""}
    for field, headers in mapping.headers.items():
        data[f"headers_{field}"] = "\n".join(headers)
    for field, pairs in mapping.synonyms.items():
        data[f"synonyms_{field}"] = "\n".join(f"{k} = {v}" for k, v in pairs.items())
    data.update(changes)
    return data


def test_admin_edits_a_mapping(book, client_for):
    mapping = ImportMapping.objects.get()
    client = client_for(book.admin)
    url = reverse("imports:mapping_edit", args=[mapping.pk])
    response = client.post(url, mapping_post(mapping, synonyms_product_tier="Platinum = Ultimate\nDiamond = Gold"))
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.synonyms["product_tier"] == {"Platinum": "Ultimate", "Diamond": "Gold"} and mapping.version == 2

    response = client.post(url, mapping_post(mapping, synonyms_segment="Huge = Gigantic", headers_name=""))
    assert response.status_code == 400
    assert "Huge = Gigantic”: Gigantic is not a known sales segment." in response.content.decode()
    assert b"Account Name needs at least one header." in response.content


def test_admin_creates_a_mapping(book, client_for):
    client = client_for(book.admin)
    page = client.get(reverse("imports:mapping_create"))
    assert b"CARR (This Account)" in page.content  # starts from the default headers
    data = mapping_post(
        ImportMapping.objects.get(), name="HubSpot", is_default="", synonyms_region="AMER-E = AMER East"
    )
    assert client.post(reverse("imports:mapping_create"), data).status_code == 302
    created = ImportMapping.objects.get(name="HubSpot")
    assert created.synonyms == {
        "segment": {"MM": "Mid-Market", "ENT": "Enterprise", "Small Business": "SMB"},
        "lifecycle_stage": {"Optimise and Grow": "Optimize and Grow", "Churn": "Will Churn"},
        "region": {"AMER-E": "AMER East"},
    }
    assert client.post(reverse("imports:mapping_create"), data).status_code == 400  # the name is taken


def test_manager_cannot_create_mappings(book, client_for):
    response = client_for(book.manager).post(reverse("imports:mapping_create"), {"name": "X"})
    assert response.status_code == 403 and ImportMapping.objects.count() == 1


# --- Unknown regions and owners ------------------------------------------------------------------------------------

FRESH_ROWS = [
    "N-1,Nile,,Enterprise,APAC,90000,Premium,jane@new.example.com,,,,,",
    "N-2,Niger,,Enterprise,APAC,90000,Premium,Jane New,,,,,",
    "N-3,Congo,,Mid-Market,LATAM,60000,Premium,,,,,,",
]


def test_dry_run_page_lists_unknown_regions_and_owners_and_offers_to_create_and_import(book, client_for):
    from tamarind.people.models import Region

    client = client_for(book.admin)
    upload(client, csv_text(*FRESH_ROWS), dry_run="on")
    dry = ImportJob.objects.get()
    page = client.get(reverse("imports:detail", args=[dry.pk])).content.decode()
    assert 'id="unknown-regions"' in page and "<td>APAC</td>" in page and "<td>LATAM</td>" in page
    assert "3 lines name a region Tamarind does not have." in page
    assert "jane@new.example.com" in page and "Jane New" in page
    assert f"{reverse('people:create')}?role=tam&amp;email=jane%40new.example.com" in page
    assert f"{reverse('people:create')}?role=tam&amp;full_name=Jane%20New" in page
    assert "Create these regions and import" in page and 'name="skip_unknown_owners"' in page

    # Creating the regions alone would leave the owners' lines refused: said so, and nothing is queued.
    response = client.post(reverse("imports:apply", args=[dry.pk]), {"create_regions": "1", "action": "import"})
    assert response["Location"] == reverse("imports:detail", args=[dry.pk])
    assert ImportJob.objects.count() == 1 and not Region.objects.filter(name="APAC").exists()
    assert (
        "choose to import the lines with unknown owners without them"
        in client.get(response["Location"]).content.decode()
    )

    # Check again with the choices: a new dry run, clean now, that creates nothing.
    response = client.post(
        reverse("imports:apply", args=[dry.pk]), {"create_regions": "1", "skip_unknown_owners": "1", "action": "check"}
    )
    check = ImportJob.objects.exclude(pk=dry.pk).get()
    assert check.dry_run and check.create_regions and check.skip_unknown_owners
    assert check.status == ImportStatus.SUCCEEDED and not Region.objects.filter(name="APAC").exists()
    page = client.get(response["Location"]).content.decode()
    assert "The import will create two regions (3 lines) in the same transaction" in page
    assert "Import this file now" in page

    # And import it: the options carry over from the dry run.
    response = client.post(reverse("imports:apply", args=[check.pk]))
    job = ImportJob.objects.exclude(pk__in=[dry.pk, check.pk]).get()
    assert job.status == ImportStatus.SUCCEEDED and not job.dry_run and job.create_regions
    apac = Region.objects.get(name="APAC")
    assert Account.objects.get(crm_id="N-1").region == apac
    page = client.get(response["Location"]).content.decode()
    assert f'href="{reverse("people:region_edit", args=[apac.pk])}">Set TAM Manager' in page
    assert "were imported without these owners" in page


def test_create_and_import_straight_from_the_refused_dry_run(book, client_for):
    from tamarind.people.models import Region

    client = client_for(book.admin)
    upload(client, csv_text(FRESH_ROWS[2]), dry_run="on")
    dry = ImportJob.objects.get()
    page = client.get(reverse("imports:detail", args=[dry.pk])).content.decode()
    assert "Create this region and import" in page and 'name="skip_unknown_owners"' not in page
    client.post(reverse("imports:apply", args=[dry.pk]), {"create_regions": "1", "action": "import"})
    assert Account.objects.get(crm_id="N-3").region == Region.objects.get(name="LATAM")


def test_upload_form_takes_the_options(book, client_for):
    client = client_for(book.admin)
    assert b'name="create_regions"' in client.get(reverse("imports:upload")).content
    upload(client, csv_text(*FRESH_ROWS), create_regions="on", skip_unknown_owners="on")
    job = ImportJob.objects.get()
    assert job.create_regions and job.skip_unknown_owners and job.status == ImportStatus.SUCCEEDED
    response = upload(client, "Account ID,Date,Metric,Value\n", kind="usage", create_regions="on")
    assert response.status_code == 400 and b"account files only" in response.content


def test_a_file_with_other_errors_offers_no_create_and_import(book, client_for):
    client = client_for(book.admin)
    upload(client, csv_text(FRESH_ROWS[2], "N-9,Bad,,Enterprise,APAC,lots,,,,,,,"), dry_run="on")
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "<td>LATAM</td>" in page and 'id="unknown-form"' not in page
    assert "The file has 1 other error (below) to fix first" in page


def test_job_page_with_unknowns_queries_are_fixed(book, client_for, django_assert_num_queries):
    unknown = {
        "regions": [{"name": f"R{i}", "lines": 2, "first_line": i, "id": None} for i in range(40)],
        "regions_total": 40,
        "owners": [
            {"field": "tam", "role": "TAM", "value": f"p{i}@x.com", "lines": 1, "first_line": i} for i in range(40)
        ],
        "owners_total": 40,
        "region_lines": 80,
        "owner_lines": 40,
        "region_errors": 80,
        "owner_errors": 40,
        "other_errors": 0,
        "create_regions": False,
        "skip_unknown_owners": False,
        "regions_created": False,
    }
    job = make_job(book, status=ImportStatus.FAILED, error_count=120, unknown=unknown, dry_run=True)
    client = client_for(book.admin)
    with django_assert_num_queries(3):
        response = client.get(reverse("imports:detail", args=[job.pk]))
    assert response.content.count(b"Add as TAM") == 40
