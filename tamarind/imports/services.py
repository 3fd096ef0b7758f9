"""Writes of the imports app: taking in a CRM file, running an import job, and editing column mappings.

The engine itself lives in ``importer`` (checking, pass 1) and ``writer`` (writing, pass 2); this module
is the front door every caller uses (web, API, CLI, the background task), and checks the policy.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import get_valid_filename

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.core.context import request_id_scope
from tamarind.core.errors import ValidationFailed
from tamarind.core.heartbeat import Pulse, lease, lost_reason, process_name
from tamarind.core.resilience import describe, is_db_unavailable
from tamarind.imports.columns import (
    COLUMNS,
    COLUMNS_BY_FIELD,
    LIFECYCLE_STAGES,
    SEGMENTS,
    SYNONYM_FIELDS,
    CellError,
    header_key,
    parse_priority,
    value_key,
)
from tamarind.imports.importer import Importer, ImportResult, MappingSpec, Progress
from tamarind.imports.kinds import FILE_KINDS, MAX_HEADER_LENGTH, MAX_HEADERS, is_kind_key, kind_columns, kind_label
from tamarind.imports.models import ImportJob, ImportKind, ImportMapping, ImportSource, ImportStatus, summary_line
from tamarind.imports.selectors import import_mapping_default
from tamarind.people.models import User

logger = logging.getLogger(__name__)

UPLOAD_DIR = "imports"
ALLOWED_SUFFIXES = (".csv", ".txt")
# First bytes of files people upload by mistake instead of a CSV export.
BINARY_SIGNATURES: dict[bytes, str] = {
    b"PK\x03\x04": "a spreadsheet or ZIP archive",
    b"\xd0\xcf\x11\xe0": "an Excel workbook",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
}
MAPPING_FIELDS = ("name", "description", "is_default", "headers", "synonyms", "version")
# The stage of a job whose write transaction is committing (see ``import_job_run``).
WRITTEN = "written"


class UploadTooLarge(ValidationFailed):
    """The upload is above ``settings.TAMARIND_MAX_UPLOAD_BYTES`` (the web and API answer 413)."""


def _require_importer(actor: User | None) -> User:
    if actor is None or not policy.can_import(actor):
        raise PermissionDenied("Only admins import CRM files.")
    return actor


def _check_options(actor: User, *, kind: str, create_regions: bool, skip_unknown_owners: bool) -> None:
    """The import's options for what the file names that Tamarind lacks: account files only; creating regions is
    the people policy's to allow (the same as creating one by hand)."""
    if (create_regions or skip_unknown_owners) and kind != ImportKind.ACCOUNTS:
        raise ValidationFailed({"kind": ["Creating regions and skipping unknown owners apply to account files only."]})
    if create_regions and not policy.can_manage_people(actor):
        raise PermissionDenied("Only admins create regions.")


def max_upload_bytes() -> int:
    return int(settings.TAMARIND_MAX_UPLOAD_BYTES)


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def upload_too_large_message(size: int | None = None) -> str:
    limit = _human_size(max_upload_bytes())
    if size is None:
        return f"The file is larger than the {limit} an import may be."
    return f"The file is {_human_size(size)}; an import may be at most {limit}."


def _storage_path(file_name: str) -> Path:
    today = timezone.now()
    folder = Path(settings.MEDIA_ROOT) / UPLOAD_DIR / f"{today:%Y}" / f"{today:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    safe = get_valid_filename(Path(file_name).name) or "upload.csv"
    return folder / f"{uuid.uuid4().hex[:12]}-{safe[-120:]}"


def store_upload(upload: UploadedFile) -> tuple[Path, int]:
    """Write an uploaded CSV under ``MEDIA_ROOT/imports/`` chunk by chunk; never hold it in memory whole.

    Raises ``ValidationFailed`` for an empty or non-CSV file and ``UploadTooLarge`` past the size limit.
    """
    name = upload.name or "upload.csv"
    if upload.size is not None and upload.size > max_upload_bytes():
        raise UploadTooLarge({"file": [upload_too_large_message(upload.size)]})
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationFailed({"file": [f"“{name}” is not a CSV file: export the report as CSV (.csv)."]})
    path = _storage_path(name)
    written = 0
    try:
        with path.open("wb") as out:
            for chunk in upload.chunks():
                if written == 0:
                    for signature, what in BINARY_SIGNATURES.items():
                        if chunk.startswith(signature):
                            raise ValidationFailed({"file": [f"“{name}” is {what}, not a CSV file."]})
                written += len(chunk)
                if written > max_upload_bytes():
                    raise UploadTooLarge({"file": [upload_too_large_message()]})
                out.write(chunk)
        if written == 0:
            raise ValidationFailed({"file": [f"“{name}” is empty."]})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, written


@transaction.atomic
def import_job_create(
    *,
    actor: User,
    upload: UploadedFile,
    dry_run: bool = False,
    mapping: ImportMapping | None = None,
    source: str = ImportSource.WEB,
    kind: str = ImportKind.ACCOUNTS,
    create_regions: bool = False,
    skip_unknown_owners: bool = False,
) -> ImportJob:
    """Store an uploaded file and queue its import (run it with ``import_job_enqueue``).

    ``create_regions``: create the regions the file names that Tamarind lacks, in the import's transaction.
    ``skip_unknown_owners``: import lines whose owner Tamarind lacks without that owner (see ``unknowns``)."""
    _require_importer(actor)
    _check_kind(kind)
    _check_options(actor, kind=kind, create_regions=create_regions, skip_unknown_owners=skip_unknown_owners)
    mapping = mapping or import_mapping_default()
    path, size = store_upload(upload)
    return _new_job(
        actor=actor,
        source=source,
        file_name=upload.name or path.name,
        path=path,
        size=size,
        mapping=mapping,
        dry_run=dry_run,
        kind=kind,
        create_regions=create_regions,
        skip_unknown_owners=skip_unknown_owners,
    )


def _check_kind(kind: str) -> None:
    if kind not in ImportKind.values:
        raise ValidationFailed(
            {
                "kind": [
                    f"“{kind}” is not a kind of import (accounts, usage, tickets, opportunities, arr_history or contacts)."
                ]
            }
        )


@transaction.atomic
def import_job_create_from_path(
    *,
    actor: User,
    path: Path,
    dry_run: bool = False,
    mapping: ImportMapping | None = None,
    source: str = ImportSource.CLI,
    kind: str = ImportKind.ACCOUNTS,
    create_regions: bool = False,
    skip_unknown_owners: bool = False,
) -> ImportJob:
    """A job over a file already on this machine (the command line): read in place, not copied."""
    _require_importer(actor)
    _check_kind(kind)
    _check_options(actor, kind=kind, create_regions=create_regions, skip_unknown_owners=skip_unknown_owners)
    mapping = mapping or import_mapping_default()
    path = Path(path).resolve()
    if not path.is_file():
        raise ValidationFailed({"file": [f"{path} is not a file."]})
    return _new_job(
        actor=actor,
        source=source,
        file_name=path.name,
        path=path,
        size=path.stat().st_size,
        mapping=mapping,
        dry_run=dry_run,
        kind=kind,
        create_regions=create_regions,
        skip_unknown_owners=skip_unknown_owners,
    )


def _new_job(
    *,
    actor: User,
    source: str,
    file_name: str,
    path: Path,
    size: int,
    mapping: ImportMapping | None,
    dry_run: bool,
    kind: str = ImportKind.ACCOUNTS,
    create_regions: bool = False,
    skip_unknown_owners: bool = False,
) -> ImportJob:
    """The queued job row both entry points create (an upload, or a file on this machine)."""
    return ImportJob.objects.create(
        created_by=actor,
        source=source,
        kind=kind,
        file_name=file_name[:255],
        stored_path=str(path),
        size=size,
        mapping=mapping,
        mapping_version=mapping.version if mapping else 0,
        dry_run=dry_run,
        create_regions=create_regions,
        skip_unknown_owners=skip_unknown_owners,
    )


@transaction.atomic
def import_job_apply(
    *,
    actor: User,
    job: ImportJob,
    create_regions: bool = False,
    skip_unknown_owners: bool = False,
    dry_run: bool = False,
) -> ImportJob:
    """Import for real (or, with ``dry_run``, check again) the file of a finished job, as a new job.

    From a clean dry run, as it is. From a job refused only for regions and owners Tamarind does not know (its
    other errors: none), with the options that resolve them: ``create_regions`` (the regions are created in the
    import's transaction) and ``skip_unknown_owners``; options the job already had are kept."""
    _require_importer(actor)
    create_regions = create_regions or job.create_regions
    skip_unknown_owners = skip_unknown_owners or job.skip_unknown_owners
    _check_options(actor, kind=job.kind, create_regions=create_regions, skip_unknown_owners=skip_unknown_owners)
    clean_dry_run = job.dry_run and job.status == ImportStatus.SUCCEEDED
    if not (clean_dry_run or job.unknown_only):
        raise ValidationFailed(
            "Only a dry run that found no errors, or a file refused only for regions and owners Tamarind does not "
            "know, can be imported as it is."
        )
    if not dry_run and job.unknown_only:
        unknown = job.unknown or {}
        missing = []
        if unknown.get("region_errors") and not create_regions:
            missing.append("create the regions it names")
        if unknown.get("owner_errors") and not skip_unknown_owners:
            missing.append("import the lines with unknown owners without them")
        if missing:
            raise ValidationFailed(f"The file would be refused again: choose to {' and to '.join(missing)}.")
    if not Path(job.stored_path).is_file():
        raise ValidationFailed(f"The file {job.file_name} is no longer on the server; upload it again.")
    return ImportJob.objects.create(
        created_by=actor,
        source=job.source,
        kind=job.kind,
        file_name=job.file_name,
        stored_path=job.stored_path,
        size=job.size,
        mapping=job.mapping,
        mapping_version=job.mapping.version if job.mapping else 0,
        dry_run=dry_run,
        create_regions=create_regions,
        skip_unknown_owners=skip_unknown_owners,
    )


def import_job_enqueue(job: ImportJob) -> None:
    """Hand the job to the task backend (a ``db_worker`` in production, inline in tests)."""
    from tamarind.imports.tasks import run_import_job

    run_import_job.enqueue(job.pk)


def _job_beat(fields: dict[str, Any], *, job_id: int) -> None:
    """A running import's heartbeat (``core.heartbeat.Pulse``), with any progress the pulse carries."""
    ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(heartbeat_at=timezone.now(), **fields)


def import_job_run(*, job_id: int, progress: Callable[[Progress], None] | None = None) -> ImportJob:
    """Run a queued job to the end and record the outcome on it. A job that is not queued is left alone.

    Not atomic itself: the job's progress must be visible while it runs; the import's writes happen in
    one transaction inside ``writer.write_staged``. While it runs, its heartbeat is written every few seconds
    from a connection of its own (``core.heartbeat``): a job whose worker dies is failed as lost by the scheduler
    tick, and its write transaction, never committed, leaves nothing behind.
    """
    job = ImportJob.objects.select_related("created_by", "mapping").get(pk=job_id)
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=now, stage="reading", worker=process_name(), heartbeat_at=now
    )
    if not claimed:
        return job
    job.refresh_from_db()
    actor = job.created_by
    if actor is None or not policy.can_import(actor):
        return _finish_failed(job, "The person who started this import may no longer import.")
    if job.create_regions and not policy.can_manage_people(actor):
        return _finish_failed(job, "The person who started this import may no longer create regions.")
    spec = MappingSpec.of(job.mapping)
    job.mapping_version = spec.version  # the mapping may have been edited since the upload

    pulse = Pulse(partial(_job_beat, job_id=job.pk), name=f"import job {job.pk}")

    def report(p: Progress) -> None:
        fields = {"rows_processed": p.rows, "bytes_processed": p.bytes, "stage": p.stage}
        if connection.in_atomic_block:
            # Inside the import's write transaction: from the pulse's own connection, or nobody would see it.
            pulse.update(**fields)
        else:
            ImportJob.objects.filter(pk=job.pk).update(**fields, heartbeat_at=timezone.now())
        if progress is not None:
            progress(p)

    def written() -> None:
        # In the import's write transaction, its last statement: after a crash, "written" tells the reaper the
        # import's changes were committed (they are whole: one transaction), only its counts were not.
        ImportJob.objects.filter(pk=job.pk).update(stage=WRITTEN)

    try:
        with request_id_scope(f"import-{job.pk}"), pulse:
            result = _run_kind(job, spec=spec, actor=actor, progress=report, written=written)
    except FileNotFoundError:
        return _finish_failed(job, f"The file {job.file_name} is no longer on the server.")
    except (IntegrityError, ValidationFailed) as exc:
        # Someone changed the account book between the check and the write (e.g. created an account
        # with a CRM id of this file, or a region the import was to create); the transaction rolled
        # back, so running it again is safe.
        logger.warning("import job %s hit a conflicting change: %s", job.pk, exc)
        return _finish_failed(
            job, "The account book changed while this file was imported; nothing was imported. Run it again."
        )
    except OperationalError as exc:
        if not is_db_unavailable(exc):
            logger.exception("import job %s failed", job.pk)
            _finish_failed(job, "The import stopped on an internal error; nothing was imported. See the server log.")
            raise
        # Its transaction rolled back. If the database is still away, this fails too and the tick fails the job as
        # lost once its heartbeat is old enough.
        logger.warning("import job %s: the database was unavailable (%s)", job.pk, describe(exc))
        return _finish_failed(
            job, f"The database was busy or unreachable ({describe(exc)[:200]}); nothing was imported. Run it again."
        )
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _finish_failed(job, "The import stopped on an internal error; nothing was imported. See the server log.")
        raise
    job.total = result.total
    job.created, job.updated, job.unchanged = result.created, result.updated, result.unchanged
    job.error_count = result.error_count
    job.errors = result.errors
    job.changes = result.changes
    job.columns = result.columns
    job.unknown = result.unknown
    job.rows_processed = result.total
    job.bytes_processed = job.size
    job.stage = ""
    job.finished_at = timezone.now()
    job.duration = job.finished_at - (job.started_at or job.finished_at)
    line = summary_line(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        errors=result.error_count,
        total=result.total,
        seconds=result.seconds,
        dry_run=job.dry_run,
    )
    if result.ok:
        job.status = ImportStatus.SUCCEEDED
        job.message = line
    else:
        job.status = ImportStatus.FAILED
        n = result.error_count
        job.message = rejected_message(n, result.unknown)
    job.save(
        update_fields=[
            "total",
            "created",
            "updated",
            "unchanged",
            "error_count",
            "errors",
            "changes",
            "columns",
            "unknown",
            "rows_processed",
            "bytes_processed",
            "stage",
            "finished_at",
            "duration",
            "status",
            "message",
            "mapping_version",
        ]
    )
    return job


def _run_kind(
    job: ImportJob,
    *,
    spec: MappingSpec,
    actor: User,
    progress: Callable[[Progress], None],
    written: Callable[[], None] | None = None,
) -> ImportResult:
    """The engine for the job's kind: accounts through ``importer``, usage and tickets through
    ``tamarind.usage.csv_import`` (same result, same all-or-nothing and idempotency contract). ``written`` is
    called as the last statement of the import's write transaction."""
    path = Path(job.stored_path)
    if job.kind == ImportKind.ACCOUNTS:
        return Importer(
            path=path,
            mapping=spec,
            actor=actor,
            dry_run=job.dry_run,
            progress=progress,
            create_regions=job.create_regions,
            skip_unknown_owners=job.skip_unknown_owners,
            written=written,
        ).run()
    # A mapping may name headers for the other kinds too, under "<kind>.<field>" keys ("usage.day").
    prefix = f"{job.kind}."
    headers = {
        k.removeprefix(prefix): list(v)
        for k, v in ((job.mapping.headers or {}) if job.mapping else {}).items()
        if k.startswith(prefix)
    }
    if job.kind == ImportKind.SUCCESS_PLANS:
        from tamarind.success.csv_import import SuccessPlanIngest

        return SuccessPlanIngest(path=path, actor=actor, dry_run=job.dry_run, progress=progress, written=written).run()
    if job.kind == ImportKind.CONTACTS:
        from tamarind.contacts.csv_import import ContactsIngest

        return ContactsIngest(
            path=path, actor=actor, dry_run=job.dry_run, progress=progress, headers=headers, written=written
        ).run()
    if job.kind in (ImportKind.OPPORTUNITIES, ImportKind.ARR_HISTORY):
        from tamarind.renewals.csv_import import RenewalsIngest

        return RenewalsIngest(
            path=path,
            kind=job.kind,
            actor=actor,
            dry_run=job.dry_run,
            progress=progress,
            headers=headers,
            written=written,
        ).run()
    from tamarind.usage.csv_import import CsvIngest

    return CsvIngest(
        path=path, kind=job.kind, actor=actor, dry_run=job.dry_run, progress=progress, headers=headers, written=written
    ).run()


def rejected_message(errors: int, unknown: dict[str, Any]) -> str:
    """``The file was rejected (14 errors: 2 regions and 1 owner Tamarind does not know); nothing was imported.``"""
    counted = f"{errors} {'error' if errors == 1 else 'errors'}"
    parts = []
    if unknown.get("region_errors"):
        n = unknown["regions_total"]
        parts.append(f"{n} {'region' if n == 1 else 'regions'}")
    if unknown.get("owner_errors"):
        n = unknown["owners_total"]
        parts.append(f"{n} {'owner' if n == 1 else 'owners'}")
    if parts:
        among = ":" if errors == unknown["region_errors"] + unknown["owner_errors"] else ", among them"
        counted += f"{among} {' and '.join(parts)} Tamarind does not know"
    return f"The file was rejected ({counted}); nothing was imported."


def _finish_failed(job: ImportJob, message: str) -> ImportJob:
    now = timezone.now()
    job.status = ImportStatus.FAILED
    job.message = message[:500]
    job.stage = ""
    job.finished_at = now
    job.duration = now - (job.started_at or now)
    job.save(update_fields=["status", "message", "stage", "finished_at", "duration"])
    return job


def import_jobs_fail_lost(*, now: dt.datetime) -> int:
    """Fail the import jobs whose worker is gone (running, no heartbeat for the lease), saying so and what became
    of the file: an import writes in one transaction, which died with its worker unless the job had reached
    ``written``. A reaper of the scheduler tick (``periodic.py``); returns how many it failed."""
    stale = (
        ImportJob.objects.filter(status=ImportStatus.RUNNING)
        .annotate(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_sign__lt=now - lease())
        .values_list("pk", "last_sign", "worker", "stage", "dry_run", "started_at")
    )
    failed = 0
    for pk, last_sign, worker, stage, dry_run, started_at in stale:
        if stage == WRITTEN:
            outcome = "The import had been saved: its changes are in the book; only its counts were not recorded."
        elif dry_run:
            outcome = "It was a dry run: nothing was written. Run it again."
        else:
            outcome = "Its write transaction died with it: nothing was imported. Run it again."
        started = started_at or last_sign
        failed += ImportJob.objects.filter(pk=pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED,
            message=f"{lost_reason(last_sign, worker)} {outcome}"[:500],
            stage="",
            finished_at=max(now, started),
            duration=max(dt.timedelta(0), last_sign - started),  # known to have run until its last heartbeat
        )
    return failed


# --- Mappings -----------------------------------------------------------------------------------------------


def _clean_mapping(
    *, name: str, headers: dict[str, Iterable[str]], synonyms: dict[str, dict[str, str]]
) -> tuple[str, dict[str, list[str]], dict[str, dict[str, str]]]:
    """Check a mapping: required fields have a header, no header feeds two fields, synonyms resolve."""
    from tamarind.imports.importer import Lookups

    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["A mapping needs a name."]
    clean_headers: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for column in COLUMNS:
        names = [" ".join(h.split()) for h in headers.get(column.field, []) if h and h.strip()]
        if column.required and not names:
            errors.setdefault(f"headers_{column.field}", []).append(f"{column.header} needs at least one header.")
        for h in names:
            other = owner.get(header_key(h))
            if other is not None and other != column.field:
                errors.setdefault(f"headers_{column.field}", []).append(
                    f"“{h}” is already the header of {COLUMNS_BY_FIELD[other].header}."
                )
            owner[header_key(h)] = column.field
        clean_headers[column.field] = list(dict.fromkeys(names))
    lookups = Lookups(MappingSpec(pk=None, name="", version=0, headers={}, synonyms={}))
    clean_synonyms: dict[str, dict[str, str]] = {}
    for fld, pairs in synonyms.items():
        if fld not in SYNONYM_FIELDS:
            errors.setdefault("__all__", []).append(f"{fld} takes no synonyms.")
            continue
        for raw, target in pairs.items():
            raw, target = raw.strip(), target.strip()
            if not raw or not target:
                continue
            if not _synonym_target_ok(fld, target, lookups):
                errors.setdefault(f"synonyms_{fld}", []).append(
                    f"“{raw} = {target}”: {target} is not a known {COLUMNS_BY_FIELD[fld].header.lower()}."
                )
            clean_synonyms.setdefault(fld, {})[raw] = target
    if errors:
        raise ValidationFailed(errors)
    return name, clean_headers, clean_synonyms


def _synonym_target_ok(fld: str, target: str, lookups: Any) -> bool:
    key = value_key(target)
    if fld == "region":
        return key in lookups.regions
    if fld == "product_tier":
        return key in lookups.tiers
    if fld == "segment":
        return key in SEGMENTS
    if fld == "engagement_model":
        return key in lookups.engagement_models
    if fld == "lifecycle_stage":
        return key in LIFECYCLE_STAGES
    if fld == "priority":
        try:
            parse_priority(target)
        except CellError:
            return False
        return True
    return False


def _unset_other_defaults(mapping: ImportMapping) -> None:
    ImportMapping.objects.filter(is_default=True).exclude(pk=mapping.pk).update(is_default=False)


@transaction.atomic
def import_mapping_create(
    *,
    actor: User,
    name: str,
    headers: dict[str, Iterable[str]],
    synonyms: dict[str, dict[str, str]] | None = None,
    description: str = "",
    is_default: bool = False,
    source: str = "web",
) -> ImportMapping:
    _require_importer(actor)
    name, clean_headers, clean_synonyms = _clean_mapping(name=name, headers=headers, synonyms=synonyms or {})
    if ImportMapping.objects.filter(name__iexact=name).exists():
        raise ValidationFailed({"name": [f"There is already a mapping called “{name}”."]})
    now = timezone.now()
    mapping = ImportMapping(
        name=name,
        description=description.strip()[:255],
        is_default=is_default,
        headers=clean_headers,
        synonyms=clean_synonyms,
        version=1,
        created_at=now,
        updated_at=now,
        updated_by=actor,
    )
    if is_default:
        _unset_other_defaults(mapping)
    mapping.save()
    audit_record(
        actor=actor, obj=mapping, action=AuditAction.CREATE, after=snapshot(mapping, MAPPING_FIELDS), source=source
    )
    return mapping


@transaction.atomic
def import_mapping_update(
    *,
    actor: User,
    mapping: ImportMapping,
    name: str,
    headers: dict[str, Iterable[str]],
    synonyms: dict[str, dict[str, str]] | None = None,
    description: str = "",
    is_default: bool = False,
    source: str = "web",
) -> list[str]:
    """Save a mapping; a change of headers or synonyms bumps ``version``. Returns the changed fields."""
    _require_importer(actor)
    name, clean_headers, clean_synonyms = _clean_mapping(name=name, headers=headers, synonyms=synonyms or {})
    if ImportMapping.objects.filter(name__iexact=name).exclude(pk=mapping.pk).exists():
        raise ValidationFailed({"name": [f"There is already a mapping called “{name}”."]})
    before = snapshot(mapping, MAPPING_FIELDS)
    mapping.name = name
    mapping.description = description.strip()[:255]
    mapping.is_default = is_default
    # The usage and ticket files' headers ("usage.day", ...) are edited on their own: keep them as they are.
    kept = {k: v for k, v in (mapping.headers or {}).items() if is_kind_key(k)}
    mapping.headers = {**clean_headers, **kept}
    mapping.synonyms = clean_synonyms
    if mapping.headers != before["headers"] or mapping.synonyms != before["synonyms"]:
        mapping.version += 1
    after = snapshot(mapping, MAPPING_FIELDS)
    changed = [f for f in MAPPING_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    if is_default:
        _unset_other_defaults(mapping)
    mapping.updated_at = timezone.now()
    mapping.updated_by = actor
    mapping.save(update_fields=[*changed, "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        obj=mapping,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    return changed


def _clean_kind_headers(kind: str, headers: dict[str, Iterable[str]]) -> dict[str, list[str]]:
    """Check a usage or ticket file's extra header names (``headers`` by field): known fields, at most
    ``MAX_HEADERS`` names of at most ``MAX_HEADER_LENGTH`` characters each, and no name that another field of the
    same file already answers to (its extra names or the importer's built-in ones), since the importer would give
    that column to the other field. Returns them by mapping key (``usage.day``), empty fields left out."""
    columns = kind_columns(kind)
    fields = {c.field: c for c in columns}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(headers) - set(fields))
    if unknown:
        errors["__all__"] = [f"{kind_label(kind)} files have no field {', '.join(unknown)}."]
    names: dict[str, list[str]] = {}
    for column in columns:
        clean = [" ".join(str(h).split()) for h in headers.get(column.field, []) if h and str(h).strip()]
        clean = list(dict.fromkeys(clean))
        if len(clean) > MAX_HEADERS:
            errors.setdefault(column.field, []).append(f"At most {MAX_HEADERS} header names.")
        for h in clean:
            if len(h) > MAX_HEADER_LENGTH:
                errors.setdefault(column.field, []).append(
                    f"“{h[:30]}…” is longer than {MAX_HEADER_LENGTH} characters."
                )
        names[column.field] = clean
    owner: dict[str, str] = {}
    for column in columns:  # the importer's own names first: an extra name may not take one of those
        for h in column.builtin:
            owner.setdefault(header_key(h), column.field)
    for column in columns:
        for h in names[column.field]:
            other = owner.get(header_key(h))
            if other is not None and other != column.field:
                errors.setdefault(column.field, []).append(f"“{h}” is already a header of {fields[other].label}.")
            else:
                owner[header_key(h)] = column.field
    if errors:
        raise ValidationFailed(errors)
    return {f"{kind}.{field}": found for field, found in names.items() if found}


@transaction.atomic
def import_mapping_set_kind_headers(
    *, actor: User, mapping: ImportMapping, kind: str, headers: dict[str, Iterable[str]], source: str = "web"
) -> bool:
    """Set the extra header names a usage or tickets import reads with ``mapping`` (``kind``'s ``usage.<field>`` /
    ``tickets.<field>`` keys; the account columns and synonyms are left alone). A change bumps ``version`` and is
    audited with the kind's keys before and after. Returns whether anything changed."""
    _require_importer(actor)
    if kind not in FILE_KINDS:
        raise ValidationFailed({"__all__": [f"Unknown file kind {kind!r}."]})
    clean = _clean_kind_headers(kind, headers)
    current = dict(mapping.headers or {})
    before = {k: v for k, v in current.items() if k.startswith(f"{kind}.")}
    if before == clean:
        return False
    mapping.headers = {**{k: v for k, v in current.items() if not k.startswith(f"{kind}.")}, **clean}
    mapping.version += 1
    mapping.updated_at = timezone.now()
    mapping.updated_by = actor
    mapping.save(update_fields=["headers", "version", "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        obj=mapping,
        action=AuditAction.UPDATE,
        before={"headers": before, "version": mapping.version - 1},
        after={"headers": clean, "version": mapping.version},
        source=source,
    )
    return True
