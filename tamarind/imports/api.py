"""REST routes of CRM imports under ``/api/v1/imports/`` (auth and error bodies: ``tamarind.core.api``).

Only admins import: a non-admin gets 403 on the list and on upload, and 404 for any job id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import ErrorOut, Id, Offset, QuerySchema
from tamarind.core.values import NUL_MESSAGE
from tamarind.imports import selectors, services
from tamarind.imports.models import ImportJob, ImportSource, ImportStatus

router = Router(tags=["imports"])

FIRST_ERRORS = 100
UPLOAD_OVERHEAD = 64 * 1024


class ImportErrorOut(Schema):
    line: int | None = Field(
        None, description="Line of the file where the row starts (the header is line 1); null for a file-level error."
    )
    column: str = Field("", description="The header of the column at fault, when there is one.")
    value: str = Field("", description="The cell as it was in the file.")
    message: str = Field(..., examples=['line 7: ARR "lots" is not a number'])


class ImportChangeOut(Schema):
    line: int
    crm_id: str
    name: str
    action: Literal["create", "update"]
    fields: list[tuple[str, str, str]] = Field(
        ..., description="(column, value before, value after) per changed field."
    )


class ImportUnknownRegionOut(Schema):
    name: str = Field(..., description="The region as the file names it (after the mapping's synonyms).")
    lines: int = Field(..., description="Lines of the file that name it.")
    first_line: int
    id: int | None = Field(None, description="The region's id once the import created it.")


class ImportUnknownOwnerOut(Schema):
    field: Literal["tam", "sal", "sa"]
    role: str = Field(..., examples=["TAM"])
    value: str = Field(..., description="The owner as the file names them (an email or a full name).")
    lines: int
    first_line: int


class ImportUnknownOut(Schema):
    """Regions and owners the file names that Tamarind does not know, each with how many lines name it."""

    regions: list[ImportUnknownRegionOut] = Field(..., description="Most lines first (at most 200 listed).")
    regions_total: int
    owners: list[ImportUnknownOwnerOut] = Field(..., description="TAMs, then SAL / AEs, then SAs (at most 200).")
    owners_total: int
    region_lines: int
    owner_lines: int = Field(..., description="Lines with at least one unknown owner.")
    region_errors: int = Field(..., description="Errors of this run for unknown regions (0 when it creates them).")
    owner_errors: int = Field(..., description="Errors of this run for unknown owners (0 when it skips them).")
    other_errors: int = Field(
        ..., description="Errors neither option resolves; when 0, uploading again with the options imports the file."
    )
    create_regions: bool
    skip_unknown_owners: bool
    regions_created: bool


class ImportJobOut(Schema):
    """An import job: its file, status and counts. For a dry run, and for a rejected file (`failed` with errors),
    the counts are what the rows without errors would have done: nothing is written then."""

    id: int
    kind: str = Field(
        "accounts", description="`accounts`, `usage`, `tickets`, `opportunities`, `arr_history` or `contacts`."
    )
    status: ImportStatus
    dry_run: bool
    create_regions: bool = Field(False, description="The import creates the regions the file names that are missing.")
    skip_unknown_owners: bool = Field(
        False, description="Lines whose TAM, SAL / AE or SA is not in Tamarind are imported without that owner."
    )
    file_name: str
    size: int = Field(..., description="Bytes.")
    source: ImportSource
    mapping: str | None = Field(None, description="Name of the column mapping used.")
    created_by: str | None = Field(None, description="Email of the admin who started the import.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_seconds: float | None
    progress: int = Field(..., description="Percent of the file read, 100 when finished.")
    rows_processed: int
    total: int = Field(..., description="Data rows in the file.")
    created: int
    updated: int
    unchanged: int
    error_count: int
    message: str = Field(
        ...,
        description="The outcome in one line, e.g. `3 changed: created 2, updated 1, ...`, "
        "`dry run, nothing written: 3 would change: ...` or `The file was rejected (2 errors); nothing was imported.`",
    )
    url: str = Field(..., description="The job's page in the web UI.")

    @staticmethod
    def resolve_mapping(obj: ImportJob) -> str | None:
        return obj.mapping.name if obj.mapping else None

    @staticmethod
    def resolve_created_by(obj: ImportJob) -> str | None:
        return obj.created_by.email if obj.created_by else None

    @staticmethod
    def resolve_duration_seconds(obj: ImportJob) -> float | None:
        return round(obj.duration.total_seconds(), 3) if obj.duration else None

    @staticmethod
    def resolve_progress(obj: ImportJob) -> int:
        return obj.percent

    @staticmethod
    def resolve_url(obj: ImportJob) -> str:
        return reverse("imports:detail", args=[obj.pk])


class ImportJobDetailOut(ImportJobOut):
    errors: list[ImportErrorOut] = Field(..., description=f"The first {FIRST_ERRORS} errors, by line.")
    errors_truncated: bool = Field(..., description="More errors exist: see the error report CSV on the web page.")
    changes: list[ImportChangeOut] = Field(..., description="The first changes, as a preview.")
    columns: dict[str, Any] = Field(
        ..., description="`matched`: [field, header] pairs in file order; `ignored`: headers not read."
    )
    unknown: ImportUnknownOut | None = Field(
        None, description="Regions and owners the file names that Tamarind does not know; null when none."
    )

    @staticmethod
    def resolve_unknown(obj: ImportJob) -> dict[str, Any] | None:
        return obj.unknown or None

    @staticmethod
    def resolve_errors(obj: ImportJob) -> list[dict[str, Any]]:
        return list((obj.errors or [])[:FIRST_ERRORS])

    @staticmethod
    def resolve_errors_truncated(obj: ImportJob) -> bool:
        return obj.error_count > FIRST_ERRORS


class ListQuery(QuerySchema):
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


@router.get("/", response={200: list[ImportJobOut], 403: ErrorOut}, summary="List imports, newest first")
def list_imports(request: HttpRequest, params: Query[ListQuery]) -> list[ImportJob]:
    jobs = selectors.import_job_list(user=request.user)  # type: ignore[arg-type]
    return list(jobs[params.offset : params.offset + params.limit])


@router.post(
    "/",
    response={202: ImportJobOut, 400: ErrorOut, 403: ErrorOut, 413: ErrorOut},
    summary="Upload a CRM account file and queue its import",
)
def upload_import(
    request: HttpRequest,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    mapping: Form[str | None] = None,
    kind: Form[str] = "accounts",
    create_regions: Form[bool] = False,
    skip_unknown_owners: Form[bool] = False,
) -> Status:
    """Multipart upload (`file`, optional `dry_run`, `mapping` by name, `kind`: `accounts` (default), `usage` or
    `tickets`). Answers 202 with the job; poll
    `GET /api/v1/imports/{id}` until `status` is `succeeded` or `failed`.

    A job's `unknown` lists the regions and owners the file names that Tamarind does not know. Upload again
    with `create_regions` to create those regions with the import (in its transaction: a failed import keeps
    none), and with `skip_unknown_owners` to import those lines without their unknown owners (new accounts get
    none, existing ones keep theirs). Account files only."""
    user = request.user
    if not policy.can_import(user):  # type: ignore[arg-type]
        raise PermissionDenied("Only admins import CRM files.")
    for name, value in (("mapping", mapping), ("kind", kind)):
        if value and "\x00" in value:  # the one form body of the API (JSON bodies are checked by their schemas)
            raise ValidationFailed({name: [NUL_MESSAGE]})
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > services.max_upload_bytes() + UPLOAD_OVERHEAD:
        raise HttpError(413, services.upload_too_large_message(declared))
    chosen = None
    if mapping:
        chosen = selectors.import_mapping_named(mapping)
        if chosen is None:
            raise HttpError(400, f"There is no import mapping called “{mapping}”.")
    try:
        job = services.import_job_create(
            actor=user,  # type: ignore[arg-type]
            upload=file,
            dry_run=dry_run,
            mapping=chosen,
            source=ImportSource.API,
            kind=kind,
            create_regions=create_regions,
            skip_unknown_owners=skip_unknown_owners,
        )
    except services.UploadTooLarge as exc:
        raise HttpError(413, str(exc).removeprefix("file: ")) from None
    except ValidationFailed as exc:
        raise HttpError(400, str(exc).removeprefix("file: ")) from None
    services.import_job_enqueue(job)
    job.refresh_from_db()
    return Status(202, job)


@router.get(
    "/{job_id}",
    response={200: ImportJobDetailOut, 404: ErrorOut},
    summary="An import's status, counts and first errors",
)
def get_import(request: HttpRequest, job_id: Id) -> ImportJob:
    return selectors.import_job_for_user(request.user, job_id)  # type: ignore[arg-type]
