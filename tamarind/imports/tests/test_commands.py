"""``tamarind import accounts`` and ``tamarind export accounts``: output, exit codes, round trip."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditEvent
from tamarind.imports.models import ImportJob, ImportSource, ImportStatus
from tamarind.imports.tests.conftest import GOOD_ROWS, csv_text
from tamarind.people.models import Region, Role
from tamarind.testing.factories import AccountFactory, RegionFactory, UserFactory, tier

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_summary_then_second_run_says_zero_changed(book, write_csv):
    path = write_csv(csv_text(*GOOD_ROWS))
    out, err = run("import", "accounts", str(path))
    assert out.startswith("2 changed: created 2, updated 0, unchanged 0, 0 errors (2 rows in ")
    assert "reading: 2 rows (100%)" in err  # a plain counter: stderr is not a terminal here
    job = ImportJob.objects.get()
    assert job.source == ImportSource.CLI and job.created_by == book.admin and job.stored_path == str(path)

    out, _ = run("import", "accounts", str(path))
    assert "0 changed" in out and "unchanged 2" in out


def test_rejected_file_prints_every_error_and_fails(book, write_csv):
    rows = [
        *GOOD_ROWS,
        "A-3,Three,,Enterprise,AMER East,lots,,,,,,,",
        "A-4,Four,,Enterprise,AMER East,1,,Jane Nobody,,,,,",
    ]
    err = io.StringIO()
    with pytest.raises(
        CommandError, match=r"rejected \(2 errors, among them 1 owner Tamarind does not know\); nothing was imported"
    ):
        call_command("import", "accounts", str(write_csv(csv_text(*rows))), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    summary = "rejected, nothing written: 2 errors; the rows without errors would create 2, update 0, leave 0 unchanged"
    assert any(line.startswith(summary) for line in lines)
    assert not any(re.search(r"\d+ changed|created \d", line) for line in lines)  # it said "2 changed: created 2"
    assert 'line 4: CARR (This Account) "lots" is not a number' in lines
    assert 'line 5: Technical Account Manager "Jane Nobody" is not a known person' in lines
    assert not Account.objects.filter(crm_id__in=["A-1", "A-2"]).exists()


def test_exit_status_is_1_when_rejected_and_0_when_imported(book, write_csv, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends; keep the test's own one open.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    bad = write_csv(csv_text("A-1,One,,Enterprise,AMER East,-1,,,,,,,"))
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["tamarind", "import", "accounts", str(bad), "--no-progress"]).execute()
    assert exc.value.code == 1
    assert 'line 2: CARR (This Account) "-1" is negative' in capsys.readouterr().err

    good = write_csv(csv_text(*GOOD_ROWS), name="good.csv")
    ManagementUtility(["tamarind", "import", "accounts", str(good), "--no-progress"]).execute()
    assert "created 2" in capsys.readouterr().out


def test_dry_run_mapping_and_actor_options(book, write_csv):
    path = write_csv(csv_text(*GOOD_ROWS))
    other_admin = UserFactory(email="ops@example.com", full_name="Ops Admin", role=Role.ADMIN)
    out, _ = run(
        "import",
        "accounts",
        str(path),
        "--dry-run",
        "--as",
        "OPS@example.com",
        "--mapping",
        "salesforce account report",
    )
    assert out.startswith("dry run, nothing written: 2 would change: would create 2, update 0, leave 0 unchanged")
    assert not Account.objects.filter(crm_id="A-1").exists()
    job = ImportJob.objects.get()
    assert job.dry_run and job.created_by == other_admin and job.status == ImportStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "manager@example.com"], "manager@example.com is not an active admin"),
        (["--as", "nobody@example.com"], "No person with the email nobody@example.com"),
        (["--mapping", "Nope"], "There is no import mapping called “Nope”"),
    ],
)
def test_bad_options(book, write_csv, args, message):
    with pytest.raises(CommandError, match=message):
        run("import", "accounts", str(write_csv(csv_text(*GOOD_ROWS))), *args)


def test_no_admin_to_import_as(db, write_csv):
    with pytest.raises(CommandError, match="There is no active admin"):
        run("import", "accounts", str(write_csv(csv_text(*GOOD_ROWS))))


def test_missing_file(book, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("import", "accounts", str(tmp_path / "nope.csv"))


def test_export_then_import_changes_nothing(book, tmp_path):
    parent = AccountFactory(crm_id="P-1", name="Parent, Inc.", region=book.west, product_tier=tier("Gold"))
    AccountFactory(
        crm_id="C-1",
        name='Child "Quoted"\nTwo lines',
        region=book.west,
        parent=parent,
        tam=book.other_tam,
        sal=book.sal,
        sa=book.sa,
        segment="mid_market",
        engagement_model="named",
        lifecycle_stage="will_churn",
        priority=3,
        currency="EUR",
        collaboration_url="https://collab.example.com/c1",
        customer_since=None,
        product_tier=None,
    )
    target = tmp_path / "export.csv"
    _, err = run("export", "accounts", str(target))
    assert "exported 4 accounts" in err
    text = target.read_text()
    assert text.splitlines()[0].startswith(
        "Account ID,Account Name,Parent Account ID,Region,Sales Segment,CARR (This Account)"
    )
    events = AuditEvent.objects.count()

    out, _ = run("import", "accounts", str(target))

    assert "0 changed" in out and "unchanged 4" in out
    assert AuditEvent.objects.count() == events
    out, _ = run("import", "accounts", str(target))  # and now by digest alone
    assert "0 changed" in out


# Values a spreadsheet would run as formulas, values that start like the escape itself, and a plain apostrophe.
TRICKY_NAMES = [
    "=SUM(A1:A9)",
    "+1 555 0100 Ltd",
    "-Minus Corp",
    "@Handle Inc",
    "\t=tab first",
    "\r=carriage return",
    "'=already quoted",
    "''-two apostrophes",
    "'90s Revival",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_export_escapes_formulas_and_import_reads_them_back_exactly(book, tmp_path):
    region = RegionFactory(name="+Partners")
    parent = AccountFactory(crm_id="-P-1", name="=Parent()", region=region)
    for i, name in enumerate(TRICKY_NAMES):
        AccountFactory(crm_id=f"@T-{i}", name=name, region=region, parent=parent)
    target = tmp_path / "export.csv"
    run("export", "accounts", str(target))
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert not any(cell.startswith(FORMULA_START) for row in rows for cell in row)
    by_crm = {row[0]: row for row in rows[1:]}
    assert by_crm["'-P-1"][1] == "'=Parent()" and by_crm["'-P-1"][3] == "'+Partners"
    assert by_crm["'@T-0"][2] == "'-P-1"
    names = {row[1] for row in rows[1:]}
    assert {"'=SUM(A1:A9)", "'\t=tab first", "'\r=carriage return"} <= names
    assert {"''=already quoted", "'''-two apostrophes"} <= names  # one more apostrophe, taken off on import
    assert "'90s Revival" in names  # not an escape: written as it is
    events = AuditEvent.objects.count()

    out, _ = run("import", "accounts", str(target))

    assert out.startswith("0 changed") and f"unchanged {len(TRICKY_NAMES) + 3}" in out
    assert AuditEvent.objects.count() == events
    assert sorted(Account.objects.filter(parent=parent).values_list("name", flat=True)) == sorted(TRICKY_NAMES)
    assert not Account.objects.filter(crm_id__startswith="'").exists()


def test_import_creates_accounts_with_the_exported_values(book, tmp_path):
    """The same file into a book without those accounts creates them with the values as they were."""
    region = RegionFactory(name="-Minus Region")
    for i, name in enumerate(TRICKY_NAMES):
        AccountFactory(crm_id=f"=X-{i}", name=name, region=region)
    target = tmp_path / "export.csv"
    run("export", "accounts", str(target))
    Account.objects.filter(region=region).delete()

    out, _ = run("import", "accounts", str(target))

    assert out.startswith(f"{len(TRICKY_NAMES)} changed: created {len(TRICKY_NAMES)}")
    stored = dict(Account.objects.filter(region=region).values_list("crm_id", "name"))
    assert stored == {f"=X-{i}": name for i, name in enumerate(TRICKY_NAMES)}


def test_a_plain_leading_apostrophe_in_a_crm_file_stays(book, write_csv):
    """Only the exporter's escape is undone: a CRM value that starts with an apostrophe and no formula is kept."""
    path = write_csv(
        csv_text("A-9,'Tis Ours,,Enterprise,AMER East,1000,,,,,,,", "A-8,'=Escaped,,Enterprise,AMER East,1,,,,,,,")
    )
    run("import", "accounts", str(path))
    assert Account.objects.get(crm_id="A-9").name == "'Tis Ours"
    assert Account.objects.get(crm_id="A-8").name == "=Escaped"


def test_export_to_stdout(book):
    out, _ = run("export", "accounts")
    lines = out.splitlines()
    assert lines[0].startswith("Account ID,Account Name")
    assert len(lines) == 3 and any(
        line.startswith(
            f"{book.account.crm_id},Acme Corp,,AMER East,Enterprise,120000.00,USD,Premium,250,1,,tam@example.com"
        )
        for line in lines
    )


def test_progress_is_a_bar_on_a_terminal(book, write_csv, monkeypatch):
    import importlib

    reporter_class = importlib.import_module("tamarind.imports.management.commands.import")._Reporter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    from tamarind.imports.importer import Progress

    stream = Terminal()
    reporter = reporter_class(stream, size=1000)
    reporter(Progress(rows=10, bytes=500, size=1000, stage="reading"))
    reporter(Progress(rows=20, bytes=1000, size=1000, stage="writing"))
    reporter.close()
    assert "reading" in stream.getvalue() and "writing" in stream.getvalue() and "20 rows" in stream.getvalue()
    assert "|" in stream.getvalue()  # tqdm's bar


FRESH_ROWS = [
    "N-1,Nile,,Enterprise,APAC,90000,Premium,jane@new.example.com,,,,,",
    "N-2,Niger,,Enterprise,APAC,90000,Premium,jane@new.example.com,,,,,",
    "N-3,Congo,,Mid-Market,LATAM,60000,Premium,,,,,,",
]


def test_dry_run_lists_unknown_regions_and_owners_then_create_regions_imports(book, write_csv):
    path = write_csv(csv_text(*FRESH_ROWS))
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"5 errors: 2 regions and 1 owner Tamarind does not know"):
        call_command("import", "accounts", str(path), "--dry-run", "--no-progress", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert "regions not in Tamarind: APAC (2 lines), LATAM (1 line)" in lines
    assert "  to create them with the import, run it again with --create-regions" in lines
    assert "owners not in Tamarind: TAM jane@new.example.com (2 lines)" in lines
    assert 'line 2: Region "APAC" is not a known region' in lines  # and each line still says so

    with pytest.raises(CommandError, match=r"2 errors: 1 owner Tamarind does not know"):
        run("import", "accounts", str(path), "--create-regions", "--no-progress")
    assert not Region.objects.filter(name="APAC").exists()

    out, _ = run("import", "accounts", str(path), "--create-regions", "--skip-unknown-owners", "--no-progress")
    lines = out.splitlines()
    assert lines[0].startswith("3 changed: created 3")
    assert "regions created: APAC (2 lines), LATAM (1 line); give each a TAM Manager (People > Regions)" in lines
    assert "imported without these owners, who are not in Tamarind: TAM jane@new.example.com (2 lines)" in lines
    assert Account.objects.get(crm_id="N-1").region == Region.objects.get(name="APAC")


def test_create_regions_refused_for_usage_files(book, write_csv):
    path = write_csv("Account ID,Date,Metric,Value\n")
    with pytest.raises(CommandError, match="account files only"):
        run("import", "usage", str(path), "--create-regions")
