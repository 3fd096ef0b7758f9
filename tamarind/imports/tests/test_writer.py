"""Pass 2: both ways of writing (ORM on SQLite, COPY on PostgreSQL) leave the same rows behind."""

from __future__ import annotations

import pytest
from django.db import connection

from tamarind.accounts.models import ACCOUNT_FIELDS, Account, TamAssignment
from tamarind.audit.models import AuditEvent
from tamarind.audit.services import build_event, snapshot
from tamarind.core.context import request_id_scope
from tamarind.imports.tests.conftest import GOOD_ROWS, csv_text
from tamarind.imports.writer import reserve_account_ids

pytestmark = pytest.mark.django_db

EVENT_FIELDS = ("actor_id", "actor_name", "request_id", "source", "object_type", "object_id", "object_repr", "action")


def test_events_are_what_build_event_makes(book, write_csv, run_import):
    job = run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin)
    for account in Account.objects.filter(crm_id__in=["A-1", "A-2"]):
        stored = AuditEvent.objects.for_object("accounts.account", account.pk).get()
        with request_id_scope(f"import-{job.pk}"):
            expected = build_event(
                actor=book.admin,
                obj=account,
                action="create",
                before=None,
                after=snapshot(account, ACCOUNT_FIELDS),
                source="import",
            )
        assert {f: getattr(stored, f) for f in EVENT_FIELDS} == {f: getattr(expected, f) for f in EVENT_FIELDS}
        assert stored.before is None and stored.after == expected.after
        assert stored.at == account.created_at == account.updated_at


def test_updates_write_only_their_columns_and_keep_the_rest(book, write_csv, run_import):
    run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin)
    child = Account.objects.get(crm_id="A-1")
    child.currency = "EUR"  # a column the next file does not carry
    child.save(update_fields=["currency"])
    header = "Account ID,Account Name,Parent Account ID,Sales Segment,Region,ARR"
    rows = ["A-1,Initech Labs,,Enterprise,AMER East,1", "A-2,Initech,,Mid-Market,EMEA,80000"]
    job = run_import(write_csv(csv_text(*rows, header=header), name="b.csv"), book.admin)
    assert (job.updated, job.unchanged) == (1, 1), job.errors
    child.refresh_from_db()
    assert child.parent_id is None and child.arr == 1 and child.currency == "EUR" and child.tam == book.tam
    parent = Account.objects.get(crm_id="A-2")
    assert parent.tam == book.other_tam  # untouched: no TAM column
    assert TamAssignment.objects.filter(account=child).count() == 1


def test_reserved_ids_are_never_reused(book):
    first = reserve_account_ids(3)
    assert len(first) == 3 and first == sorted(first) and min(first) > max(Account.objects.values_list("pk", flat=True))
    if connection.vendor == "postgresql":
        assert reserve_account_ids(2)[0] > first[-1]
    assert reserve_account_ids(0) == []


def test_a_conflicting_change_during_the_write_fails_the_job_cleanly(book, write_csv, run_import, monkeypatch):
    from tamarind.imports import writer
    from tamarind.testing.factories import AccountFactory

    original = writer.reserve_account_ids

    def meanwhile(count):
        AccountFactory(crm_id="A-2", region=book.west)  # created by someone else after the check
        return original(count)

    monkeypatch.setattr(writer, "reserve_account_ids", meanwhile)
    job = run_import(write_csv(csv_text(*GOOD_ROWS)), book.admin)
    assert job.status == "failed" and "changed while this file was imported" in job.message
    assert not Account.objects.filter(crm_id="A-1").exists()
    assert not AuditEvent.objects.filter(source="import").exists()


def test_reparenting_one_row_keeps_the_parents_of_the_others(book, write_csv, run_import):
    rows = [
        "P-1,Parent One,,Enterprise,AMER East,1,,,,,,,",
        "P-2,Parent Two,,Enterprise,AMER East,1,,,,,,,",
        "C-1,Child One,P-1,Enterprise,AMER East,1,,,,,,,",
        "C-2,Child Two,P-1,Enterprise,AMER East,1,,,,,,,",
    ]
    run_import(write_csv(csv_text(*rows)), book.admin)
    rows[2] = rows[2].replace(",1,,", ",2,,")  # C-1: new ARR, same parent
    rows[3] = rows[3].replace("P-1", "P-2")  # C-2: new parent
    job = run_import(write_csv(csv_text(*rows), name="b.csv"), book.admin)
    assert job.updated == 2, job.errors
    parents = dict(Account.objects.filter(crm_id__startswith="C-").values_list("crm_id", "parent__crm_id"))
    assert parents == {"C-1": "P-1", "C-2": "P-2"}
    event = AuditEvent.objects.for_object("accounts.account", Account.objects.get(crm_id="C-2").pk).first()
    p1, p2 = (Account.objects.get(crm_id=c).pk for c in ("P-1", "P-2"))
    assert event.before == {"parent": p1} and event.after == {"parent": p2}
