"""Pages of the imports app: history, upload, a job's progress and result, error report, mappings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tamarind import policy
from tamarind.core.csv_safe import SafeWriter
from tamarind.core.errors import ValidationFailed
from tamarind.core.heartbeat import lease
from tamarind.core.http import request_user
from tamarind.imports import selectors, services
from tamarind.imports.columns import COLUMNS, SYNONYM_FIELDS, default_headers
from tamarind.imports.forms import KindHeadersForm, MappingForm, UploadForm
from tamarind.imports.kinds import FILE_KINDS, kind_label
from tamarind.imports.models import ImportJob, ImportMapping

PAGE_SIZE = 25
SHOWN_ERRORS = 200
# Room for the multipart envelope and form fields around the file itself.
UPLOAD_OVERHEAD = 64 * 1024


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.import_job_list(user=request.user)  # type: ignore[arg-type]
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"page": page, "jobs": page.object_list})


def _apply_errors(form: Any, exc: ValidationFailed, default_field: str) -> None:
    for key, messages_ in exc.errors.items():
        target = key if key in form.fields else (None if key == "__all__" else default_field)
        for message in messages_:
            form.add_error(target, message)


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.can_import(user):  # type: ignore[arg-type]
        raise PermissionDenied("Only admins import CRM files.")
    context = {"max_bytes": services.max_upload_bytes(), "columns": COLUMNS}
    if request.method != "POST":
        return render(request, "imports/upload.html", {**context, "form": UploadForm()})
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > services.max_upload_bytes() + UPLOAD_OVERHEAD:
        context["upload_error"] = services.upload_too_large_message(declared)
        return render(request, "imports/upload.html", {**context, "form": UploadForm()}, status=413)
    form = UploadForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            job = services.import_job_create(
                actor=user,  # type: ignore[arg-type]
                upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                mapping=form.cleaned_data["mapping"],
                kind=form.cleaned_data["kind"] or "accounts",
                create_regions=form.cleaned_data["create_regions"],
                skip_unknown_owners=form.cleaned_data["skip_unknown_owners"],
            )
        except services.UploadTooLarge as exc:
            _apply_errors(form, exc, "file")
            status = 413
        except ValidationFailed as exc:
            _apply_errors(form, exc, "file")
        else:
            services.import_job_enqueue(job)
            return redirect("imports:detail", job_id=job.pk)
    return render(request, "imports/upload.html", {**context, "form": form}, status=status)


def _job_context(job: ImportJob) -> dict[str, Any]:
    return {
        "job": job,
        "lease_minutes": max(1, round(lease().total_seconds() / 60)),
        "shown_errors": (job.errors or [])[:SHOWN_ERRORS],
        "more_errors": max(0, job.error_count - SHOWN_ERRORS),
    }


@login_required
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job page; with ``HX-Request`` only its body, which htmx polls every second while the job runs."""
    job = selectors.import_job_for_user(request.user, job_id)  # type: ignore[arg-type]
    template = "imports/_job_body.html" if request.headers.get("HX-Request") else "imports/detail.html"
    return render(request, template, _job_context(job))


@login_required
@require_POST
def import_apply(request: HttpRequest, job_id: int) -> HttpResponse:
    """Import for real the file a clean dry run checked; or, for a file refused only for regions and owners
    Tamarind lacks, import it (``action=import``) or check it again (``action=check``) with the options chosen:
    ``create_regions``, ``skip_unknown_owners``."""
    dry = selectors.import_job_for_user(request.user, job_id)  # type: ignore[arg-type]
    try:
        job = services.import_job_apply(
            actor=request.user,  # type: ignore[arg-type]
            job=dry,
            create_regions=bool(request.POST.get("create_regions")),
            skip_unknown_owners=bool(request.POST.get("skip_unknown_owners")),
            dry_run=request.POST.get("action") == "check",
        )
    except ValidationFailed as exc:
        messages.error(request, str(exc))
        return redirect("imports:detail", job_id=dry.pk)
    services.import_job_enqueue(job)
    return redirect("imports:detail", job_id=job.pk)


@login_required
def import_errors_csv(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's errors as CSV: line, column, value, message (cells escaped for spreadsheets, like every export)."""
    job = selectors.import_job_for_user(request.user, job_id)  # type: ignore[arg-type]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stem = job.file_name.rsplit(".", 1)[0] or "import"
    response["Content-Disposition"] = f'attachment; filename="{stem}-errors.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the UTF-8 correctly
    writer = SafeWriter(response)
    writer.writerow(["line", "column", "value", "message"])
    for error in job.errors or []:
        writer.writerow([error.get("line") or "", error.get("column", ""), error.get("value", ""), error["message"]])
    if job.errors_truncated:
        writer.writerow(["", "", "", f"... and {job.error_count - len(job.errors)} more errors not stored"])
    return response


@login_required
def mapping_list(request: HttpRequest) -> HttpResponse:
    mappings = selectors.import_mapping_list(user=request.user)  # type: ignore[arg-type]
    return render(request, "imports/mappings.html", {"mappings": mappings})


def _mapping_context(form: MappingForm, mapping: ImportMapping | None = None) -> dict[str, Any]:
    return {
        "form": form,
        "mapping": mapping,
        "header_fields": [form[f"headers_{c.field}"] for c in COLUMNS],
        "synonym_fields": [form[f"synonyms_{f}"] for f in SYNONYM_FIELDS],
        "tabs": _tabs(mapping),
        "tab": "accounts",
    }


def _tabs(mapping: ImportMapping | None) -> list[dict[str, Any]]:
    """The mapping page's tabs: the account columns, then each usage / tickets file's headers (once it exists)."""
    if mapping is None:
        return []
    headers = mapping.headers or {}
    tabs: list[dict[str, Any]] = [
        {"kind": "accounts", "label": "Accounts", "url": reverse("imports:mapping_edit", args=[mapping.pk])}
    ]
    for kind in FILE_KINDS:
        extra = sum(len(v) for k, v in headers.items() if k.startswith(f"{kind}."))
        tabs.append(
            {
                "kind": kind,
                "label": kind_label(kind),
                "url": reverse("imports:mapping_kind", args=[mapping.pk, kind]),
                "extra": extra,
            }
        )
    return tabs


@login_required
@require_http_methods(["GET", "POST"])
def mapping_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.can_import(user):  # type: ignore[arg-type]
        raise PermissionDenied("Only admins manage import mappings.")
    if request.method == "POST":
        form = MappingForm(request.POST)
        if form.is_valid():
            try:
                mapping = services.import_mapping_create(
                    actor=user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    is_default=form.cleaned_data["is_default"],
                    headers=form.cleaned_data["headers"],
                    synonyms=form.cleaned_data["synonyms"],
                )
            except ValidationFailed as exc:
                _apply_errors(form, exc, "name")
            else:
                messages.success(request, f"Mapping “{mapping.name}” created.")
                return redirect("imports:mappings")
        return render(request, "imports/mapping_form.html", _mapping_context(form), status=400)
    form = MappingForm(initial=MappingForm.initial_for(None, default_headers()))
    return render(request, "imports/mapping_form.html", _mapping_context(form))


@login_required
@require_http_methods(["GET", "POST"])
def mapping_edit(request: HttpRequest, mapping_id: int) -> HttpResponse:
    mapping = selectors.import_mapping_for_user(request.user, mapping_id)  # type: ignore[arg-type]
    if request.method == "POST":
        form = MappingForm(request.POST)
        if form.is_valid():
            try:
                changed = services.import_mapping_update(
                    actor=request.user,  # type: ignore[arg-type]
                    mapping=mapping,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    is_default=form.cleaned_data["is_default"],
                    headers=form.cleaned_data["headers"],
                    synonyms=form.cleaned_data["synonyms"],
                )
            except ValidationFailed as exc:
                _apply_errors(form, exc, "name")
            else:
                if changed:
                    messages.success(request, f"Mapping “{mapping.name}” saved (version {mapping.version}).")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("imports:mappings")
        return render(request, "imports/mapping_form.html", _mapping_context(form, mapping), status=400)
    form = MappingForm(initial=MappingForm.initial_for(mapping))
    return render(request, "imports/mapping_form.html", _mapping_context(form, mapping))


@login_required
@require_http_methods(["GET", "POST"])
def mapping_kind_edit(request: HttpRequest, mapping_id: int, kind: str) -> HttpResponse:
    """The mapping page's tab for another kind of file (usage, tickets, CRM opportunities, ARR history): the extra header names those imports read with this mapping."""
    mapping = selectors.import_mapping_for_user(request_user(request), mapping_id)
    if kind not in FILE_KINDS:
        raise Http404("No such file kind.")
    status = 200
    if request.method == "POST":
        form = KindHeadersForm(request.POST, kind=kind)
        status = 400
        if form.is_valid():
            try:
                changed = services.import_mapping_set_kind_headers(
                    actor=request_user(request), mapping=mapping, kind=kind, headers=form.cleaned_data["headers"]
                )
            except ValidationFailed as exc:
                _apply_errors(form, exc, next(iter(form.fields)))
            else:
                if changed:
                    messages.success(
                        request, f"{kind_label(kind)} headers of “{mapping.name}” saved (version {mapping.version})."
                    )
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("imports:mapping_kind", mapping_id=mapping.pk, kind=kind)
    else:
        form = KindHeadersForm(initial=KindHeadersForm.initial_for(mapping, kind), kind=kind)
    context = {
        "mapping": mapping,
        "form": form,
        "kind": kind,
        "kind_label": kind_label(kind),
        "tabs": _tabs(mapping),
        "tab": kind,
    }
    return render(request, "imports/mapping_kind.html", context, status=status)
