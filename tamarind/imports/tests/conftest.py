"""Helpers for the import tests: CRM files written to a temporary folder, and a one-call import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tamarind.imports import services
from tamarind.imports.models import ImportJob, ImportMapping
from tamarind.people.models import User

HEADER = (
    "Account ID,Account Name,Parent Account ID,Sales Segment,Region,CARR (This Account),Products Purchased,"
    "Technical Account Manager,Account Owner,Solutions Architect,Customer Since,Next Renewal Date,Number of Licenses"
)
# Two good rows against the ``book`` fixture: a parent that comes after its child, owners by name and email.
GOOD_ROWS = [
    'A-1,Initech Labs,A-2,Enterprise,AMER East,"$150,000.00",Premium,Tara Tam,sal@example.com,Sasha Sa,2024-01-31,2027-01-31,500',
    "A-2,Initech,,Mid-Market,EMEA,80000,Ultimate,Olga Tam,,,2023-06-01,2026-12-31,1200",
]


def csv_text(*rows: str, header: str = HEADER, newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Uploads land in a temporary MEDIA_ROOT, so test runs leave no files behind."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """``write_csv(text_or_bytes, name="crm.csv")`` -> the path of a file holding it (text as UTF-8)."""

    def write(content: str | bytes, name: str = "crm.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
        return path

    return write


@pytest.fixture
def run_import() -> Callable[..., ImportJob]:
    """``run_import(path, actor, dry_run=False, mapping=None)`` -> the finished job."""

    def run(path: Path, actor: User, *, dry_run: bool = False, mapping: ImportMapping | None = None) -> ImportJob:
        job = services.import_job_create_from_path(actor=actor, path=path, dry_run=dry_run, mapping=mapping)
        return services.import_job_run(job_id=job.pk)

    return run
