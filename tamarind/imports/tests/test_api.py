"""``/api/v1/imports/``: upload (202), job status, list; admins only; typed schemas in OpenAPI."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tamarind.accounts.models import Account
from tamarind.imports.models import ImportJob, ImportSource, ImportStatus
from tamarind.imports.tests.conftest import GOOD_ROWS, csv_text

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"


def post_file(client, content: str | bytes, name: str = "crm.csv", **data):
    if isinstance(content, str):
        content = content.encode()
    return client.post(URL, {"file": SimpleUploadedFile(name, content, "text/csv"), **data})


def test_upload_answers_202_with_the_job_and_imports(book, api_for):
    response = post_file(api_for(book.admin), csv_text(*GOOD_ROWS))
    assert response.status_code == 202, response.content
    body = response.json()
    job = ImportJob.objects.get()
    assert body["id"] == job.pk and body["status"] == "succeeded" and body["source"] == ImportSource.API
    assert (body["total"], body["created"], body["updated"], body["unchanged"], body["error_count"]) == (2, 2, 0, 0, 0)
    assert body["created_by"] == "admin@example.com" and body["progress"] == 100
    assert body["url"] == f"/imports/{job.pk}/" and body["mapping"] == "Salesforce account report"
    assert Account.objects.filter(crm_id="A-1").exists()


def test_dry_run_and_named_mapping(book, api_for):
    client = api_for(book.admin)
    response = post_file(client, csv_text(*GOOD_ROWS), dry_run="true", mapping="salesforce account report")
    assert response.status_code == 202 and response.json()["dry_run"] is True
    assert not Account.objects.filter(crm_id="A-1").exists()
    response = post_file(client, csv_text(*GOOD_ROWS), mapping="Nope")
    assert response.status_code == 400 and response.json() == {"detail": "There is no import mapping called “Nope”."}


def test_job_detail_has_status_counts_and_first_errors(book, api_for):
    client = api_for(book.admin)
    post_file(client, csv_text(GOOD_ROWS[1], "A-3,Three,,Enterprise,AMER East,lots,,,,,,,"))
    job = ImportJob.objects.get()
    response = client.get(f"{URL}{job.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == ImportStatus.FAILED and body["error_count"] == 1 and not body["errors_truncated"]
    assert body["errors"] == [
        {
            "line": 3,
            "column": "CARR (This Account)",
            "value": "lots",
            "message": 'line 3: CARR (This Account) "lots" is not a number',
        }
    ]
    assert body["changes"][0]["action"] == "create" and body["columns"]["matched"][0] == ["crm_id", "Account ID"]


def test_list_newest_first_with_paging(book, api_for):
    client = api_for(book.admin)
    for _ in range(3):
        post_file(client, csv_text(*GOOD_ROWS))
    ids = list(ImportJob.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    response = client.get(URL, {"limit": 2})
    assert response.status_code == 200 and [j["id"] for j in response.json()] == ids[:2]
    assert [j["id"] for j in client.get(URL, {"limit": 2, "offset": 2}).json()] == ids[2:]
    assert client.get(URL, {"limit": 0}).status_code == 422


@pytest.mark.parametrize("who", ["director", "manager", "tam", "sa"])
def test_non_admin_gets_403_on_list_and_upload_404_on_a_job(book, api_for, who):
    job = ImportJob.objects.create(created_by=book.admin, file_name="x.csv", stored_path="/tmp/x.csv")
    client = api_for(getattr(book, who))
    assert client.get(URL).status_code == 403
    response = post_file(client, csv_text(*GOOD_ROWS))
    assert response.status_code == 403 and response.json() == {"detail": "Only admins import CRM files."}
    assert client.get(f"{URL}{job.pk}").status_code == 404
    assert ImportJob.objects.count() == 1


def test_unauthenticated_is_401(book, client):
    assert client.get(URL).status_code == 401


def test_too_large_is_413_and_not_csv_is_400(book, api_for, settings):
    client = api_for(book.admin)
    response = post_file(client, b"%PDF-1.4 ...")
    assert response.status_code == 400 and response.json()["detail"] == "“crm.csv” is a PDF document, not a CSV file."
    response = post_file(client, b"", name="empty.csv")
    assert response.status_code == 400 and response.json()["detail"] == "“empty.csv” is empty."
    settings.TAMARIND_MAX_UPLOAD_BYTES = 50
    response = post_file(client, csv_text(*GOOD_ROWS))
    assert response.status_code == 413 and "an import may be at most 50 bytes" in response.json()["detail"]
    assert not ImportJob.objects.exists()


def test_schemas_are_in_openapi(book, api_for):
    schema = api_for(book.admin).get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    assert {"ImportJobOut", "ImportJobDetailOut", "ImportErrorOut"} <= set(components)
    status = components["ImportJobOut"]["properties"]["status"]
    if "$ref" in status:  # an enum schema of its own, shared by every schema that has a job status
        status = components[status["$ref"].rsplit("/", 1)[1]]
    assert status["enum"] == ["queued", "running", "succeeded", "failed"]
    post = schema["paths"]["/api/v1/imports/"]["post"]
    assert {"202", "403", "413"} <= set(post["responses"])
    assert "multipart/form-data" in post["requestBody"]["content"]


@pytest.mark.django_db
def test_every_job_source_lists_through_the_api(book, api_for, write_csv, run_import):
    """Jobs from every source (the demo generator included) serialise; a new source never breaks the list."""
    job = run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin)
    for source in ImportSource.values:
        ImportJob.objects.filter(pk=job.pk).update(source=source)
        response = api_for(book.admin).get("/api/v1/imports/")
        assert response.status_code == 200, response.content
        assert response.json()[0]["source"] == source


FRESH_ROWS = [
    "N-1,Nile,,Enterprise,APAC,90000,Premium,jane@new.example.com,,,,,",
    "N-2,Congo,,Mid-Market,LATAM,60000,Premium,,,,,,",
]


def test_unknown_regions_and_owners_then_upload_with_the_options(book, api_for):
    from tamarind.people.models import Region

    client = api_for(book.admin)
    body = post_file(client, csv_text(*FRESH_ROWS), dry_run="true").json()
    detail = client.get(f"{URL}{body['id']}").json()
    unknown = detail["unknown"]
    assert [(r["name"], r["lines"]) for r in unknown["regions"]] == [("APAC", 1), ("LATAM", 1)]
    assert [(o["field"], o["value"], o["lines"]) for o in unknown["owners"]] == [("tam", "jane@new.example.com", 1)]
    assert (unknown["region_errors"], unknown["owner_errors"], unknown["other_errors"]) == (2, 1, 0)
    assert detail["message"].startswith("The file was rejected (3 errors: 2 regions and 1 owner")

    response = post_file(client, csv_text(*FRESH_ROWS), create_regions="true", skip_unknown_owners="true")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "succeeded" and body["create_regions"] and body["skip_unknown_owners"]
    assert body["created"] == 2 and Region.objects.filter(name__in=["APAC", "LATAM"]).count() == 2
    detail = client.get(f"{URL}{body['id']}").json()
    assert detail["unknown"]["regions_created"] and all(r["id"] for r in detail["unknown"]["regions"])
    good = post_file(client, csv_text(*GOOD_ROWS)).json()
    assert client.get(f"{URL}{good['id']}").json()["unknown"] is None


def test_create_regions_flag_is_for_account_files(book, api_for):
    response = post_file(api_for(book.admin), "Account ID,Date,Metric,Value\n", kind="usage", create_regions="true")
    assert response.status_code == 400 and "account files only" in response.json()["detail"]
