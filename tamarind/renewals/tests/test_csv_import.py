"""Opportunity and ARR history files through the import jobs: line-numbered errors, all or nothing, idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from tamarind.conftest import Book
from tamarind.imports import services
from tamarind.imports.models import ImportJob
from tamarind.notifications.models import Notification
from tamarind.renewals.models import ArrSnapshot, Renewal, RenewalStep, month_index
from tamarind.renewals.tests.factories import RenewalFactory

OPP_HEADER = "Opportunity ID,Account ID,Close Date,Amount,Stage,Forecast Category,Next Step\n"


def _run(book: Book, tmp_path: Path, text: str, kind: str, dry_run: bool = False) -> ImportJob:
    path = tmp_path / f"{kind}-{abs(hash(text))}.csv"
    path.write_text(text, encoding="utf-8")
    job = services.import_job_create_from_path(actor=book.admin, path=path, dry_run=dry_run, kind=kind)
    return services.import_job_run(job_id=job.pk)


def _messages(job: Any) -> str:
    return " | ".join(e["message"] for e in job.errors)


def test_opportunities_create_update_and_are_idempotent(book: Book, tmp_path: Path) -> None:
    existing = RenewalFactory(account=book.account, renewal_date=dt.date(2027, 1, 15))
    crm, other = book.account.crm_id, book.other_account.crm_id
    text = OPP_HEADER + (
        f'006A,{crm},2027-01-15,"125,000.00",Negotiation,Commit,Send the quote\n'
        f"006B,{other},3/31/2027,80000,Discovery,At Risk,Call the sponsor\n"
    )
    dry = _run(book, tmp_path, text, "opportunities", dry_run=True)
    assert dry.status == "succeeded" and not Renewal.objects.filter(crm_opportunity_id="006A").exists()
    job = _run(book, tmp_path, text, "opportunities")
    assert job.status == "succeeded", _messages(job)
    assert (job.created, job.updated) == (1, 1)
    existing.refresh_from_db()
    assert existing.crm_opportunity_id == "006A" and existing.arr == Decimal("125000") and existing.forecast == "commit"
    new = Renewal.objects.get(crm_opportunity_id="006B")
    assert new.account_id == book.other_account.pk and new.forecast == "at_risk"
    assert RenewalStep.objects.filter(renewal=new, text="Call the sponsor").count() == 1
    assert Notification.objects.filter(recipient=book.other_manager).count() == 1
    again = _run(book, tmp_path, text, "opportunities")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert RenewalStep.objects.count() == 2 and Renewal.objects.count() == 2


def test_bad_opportunity_lines_are_named_and_nothing_is_written(book: Book, tmp_path: Path) -> None:
    crm = book.account.crm_id
    text = OPP_HEADER + (
        f"006A,{crm},2027-01-15,1000,,Commit,\n"
        f"006B,{crm},not a date,1000,,Commit,\n"
        f"006C,{crm},2027-02-01,-5,,Commit,\n"
        f"006D,{crm},2027-03-01,abc,,Commit,\n"
        f"006E,{crm},2027-04-01,10,,Maybe,\n"
        "006F,NOPE,2027-05-01,10,,Commit,\n"
        f"006A,{crm},2027-06-01,10,,Commit,\n"
    )
    job = _run(book, tmp_path, text, "opportunities")
    assert job.status == "failed"
    lines = {e["line"] for e in job.errors}
    assert lines == {3, 4, 5, 6, 7, 8}
    text_errors = _messages(job)
    assert "Close Date" in text_errors and "Amount" in text_errors and "Forecast Category" in text_errors
    assert not Renewal.objects.exists()


def test_an_importer_without_write_on_the_account_is_refused(book: Book, tmp_path: Path) -> None:
    from tamarind.renewals.csv_import import RenewalsIngest

    path = tmp_path / "o.csv"
    path.write_text(OPP_HEADER + f"006A,{book.account.crm_id},2027-01-15,1000,,Commit,\n", encoding="utf-8")
    result = RenewalsIngest(path=path, kind="opportunities", actor=book.other_manager).run()
    assert not result.ok and "may not write" in result.errors[0]["message"] and result.errors[0]["line"] == 2
    assert not Renewal.objects.exists()


def test_arr_history_import(book: Book, tmp_path: Path) -> None:
    crm = book.account.crm_id
    text = f"Account ID,Month,ARR\n{crm},2025-11,100000\n{crm},2026-11-30,120000\n"
    job = _run(book, tmp_path, text, "arr_history")
    assert job.status == "succeeded", _messages(job)
    assert job.created == 2
    got = dict(ArrSnapshot.objects.values_list("month_index", "arr"))
    assert got == {month_index(2025, 11): Decimal("100000"), month_index(2026, 11): Decimal("120000")}
    again = _run(book, tmp_path, text, "arr_history")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = _run(book, tmp_path, text.replace("120000", "125000"), "arr_history")
    assert changed.updated == 1
    bad = _run(
        book, tmp_path, f"Account ID,Month,ARR\n{crm},2026-13,5\n{crm},2025-11,-1\n{crm},2025-11,7\n", "arr_history"
    )
    assert bad.status == "failed" and {e["line"] for e in bad.errors} == {2, 3, 4}
    assert ArrSnapshot.objects.count() == 2


def test_a_crm_import_moving_the_renewal_date_moves_the_open_renewal(book: Book, tmp_path: Path) -> None:
    """An account import that changes next renewal dates: the open renewal of the old date follows to the new date
    (audited), never a second renewal beside it; a closed one stays; an account with none gets one."""
    from tamarind.audit.models import AuditEvent
    from tamarind.renewals.models import RenewalOutcome, RenewalStatus
    from tamarind.testing.factories import AccountFactory

    header = "Account ID,Account Name,Sales Segment,Region,CARR (This Account),Next Renewal Date\n"
    moved = AccountFactory(crm_id="M-1", name="Moved", region=book.east, next_renewal_date=dt.date(2027, 1, 31))
    closed = AccountFactory(crm_id="M-2", name="Closed", region=book.east, next_renewal_date=dt.date(2026, 11, 30))
    open_one = RenewalFactory(account=moved, renewal_date=dt.date(2027, 1, 31))
    done = RenewalFactory(
        account=closed,
        renewal_date=dt.date(2026, 11, 30),
        status=RenewalStatus.CLOSED,
        outcome=RenewalOutcome.RENEWED_FLAT,
        new_arr=Decimal("120000"),
        closed_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )
    text = header + (
        "M-1,Moved,Enterprise,AMER East,120000,2027-03-31\nM-2,Closed,Enterprise,AMER East,120000,2027-11-30\n"
    )
    job = _run(book, tmp_path, text, "accounts")
    assert job.status == "succeeded", _messages(job)
    open_one.refresh_from_db()
    assert open_one.renewal_date == dt.date(2027, 3, 31)
    assert list(Renewal.objects.filter(account=moved).values_list("renewal_date", flat=True)) == [dt.date(2027, 3, 31)]
    event = AuditEvent.objects.get(object_type="renewals.renewal", object_id=str(open_one.pk), action="update")
    assert (event.before, event.after) == ({"renewal_date": "2027-01-31"}, {"renewal_date": "2027-03-31"})
    # The closed renewal keeps its date; the new date gets its own renewal.
    done.refresh_from_db()
    assert done.renewal_date == dt.date(2026, 11, 30)
    assert Renewal.objects.filter(account=closed, renewal_date=dt.date(2027, 11, 30), status="open").count() == 1
    again = _run(book, tmp_path, text, "accounts")
    assert again.status == "succeeded" and Renewal.objects.filter(account__in=[moved, closed]).count() == 3
