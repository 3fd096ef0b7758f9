"""Reads of the imports app: gated fetches of jobs and mappings, the history list, and the account export."""

from __future__ import annotations

from collections.abc import Generator

from django.core.exceptions import PermissionDenied
from django.http import Http404

from tamarind import policy
from tamarind.accounts.models import Account, EngagementModel, LifecycleStage, Segment
from tamarind.imports.columns import COLUMNS
from tamarind.imports.models import ImportJob, ImportJobQuerySet, ImportMapping
from tamarind.people.models import User


def import_job_for_user(user: User, job_id: int | str) -> ImportJob:
    """The one permission-gated fetch of an import job: only importers (admins) see jobs; others get 404."""
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise Http404("No such import.") from None
    if not policy.can_import(user):
        raise Http404("No such import.")
    job = ImportJob.objects.select_related("created_by", "mapping").filter(pk=pk).first()
    if job is None:
        raise Http404("No such import.")
    return job


def import_job_list(*, user: User) -> ImportJobQuerySet:
    """The import history, newest first. Only importers may list it (403 for everyone else)."""
    if not policy.can_import(user):
        raise PermissionDenied("Only admins see imports.")
    return ImportJob.objects.for_list().order_by("-created_at", "-id")


def import_mapping_for_user(user: User, mapping_id: int | str) -> ImportMapping:
    try:
        pk = int(mapping_id)
    except (TypeError, ValueError):
        raise Http404("No such mapping.") from None
    if not policy.can_import(user):
        raise Http404("No such mapping.")
    mapping = ImportMapping.objects.select_related("updated_by").filter(pk=pk).first()
    if mapping is None:
        raise Http404("No such mapping.")
    return mapping


def import_mapping_list(*, user: User) -> list[ImportMapping]:
    if not policy.can_import(user):
        raise PermissionDenied("Only admins manage import mappings.")
    return list(ImportMapping.objects.select_related("updated_by").order_by("-is_default", "name"))


def import_mapping_default() -> ImportMapping | None:
    """The mapping an import uses when it names none (None: the built-in default)."""
    return ImportMapping.objects.filter(is_default=True).first()


def import_mapping_named(name: str) -> ImportMapping | None:
    return ImportMapping.objects.filter(name__iexact=name.strip()).first()


def export_headers(mapping: ImportMapping | None = None) -> list[str]:
    """The header row of the export: the first header of each field in the default mapping."""
    mapping = mapping if mapping is not None else import_mapping_default()
    headers = mapping.headers if mapping is not None else {}
    return [(headers.get(c.field) or [c.header])[0] for c in COLUMNS]


EXPORT_VALUES = (
    "crm_id",
    "name",
    "parent__crm_id",
    "region__name",
    "segment",
    "arr",
    "currency",
    "product_tier__name",
    "licenses",
    "priority",
    "engagement_model",
    "tam__email",
    "sal__email",
    "sa__email",
    "customer_since",
    "next_renewal_date",
    "lifecycle_stage",
    "collaboration_url",
)


def account_export_rows(
    *, mapping: ImportMapping | None = None, chunk_size: int = 2000
) -> Generator[list[str], None, None]:
    """Every account as a CRM file row (header first), in the format the import reads back unchanged.

    Owners are written by email (names may repeat), choices by their labels, dates as ISO. Streams from
    the database in chunks; nothing is held in memory beyond one chunk.
    """
    segments = {value: str(label) for value, label in Segment.choices}
    models_ = {value: str(label) for value, label in EngagementModel.choices}
    stages = {value: str(label) for value, label in LifecycleStage.choices}
    yield export_headers(mapping)
    rows = Account.objects.order_by("crm_id").values_list(*EXPORT_VALUES).iterator(chunk_size=chunk_size)
    for (
        crm_id,
        name,
        parent,
        region,
        segment,
        arr,
        currency,
        tier,
        licenses,
        priority,
        engagement_model,
        tam,
        sal,
        sa,
        customer_since,
        renewal,
        stage,
        url,
    ) in rows:
        yield [
            crm_id,
            name,
            parent or "",
            region,
            segments.get(segment, segment),
            f"{arr:.2f}",
            currency,
            tier or "",
            str(licenses),
            str(priority),
            models_.get(engagement_model, engagement_model),
            tam or "",
            sal or "",
            sa or "",
            customer_since.isoformat() if customer_since else "",
            renewal.isoformat() if renewal else "",
            stages.get(stage, stage),
            url,
        ]
