"""Usage and ticket files through the import jobs: long and wide usage files, line-numbered errors, all-or-nothing,
dry runs, idempotent re-imports, and the accounts import left as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tamarind.imports import services
from tamarind.imports.models import ImportJob, ImportStatus
from tamarind.usage.models import IngestBatch, SupportTicket, UsageDaily, UsageMonthly


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run(book: Any, tmp_path: Path, text: str, kind: str, *, dry_run: bool = False, name: str = "f.csv") -> ImportJob:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    job = services.import_job_create_from_path(actor=book.admin, path=path, dry_run=dry_run, kind=kind)
    return services.import_job_run(job_id=job.pk)


@pytest.mark.django_db
def test_long_usage_file_imports_and_reimports_unchanged(book: Any, tmp_path: Path) -> None:
    crm = book.account.crm_id
    text = f'Account ID,Date,Metric,Value\n{crm},2026-03-01,active_users,10\n{crm},3/2/2026,active_users,"1,200"\n'
    job = run(book, tmp_path, text, "usage")
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert (job.kind, job.total, job.created, job.updated, job.unchanged) == ("usage", 2, 2, 0, 0)
    assert UsageDaily.objects.filter(account=book.account).count() == 2
    assert UsageMonthly.objects.get(account=book.account).max_value == 1200
    again = run(book, tmp_path, text, "usage")
    assert (again.status, again.changed, again.unchanged) == (ImportStatus.SUCCEEDED, 0, 2)
    assert IngestBatch.objects.count() == 1


@pytest.mark.django_db
def test_wide_usage_file(book: Any, tmp_path: Path) -> None:
    crm = book.account.crm_id
    text = f"Account ID,Date,Licenses,Active users,ci_users,Notes\n{crm},2026-03-01,300,40,,hello\n"
    job = run(book, tmp_path, text, "usage")
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.created == 2
    assert job.columns["ignored"] == ["Notes"]
    assert dict(UsageDaily.objects.values_list("metric__key", "value")) == {"licenses": 300, "active_users": 40}


@pytest.mark.django_db
def test_usage_errors_have_line_numbers_and_nothing_is_written(book: Any, tmp_path: Path) -> None:
    crm = book.account.crm_id
    text = (
        "Account ID,Date,Metric,Value\n"
        f"{crm},2026-03-01,active_users,10\n"
        f"NOPE,2026-03-01,active_users,10\n"
        f"{crm},2026-13-01,active_users,10\n"
        f"{crm},2026-03-02,nope,10\n"
        f"{crm},2026-03-03,active_users,-4\n"
        f"{crm},2026-03-01,active_users,11\n"
    )
    job = run(book, tmp_path, text, "usage")
    assert job.status == ImportStatus.FAILED
    by_line = {e["line"]: e["message"] for e in job.errors}
    assert set(by_line) == {3, 4, 5, 6, 7}
    assert by_line[3] == 'line 3: Account ID "NOPE" is not a known account (CRM id)'
    assert "is not a date" in by_line[4]
    assert "is not a known metric" in by_line[5]
    assert "is negative" in by_line[6]
    assert "repeats line 2" in by_line[7]
    assert not UsageDaily.objects.exists()


@pytest.mark.django_db
def test_missing_columns_reject_the_file(book: Any, tmp_path: Path) -> None:
    job = run(book, tmp_path, "Account ID,Metric,Value\nX,active_users,1\n", "usage")
    assert job.status == ImportStatus.FAILED
    assert any('missing required column "Date"' in e["message"] for e in job.errors)
    job = run(book, tmp_path, "Account ID,Date,Whatever\nX,2026-01-01,1\n", "usage")
    assert job.status == ImportStatus.FAILED


@pytest.mark.django_db
def test_dry_run_counts_and_writes_nothing(book: Any, tmp_path: Path) -> None:
    crm = book.account.crm_id
    job = run(
        book, tmp_path, f"Account ID,Date,Metric,Value\n{crm},2026-03-01,active_users,10\n", "usage", dry_run=True
    )
    assert (job.status, job.created) == (ImportStatus.SUCCEEDED, 1)
    assert not UsageDaily.objects.exists() and not IngestBatch.objects.exists()


@pytest.mark.django_db
def test_ticket_file(book: Any, tmp_path: Path) -> None:
    crm = book.account.crm_id
    text = (
        "Account ID,Ticket ID,Opened,Closed,Priority,Status\n"
        f"{crm},Z-1,2026-03-01T10:00:00Z,,P1,New\n"
        f"{crm},Z-2,2026-03-02,2026-03-04 09:00,low,Resolved\n"
    )
    job = run(book, tmp_path, text, "tickets")
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.created == 2
    z1 = SupportTicket.objects.get(external_id="Z-1")
    assert (z1.priority, z1.status, z1.opened_at.date()) == ("urgent", "open", dt.date(2026, 3, 1))
    assert SupportTicket.objects.get(external_id="Z-2").status == "solved"
    assert run(book, tmp_path, text, "tickets").changed == 0
    bad = run(book, tmp_path, text.replace("P1", "P9"), "tickets")
    assert bad.status == ImportStatus.FAILED
    assert [e["message"] for e in bad.errors] == ['line 2: Priority "P9" is not a known priority']
    repeated = run(book, tmp_path, text.replace("Z-2", "Z-1"), "tickets")
    assert [e["line"] for e in repeated.errors] == [3]


@pytest.mark.django_db
def test_unknown_kind_refused(book: Any, tmp_path: Path) -> None:
    from tamarind.core.errors import ValidationFailed

    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ValidationFailed):
        services.import_job_create_from_path(actor=book.admin, path=path, kind="people")


@pytest.mark.django_db
def test_command_line_usage_import(book: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "u.csv"
    path.write_text(f"Account ID,Date,Metric,Value\n{book.account.crm_id},2026-03-01,active_users,10\n")
    call_command("import", "usage", str(path), "--no-progress")
    assert "created 1" in capsys.readouterr().out
    path.write_text("Account ID,Date,Metric,Value\nNOPE,2026-03-01,active_users,10\n")
    with pytest.raises(CommandError):
        call_command("import", "usage", str(path), "--no-progress")


@pytest.mark.django_db
def test_upload_page_takes_a_kind(book: Any, client_for: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(book.admin)
    assert b'name="kind"' in client.get("/imports/new/").content
    body = f"Account ID,Date,Metric,Value\n{book.account.crm_id},2026-03-01,active_users,10\n".encode()
    response = client.post(
        "/imports/new/", {"file": SimpleUploadedFile("u.csv", body, content_type="text/csv"), "kind": "usage"}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.kind == "usage"


@pytest.mark.django_db
def test_a_mapping_names_headers_for_usage_files(book: Any, tmp_path: Path) -> None:
    from tamarind.imports.models import ImportMapping

    mapping = ImportMapping.objects.create(
        name="Telemetry", headers={"usage.account": ["Customer"], "usage.day": ["When"]}
    )
    path = tmp_path / "t.csv"
    path.write_text(f"Customer,When,Metric,Value\n{book.account.crm_id},2026-03-01,active_users,7\n")
    job = services.import_job_create_from_path(actor=book.admin, path=path, kind="usage", mapping=mapping)
    job = services.import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.columns["matched"][:2] == [["account", "Customer"], ["day", "When"]]
    assert UsageDaily.objects.get().value == 7


@pytest.mark.django_db
def test_usage_and_ticket_files_read_cells_through_the_export_escape(book: Any, tmp_path: Path) -> None:
    """A CRM id or ticket id that a Tamarind export wrote behind the spreadsheet escape (``'-7``, ``''=x``) is read
    as the value it stands for; a plain leading apostrophe (``'T-3``) is part of the value and stays."""
    from tamarind.testing.factories import AccountFactory

    AccountFactory(crm_id="-7", region=book.east)
    usage = "Account ID,Date,Metric,Value\n'-7,2026-03-01,active_users,10\n"
    job = run(book, tmp_path, usage, "usage")
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert UsageDaily.objects.get(account__crm_id="-7").value == 10
    wide = "Account ID,Date,Active users\n'-7,2026-03-02,11\n"
    assert run(book, tmp_path, wide, "usage").status == ImportStatus.SUCCEEDED
    assert UsageDaily.objects.filter(account__crm_id="-7").count() == 2
    tickets = "Account ID,Ticket ID,Opened\n'-7,''=T-1,2026-03-01\n'-7,'@T-2,2026-03-02\n'-7,'T-3,2026-03-03\n"
    job = run(book, tmp_path, tickets, "tickets")
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert sorted(SupportTicket.objects.values_list("external_id", flat=True)) == ["'=T-1", "'T-3", "@T-2"]


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "12/31/9999"])
def test_a_usage_date_at_the_calendars_end_names_its_line(book: Any, tmp_path: Path, day: str) -> None:
    crm = book.account.crm_id
    text = f"Account ID,Date,Metric,Value\n{crm},2026-03-01,active_users,10\n{crm},{day},active_users,11\n"
    job = run(book, tmp_path, text, "usage")
    assert job.status == ImportStatus.FAILED
    assert [e["line"] for e in job.errors] == [3]
    assert job.errors[0]["message"] == f'line 3: Date "{day}" is not between 1900-01-01 and 2999-12-31'
    assert not UsageDaily.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("opened", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31"])
def test_a_ticket_time_at_the_calendars_end_names_its_line(book: Any, tmp_path: Path, opened: str) -> None:
    crm = book.account.crm_id
    text = f"Account ID,Ticket ID,Opened,Closed,Priority,Status\n{crm},Z-1,{opened},,P1,New\n"
    job = run(book, tmp_path, text, "tickets")
    assert job.status == ImportStatus.FAILED
    assert [e["message"] for e in job.errors] == [f'line 2: Opened "{opened}" is not between 1900-01-01 and 2999-12-31']
    assert not SupportTicket.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("usage", "Account ID,Date,Metric,Value\n{crm},2026-03-01,active\x00users,10\n", "line 2: Metric"),
        ("tickets", "Account ID,Ticket ID,Opened\n{crm},Z\x001,2026-03-01\n", "line 2: Ticket ID"),
    ],
)
def test_a_nul_character_in_a_cell_names_its_line_and_column(
    book: Any, tmp_path: Path, kind: str, text: str, message: str
) -> None:
    job = run(book, tmp_path, text.format(crm=book.account.crm_id), kind)
    assert job.status == ImportStatus.FAILED
    assert len(job.errors) == 1 and job.errors[0]["line"] == 2
    assert job.errors[0]["message"].startswith(message) and "NUL" in job.errors[0]["message"]
    assert not UsageDaily.objects.exists() and not SupportTicket.objects.exists()


@pytest.mark.django_db
def test_a_nul_character_in_a_wide_files_metric_cell_or_header(book: Any, tmp_path: Path) -> None:
    crm = book.account.crm_id
    job = run(book, tmp_path, f"Account ID,Date,Active users,No\x00tes\n{crm},2026-03-01,4\x002,x\n", "usage")
    assert job.status == ImportStatus.FAILED
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "Active users")]
    assert "NUL" in job.errors[0]["message"]
    assert job.columns["ignored"] == ["No\u2400tes"]


@pytest.mark.parametrize("kind", ["usage", "tickets"])
def test_the_file_is_read_and_parsed_outside_the_write_transaction(
    book: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The write transaction holds SQLite's one write lock: it replays what pass 1 parsed instead of reading the
    file again (the demo's 98,084 usage rows held the lock 43 s, now 8 s: README, "The worker")."""
    from django.db import connection

    from tamarind.usage.csv_import import CsvIngest

    depths: list[int] = []
    reader = CsvIngest._rows

    def rows(self: CsvIngest, *, check: bool) -> Any:
        depths.append(len(connection.atomic_blocks))
        return reader(self, check=check)

    monkeypatch.setattr(CsvIngest, "_rows", rows)
    crm = book.account.crm_id
    text = (
        f"Account ID,Date,Metric,Value\n{crm},2026-03-01,active_users,10\n{crm},2026-03-02,active_users,12\n"
        if kind == "usage"
        else f"Account ID,Ticket ID,Opened,Priority\n{crm},T-1,2026-03-01 10:00,high\n{crm},T-2,2026-03-02,low\n"
    )
    outside = len(connection.atomic_blocks)
    job = run(book, tmp_path, text, kind)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.created == 2
    assert depths == [outside]  # read once, by pass 1, outside any transaction of the import's
    assert (UsageDaily.objects.count() if kind == "usage" else SupportTicket.objects.count()) == 2
