"""The import service end to end: what gets written, what gets refused, and that refusing writes nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.accounts.models import Account, ProductTier, Segment, TamAssignment
from tamarind.audit.models import AuditEvent
from tamarind.imports import services
from tamarind.imports.models import ImportMapping, ImportStatus
from tamarind.imports.tests.conftest import GOOD_ROWS, HEADER, csv_text
from tamarind.testing.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def snapshot_counts() -> tuple[int, int, int]:
    return Account.objects.count(), AuditEvent.objects.count(), TamAssignment.objects.count()


# --- A clean file ------------------------------------------------------------------------------------------


def test_import_creates_accounts_with_owners_parent_audit_and_tam_history(book, write_csv, run_import):
    job = run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin)

    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert (job.total, job.created, job.updated, job.unchanged, job.error_count) == (2, 2, 0, 0, 0)
    assert job.message.startswith("2 changed: created 2, updated 0, unchanged 0, 0 errors (2 rows in ")
    child = Account.objects.get(crm_id="A-1")
    parent = Account.objects.get(crm_id="A-2")
    assert child.parent_id == parent.pk  # the parent is further down the file
    assert child.region == book.east and parent.region == book.west
    assert child.segment == Segment.ENTERPRISE and parent.segment == Segment.MID_MARKET
    assert child.arr == Decimal("150000.00") and child.currency == "USD"
    assert child.product_tier.name == "Premium" and parent.product_tier.name == "Ultimate"
    assert (child.tam, child.sal, child.sa) == (book.tam, book.sal, book.sa)
    assert child.customer_since == dt.date(2024, 1, 31) and child.next_renewal_date == dt.date(2027, 1, 31)
    assert child.licenses == 500 and parent.licenses == 1200
    assert child.import_hash and len(child.import_hash) == 32

    events = AuditEvent.objects.filter(source="import", object_type="accounts.account")
    assert events.count() == 2
    created = events.get(object_id=str(child.pk))
    assert created.action == "create" and created.actor_id == book.admin.pk
    assert created.request_id == f"import-{job.pk}"
    assert created.after["parent"] == parent.pk and created.after["arr"] == "150000.00"
    assert created.after["tam"] == book.tam.pk
    history = TamAssignment.objects.get(account=child)
    assert history.from_tam_id is None and history.to_tam_id == book.tam.pk and history.changed_by_id == book.admin.pk


def test_second_import_of_the_same_file_changes_nothing(book, write_csv, run_import):
    path = write_csv(csv_text(*GOOD_ROWS))
    run_import(path, book.admin)
    before = snapshot_counts()
    updated_at = dict(Account.objects.values_list("crm_id", "updated_at"))

    job = run_import(path, book.admin)

    assert job.status == ImportStatus.SUCCEEDED
    assert (job.created, job.updated, job.unchanged) == (0, 0, 2)
    assert "0 changed" in job.message
    assert snapshot_counts() == before
    assert dict(Account.objects.values_list("crm_id", "updated_at")) == updated_at


def test_changed_row_updates_only_what_changed_and_records_it(book, write_csv, run_import):
    run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin)
    child = Account.objects.get(crm_id="A-1")
    changed_row = GOOD_ROWS[0].replace('"$150,000.00"', "175000").replace("Tara Tam", "tam2@example.com")

    job = run_import(write_csv(csv_text(changed_row, GOOD_ROWS[1]), name="again.csv"), book.admin)

    assert (job.created, job.updated, job.unchanged) == (0, 1, 1), job.errors
    child.refresh_from_db()
    assert child.arr == Decimal("175000.00") and child.tam == book.tam2
    event = AuditEvent.objects.for_object("accounts.account", child.pk).filter(action="update").get()
    assert event.before == {"arr": "150000.00", "tam": book.tam.pk}
    assert event.after == {"arr": "175000.00", "tam": book.tam2.pk}
    move = TamAssignment.objects.filter(account=child).first()
    assert (move.from_tam_id, move.to_tam_id) == (book.tam.pk, book.tam2.pk)
    assert job.changes[0]["action"] == "update"
    assert ["CARR (This Account)", "150,000.00", "175,000.00"] in job.changes[0]["fields"]


def test_existing_account_is_matched_on_crm_id(book, write_csv, run_import):
    row = f"{book.account.crm_id},Acme Corporation,,Enterprise,AMER East,120000,Premium,Tara Tam,Sam Sal,Sasha Sa,2025-01-15,2027-01-15,250"
    job = run_import(write_csv(csv_text(row)), book.admin)
    assert (job.created, job.updated) == (0, 1), job.errors
    book.account.refresh_from_db()
    assert book.account.name == "Acme Corporation"
    event = AuditEvent.objects.for_object("accounts.account", book.account.pk).get()
    assert event.before == {"name": "Acme Corp"} and event.after == {"name": "Acme Corporation"}


def test_dry_run_previews_and_writes_nothing(book, write_csv, run_import):
    before = snapshot_counts()
    job = run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin, dry_run=True)
    assert job.status == ImportStatus.SUCCEEDED
    assert (job.created, job.updated) == (2, 0)
    assert job.message.startswith("dry run, nothing written: 2 would change: would create 2, update 0")
    assert [c["crm_id"] for c in job.changes] == ["A-1", "A-2"]
    assert ["Technical Account Manager", "", "Tara Tam"] in job.changes[0]["fields"]
    assert snapshot_counts() == before


def test_apply_after_dry_run_imports_the_same_file(book, write_csv, run_import):
    dry = run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin, dry_run=True)
    job = services.import_job_apply(actor=book.admin, job=dry)
    job = services.import_job_run(job_id=job.pk)
    assert job.created == 2 and not job.dry_run
    assert Account.objects.filter(crm_id__in=["A-1", "A-2"]).count() == 2


def test_only_admins_import(book, write_csv):
    path = write_csv(csv_text(*GOOD_ROWS))
    for user in (book.director, book.manager, book.tam):
        with pytest.raises(PermissionDenied):
            services.import_job_create_from_path(actor=user, path=path)


def test_a_job_runs_once(book, write_csv, run_import):
    job = run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin)
    again = services.import_job_run(job_id=job.pk)
    assert again.status == ImportStatus.SUCCEEDED and Account.objects.filter(crm_id="A-1").count() == 1


# --- Rejected files: the exact message, and nothing written ---------------------------------------------------


def test_summary_of_a_rejected_file_says_nothing_was_written(book, write_csv, run_import):
    """The rows without errors would have changed accounts, but nothing was: the summary must not say "changed"."""
    job = run_import(write_csv(csv_text(*GOOD_ROWS, "A-3,Three,,Enterprise,AMER East,lots,,,,,,,")), book.admin)
    assert job.status == ImportStatus.FAILED
    summary = job.summary()
    assert summary.startswith(
        "rejected, nothing written: 1 error; the rows without errors would create 2, update 0, leave 0 unchanged"
    )
    assert not re.search(r"\d+ changed|created \d", summary)
    dry = run_import(
        write_csv(csv_text(*GOOD_ROWS, "A-3,Three,,Enterprise,AMER East,lots,,,,,,,")), book.admin, dry_run=True
    )
    assert dry.summary().startswith(
        "dry run, rejected, nothing written: 1 error; the rows without errors would create 2"
    )


def test_summary_lines():
    from tamarind.imports.models import summary_line

    args = {"created": 7, "updated": 2, "unchanged": 90, "total": 100, "seconds": 1.25}
    assert (
        summary_line(**args, errors=0) == "9 changed: created 7, updated 2, unchanged 90, 0 errors (100 rows in 1.2s)"
    )
    assert summary_line(**args, errors=0, dry_run=True) == (
        "dry run, nothing written: 9 would change: would create 7, update 2, leave 90 unchanged, 0 errors "
        "(100 rows in 1.2s)"
    )
    assert summary_line(**args, errors=1, rejected=True) == (
        "rejected, nothing written: 1 error; the rows without errors would create 7, update 2, leave 90 unchanged "
        "(100 rows in 1.2s)"
    )
    assert summary_line(**args, errors=3, rejected=True, dry_run=True).startswith(
        "dry run, rejected, nothing written: 3 errors; "
    )


def assert_rejected(job, *messages: str) -> None:
    assert job.status == ImportStatus.FAILED
    assert [e["message"] for e in job.errors] == list(messages)
    assert job.error_count == len(messages)
    assert "nothing was imported" in job.message


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "A-3,Bad ARR,,Enterprise,AMER East,lots,Premium,,,,,,",
            'line 3: CARR (This Account) "lots" is not a number',
        ),
        (
            "A-3,Negative,,Enterprise,AMER East,-5,Premium,,,,,,",
            'line 3: CARR (This Account) "-5" is negative',
        ),
        (
            "A-3,No TAM,,Enterprise,AMER East,5,Premium,Jane Nobody,,,,,",
            'line 3: Technical Account Manager "Jane Nobody" is not a known person',
        ),
        (
            "A-3,Bad date,,Enterprise,AMER East,5,Premium,,,,,2026-02-30,",
            'line 3: Next Renewal Date "2026-02-30" is not a date',
        ),
        (
            "A-3,Bad US date,,Enterprise,AMER East,5,Premium,,,,13/01/2026,,",
            'line 3: Customer Since "13/01/2026" is not a date',
        ),
        (
            "A-3,Orphan,P-404,Enterprise,AMER East,5,Premium,,,,,,",
            'line 3: Parent Account ID "P-404" is not in the file nor in Tamarind',
        ),
        (
            "A-3,Own parent,A-3,Enterprise,AMER East,5,Premium,,,,,,",
            'line 3: Parent Account ID "A-3" is the account itself',
        ),
        (
            "A-3,Diamond,,Enterprise,AMER East,5,Diamond,,,,,,",
            'line 3: Products Purchased "Diamond" is not a known product tier',
        ),
        (
            "A-3,Public,,Public Sector,AMER East,5,Premium,,,,,,",
            'line 3: Sales Segment "Public Sector" is not a known segment',
        ),
        (
            "A-3,Mars,,Enterprise,Mars,5,Premium,,,,,,",
            'line 3: Region "Mars" is not a known region',
        ),
        (
            "A-3,SAL as TAM,,Enterprise,AMER East,5,Premium,Sam Sal,,,,,",
            'line 3: Technical Account Manager "Sam Sal" is not a TAM',
        ),
        (
            "A-3,TAM as SAL,,Enterprise,AMER East,5,Premium,,tam@example.com,,,,",
            'line 3: Account Owner "tam@example.com" is not a SAL / AE',
        ),
        (
            "A-3,SAL as SA,,Enterprise,AMER East,5,Premium,,,Sam Sal,,,",
            'line 3: Solutions Architect "Sam Sal" is not a Solutions Architect',
        ),
        (
            "A-3,Seats,,Enterprise,AMER East,5,Premium,,,,,,12.5",
            'line 3: Number of Licenses "12.5" is not a whole number',
        ),
        (
            "A-3,,,Enterprise,AMER East,5,Premium,,,,,,",
            "line 3: Account Name is empty",
        ),
    ],
)
def test_bad_row_rejects_the_whole_file(book, write_csv, run_import, row, message):
    before = snapshot_counts()
    job = run_import(write_csv(csv_text(GOOD_ROWS[1], row)), book.admin)
    assert_rejected(job, message)
    assert snapshot_counts() == before
    assert (job.created, job.updated) == (1, 0)  # what the good row would have done


def test_bad_encoding_is_a_file_error(book, write_csv, run_import):
    content = csv_text(*GOOD_ROWS).encode("utf-8").replace(b"Initech Labs", b"Initech L\xe9bs")
    position = content.index(b"\xe9")
    before = snapshot_counts()
    job = run_import(write_csv(content), book.admin)
    assert_rejected(job, f"the file is not UTF-8 text (byte 0xe9 at position {position})")
    assert snapshot_counts() == before


def test_bad_encoding_far_into_a_large_file_names_the_right_byte(book, write_csv, run_import):
    rows = [f"B-{i},Name {i},,Enterprise,AMER East,{i},Premium,,,,,," for i in range(30_000)]
    content = csv_text(*rows).encode() + b"B-x,Caf\xc3\xa9 \xff,,Enterprise,AMER East,1,,,,,,,\n"
    position = content.index(b"\xff")
    job = run_import(write_csv(content), book.admin)
    assert_rejected(job, f"the file is not UTF-8 text (byte 0xff at position {position})")
    assert not Account.objects.filter(crm_id__startswith="B-").exists()


def test_missing_required_column_names_it(book, write_csv, run_import):
    header = HEADER.replace("Account Name,", "")
    rows = [r.replace("Initech Labs,", "").replace("Initech,", "") for r in GOOD_ROWS]
    job = run_import(write_csv(csv_text(*rows, header=header)), book.admin)
    assert_rejected(job, 'missing required column "Account Name"')
    assert job.total == 0


def test_duplicate_crm_id_names_both_lines(book, write_csv, run_import):
    rows = [*GOOD_ROWS, "A-3,Three,,SMB,EMEA,10,,,,,,,", GOOD_ROWS[0].replace("Initech Labs", "Other")]
    before = snapshot_counts()
    job = run_import(write_csv(csv_text(*rows)), book.admin)
    assert_rejected(job, 'line 5: Account ID "A-1" repeats line 2')
    assert snapshot_counts() == before


def test_every_bad_row_is_reported_in_line_order(book, write_csv, run_import):
    rows = [
        "A-1,One,P-9,Enterprise,AMER East,10,,,,,,,",
        "A-2,Two,,Enterprise,AMER East,ten,,,,,,,",
        "A-3,Three,,Enterprise,AMER East,10,,Nobody,,,,2026-02-30,",
    ]
    job = run_import(write_csv(csv_text(*rows)), book.admin)
    assert_rejected(
        job,
        'line 2: Parent Account ID "P-9" is not in the file nor in Tamarind',
        'line 3: CARR (This Account) "ten" is not a number',
        'line 4: Technical Account Manager "Nobody" is not a known person',
        'line 4: Next Renewal Date "2026-02-30" is not a date',
    )


def test_empty_file_and_header_only(book, write_csv, run_import):
    assert_rejected(run_import(write_csv(b""), book.admin), "the file is empty")
    job = run_import(write_csv(HEADER + "\n", name="header.csv"), book.admin)
    assert job.status == ImportStatus.SUCCEEDED and job.total == 0


def test_stored_errors_are_capped_but_counted(book, write_csv, run_import, monkeypatch):
    monkeypatch.setattr("tamarind.imports.importer.MAX_STORED_ERRORS", 5)
    rows = [f"C-{i},Name,,Enterprise,AMER East,bad,,,,,,," for i in range(12)]
    job = run_import(write_csv(csv_text(*rows)), book.admin)
    assert job.error_count == 12 and len(job.errors) == 5 and job.errors_truncated


# --- File formats --------------------------------------------------------------------------------------------


def test_bom_crlf_and_quoted_newlines(book, write_csv, run_import):
    rows = [
        'A-1,"Initech\r\nLabs, Inc.",,Enterprise,AMER East,"1,000",,,,,,,',
        "A-2,Two,,Enterprise,AMER East,oops,,,,,,,",
    ]
    content = b"\xef\xbb\xbf" + csv_text(*rows, newline="\r\n").encode()
    job = run_import(write_csv(content), book.admin)
    # The first record spans lines 2-3, so the bad one starts on line 4.
    assert_rejected(job, 'line 4: CARR (This Account) "oops" is not a number')

    job = run_import(write_csv(content.replace(b"oops", b"2"), name="ok.csv"), book.admin)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert Account.objects.get(crm_id="A-1").name == "Initech\r\nLabs, Inc."
    assert job.columns["matched"][0] == ["crm_id", "Account ID"]  # the BOM is not part of the first header


@pytest.mark.parametrize(
    ("cell", "amount", "currency"),
    [
        ('"$1,234.50"', "1234.50", "USD"),
        ('"€ 12.000"', "12000.00", "EUR"),
        ('"£12,345"', "12345.00", "GBP"),
        ('"1 234 567,89 €"', "1234567.89", "EUR"),
        ('"1.234.567,89"', "1234567.89", "USD"),
        ("EUR 950", "950.00", "EUR"),
        ("99.999", "99999.00", "USD"),
        ("1234.5", "1234.50", "USD"),
    ],
)
def test_amounts_with_symbols_and_separators(book, write_csv, run_import, cell, amount, currency):
    job = run_import(write_csv(csv_text(f"A-9,Amounts,,Enterprise,AMER East,{cell},,,,,,,")), book.admin)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    account = Account.objects.get(crm_id="A-9")
    assert account.arr == Decimal(amount) and account.currency == currency


def test_us_and_iso_dates(book, write_csv, run_import):
    rows = [
        "A-1,US,,Enterprise,AMER East,1,,,,,1/5/2024,12/31/2026,",
        "A-2,ISO,,Enterprise,AMER East,1,,,,,2024-01-05,2026-12-31T00:00:00Z,",
    ]
    job = run_import(write_csv(csv_text(*rows)), book.admin)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    for crm in ("A-1", "A-2"):
        account = Account.objects.get(crm_id=crm)
        assert account.customer_since == dt.date(2024, 1, 5)
        assert account.next_renewal_date == dt.date(2026, 12, 31)


def test_columns_in_any_order_alias_headers_and_extra_columns(book, write_csv, run_import):
    header = (
        "Region,ARR,Name,CRM ID,Segment,Notes,Currency,Priority,Lifecycle Stage,Engagement Model,Collaboration Space"
    )
    row = 'emea,5000,Hooli,H-1,smb,"free text",GBP,P2,Optimize & Grow,Low touch,https://collab.example.com/hooli'
    job = run_import(write_csv(csv_text(row, header=header)), book.admin)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    account = Account.objects.get(crm_id="H-1")
    assert (account.region, account.segment, account.arr, account.currency) == (book.west, "smb", Decimal(5000), "GBP")
    assert (account.priority, account.lifecycle_stage, account.engagement_model) == (2, "optimize_grow", "low_touch")
    assert account.collaboration_url == "https://collab.example.com/hooli"
    assert job.columns["ignored"] == ["Notes"]


def test_empty_cells_clear_optional_fields_and_keep_the_ones_that_cannot_be_blank(book, write_csv, run_import):
    account = book.account
    account.priority = 2
    account.save(update_fields=["priority"])
    header = HEADER + ",Priority"
    row = f"{account.crm_id},Acme Corp,,Enterprise,AMER East,120000,,,,,,,,"
    job = run_import(write_csv(csv_text(row, header=header)), book.admin)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    account.refresh_from_db()
    assert account.tam is None and account.product_tier is None and account.next_renewal_date is None
    assert account.priority == 2 and account.licenses == 250  # empty: kept


# --- Mappings and synonyms ------------------------------------------------------------------------------------


def test_default_mapping_synonyms(book, write_csv, run_import):
    job = run_import(write_csv(csv_text("A-1,MM account,,MM,EMEA,1,Gold,,,,,,")), book.admin)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    account = Account.objects.get(crm_id="A-1")
    assert account.segment == Segment.MID_MARKET
    assert (
        account.product_tier.name == "Gold"
        and account.product_tier.rung == ProductTier.objects.get(name="Ultimate").rung
    )


def test_custom_mapping_headers_and_synonyms(book, write_csv, run_import):
    mapping = services.import_mapping_create(
        actor=book.admin,
        name="HubSpot",
        headers={
            "crm_id": ["Company ID"],
            "name": ["Company name"],
            "region": ["Territory"],
            "segment": ["Size"],
            "arr": ["Annual revenue"],
            "product_tier": ["Plan"],
            "tam": ["CSM"],
        },
        synonyms={
            "segment": {"Corporate": "Enterprise"},
            "product_tier": {"Platinum": "Ultimate"},
            "region": {"AMER-E": "AMER East"},
        },
    )
    text = "Company ID,Company name,Territory,Size,Annual revenue,Plan,CSM\nH-1,Hooli,amer-e,corporate,1000,PLATINUM,tam@example.com\n"
    job = run_import(write_csv(text), book.admin, mapping=mapping)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    account = Account.objects.get(crm_id="H-1")
    assert (account.region, account.segment, account.product_tier.name, account.tam) == (
        book.east,
        "enterprise",
        "Ultimate",
        book.tam,
    )


def test_mapping_version_change_rechecks_rows_but_changes_nothing(book, write_csv, run_import):
    mapping = ImportMapping.objects.get(is_default=True)
    path = write_csv(csv_text(*GOOD_ROWS))
    run_import(path, book.admin)
    services.import_mapping_update(
        actor=book.admin,
        mapping=mapping,
        name=mapping.name,
        headers=mapping.headers,
        synonyms={**mapping.synonyms, "segment": {**mapping.synonyms["segment"], "Big": "Enterprise"}},
        is_default=True,
    )
    assert mapping.version == 2
    hashes = dict(Account.objects.values_list("crm_id", "import_hash"))
    events = AuditEvent.objects.filter(object_type="accounts.account").count()

    job = run_import(path, book.admin)

    assert (job.created, job.updated, job.unchanged) == (0, 0, 2)
    assert AuditEvent.objects.filter(object_type="accounts.account").count() == events
    assert dict(Account.objects.values_list("crm_id", "import_hash")) != hashes  # re-digested for next time


def test_mapping_rules(book):
    with pytest.raises(services.ValidationFailed) as exc:
        services.import_mapping_create(
            actor=book.admin,
            name="Broken",
            headers={"crm_id": ["ID"], "name": ["ID"], "region": ["R"], "segment": [], "arr": ["ARR"]},
            synonyms={"segment": {"Huge": "Gigantic"}},
        )
    errors = exc.value.errors
    assert "headers_name" in errors and "headers_segment" in errors and "synonyms_segment" in errors
    with pytest.raises(PermissionDenied):
        services.import_mapping_create(actor=book.manager, name="Nope", headers={})


def test_only_one_default_mapping(book):
    first = ImportMapping.objects.get(is_default=True)
    second = services.import_mapping_create(
        actor=book.admin, name="Other", headers=first.headers, synonyms={}, is_default=True
    )
    first.refresh_from_db()
    assert second.is_default and not first.is_default


def test_people_resolve_by_email_or_unique_name(book, write_csv, run_import):
    UserFactory(email="sam2@example.com", full_name="Sam Sal", role="sal")
    job = run_import(write_csv(csv_text("A-1,Dup,,Enterprise,AMER East,1,,,Sam Sal,,,,")), book.admin)
    assert_rejected(job, 'line 2: Account Owner "Sam Sal" matches 2 people; use their email address')
    job = run_import(write_csv(csv_text("A-1,Dup,,Enterprise,AMER East,1,,,SAM2@example.com,,,,"), "b.csv"), book.admin)
    assert job.status == ImportStatus.SUCCEEDED
    assert Account.objects.get(crm_id="A-1").sal.email == "sam2@example.com"


def test_inactive_tam_is_refused(book, write_csv, run_import):
    book.tam2.is_active = False
    book.tam2.save(update_fields=["is_active"])
    job = run_import(write_csv(csv_text("A-1,X,,Enterprise,AMER East,1,,Theo Tam,,,,,")), book.admin)
    assert_rejected(job, 'line 2: Technical Account Manager "Theo Tam" is not an active TAM')


def test_parent_already_in_tamarind(book, write_csv, run_import):
    parent = AccountFactory(crm_id="P-1", region=book.east)
    job = run_import(write_csv(csv_text("A-1,Child,P-1,Enterprise,AMER East,1,,,,,,,")), book.admin)
    assert job.status == ImportStatus.SUCCEEDED
    assert Account.objects.get(crm_id="A-1").parent == parent


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (
            GOOD_ROWS[1].replace("2026-12-31", "9999-12-31"),
            "Next Renewal Date",
            "is not between 1900-01-01 and 2999-12-31",
        ),
        (
            GOOD_ROWS[1].replace("2023-06-01", "0001-01-01"),
            "Customer Since",
            "is not between 1900-01-01 and 2999-12-31",
        ),
        (GOOD_ROWS[1].replace("Initech,", "Ini\x00tech,"), "Account Name", "contains a NUL character"),
    ],
)
def test_calendar_edge_dates_and_nul_cells_name_their_line(book, write_csv, run_import, row, column, message):
    job = run_import(write_csv(csv_text(GOOD_ROWS[0], row)), book.admin)
    assert job.status == ImportStatus.FAILED
    assert [(e["line"], e["column"]) for e in job.errors] == [(3, column)]
    assert message in job.errors[0]["message"]
    assert not Account.objects.filter(crm_id__in=["A-1", "A-2"]).exists()


@pytest.mark.django_db
def test_a_nul_character_in_a_header_is_shown_not_stored(book, write_csv, run_import):
    job = run_import(write_csv(csv_text(*(row + ",x" for row in GOOD_ROWS), header=HEADER + ",No\x00tes")), book.admin)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.columns["ignored"] == ["No\u2400tes"]
