"""Health pages: setting the TAM sentiment from the account page (htmx answers with the refreshed panel), and the
health model: its page and each version's (everyone reads), and the editor with its preview (admins save a new
version)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.health import preview, selectors, services
from tamarind.health.forms import SentimentForm, editor_forms, editor_mode
from tamarind.health.models import HealthModelDraft
from tamarind.health.panels import account_health
from tamarind.health.spec import SpecError, definition_summary, parse_spec


@login_required
@require_http_methods(["POST"])
def sentiment_set(request: HttpRequest, account_id: int) -> HttpResponse:
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_set_sentiment(user, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins set its sentiment.")
    form = SentimentForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.sentiment_set(actor=user, account=account, **form.service_data(), source="web")
        except ValidationFailed as exc:
            add_service_errors(form, exc)
            status = 400
        else:
            if not request.headers.get("HX-Request"):
                messages.success(request, "Sentiment saved.")
                return redirect("accounts:detail", account_id=account.pk)
            form = SentimentForm()
    else:
        status = 400
    if not request.headers.get("HX-Request"):
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("accounts:detail", account_id=account.pk)
    context = {
        **account_health(user=user, account=account, form=form),
        "account": account,
        "health_saved": status == 200,
    }
    return render(request, "health/_account_panel.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def model_versions(request: HttpRequest) -> HttpResponse:
    """The live health model laid out for reading, and every saved version (everyone signed in reads)."""
    user = request_user(request)
    if not policy.can_read_health_model(user):
        raise PermissionDenied
    live = selectors.live_version()
    context = {
        "live": live,
        "summary": definition_summary(live.definition),
        "versions": preview.model_versions(),
        "can_edit": policy.can_edit_health_model(user),
        "text": json.dumps(live.definition, indent=2),
        "runs": selectors.recent_runs(),
    }
    return render(request, "health/model.html", context)


@login_required
@require_http_methods(["GET"])
def model_version(request: HttpRequest, version: int) -> HttpResponse:
    """One version laid out for reading, with what changed from the version before it."""
    user = request_user(request)
    if not policy.can_read_health_model(user):
        raise PermissionDenied
    page = preview.model_version_page(version)
    context = {
        "page": page,
        "summary": definition_summary(page.version.definition),
        "text": json.dumps(page.version.definition, indent=2),
    }
    return render(request, "health/version.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request: HttpRequest) -> HttpResponse:
    """The editor (admins): one field per setting, or the raw JSON ("Advanced"); POST saves the next version."""
    user = request_user(request)
    if not policy.can_edit_health_model(user):
        raise PermissionDenied("Only admins change the health model.")
    live = selectors.live_version()
    mode = editor_mode(request.POST) if request.method == "POST" else "form"
    # ``?draft=<id>``: the editor opens a kept draft (e.g. the signals' suggested weights) instead of the live model,
    # and previews it at once; saving it is the ordinary save of the next version.
    draft = _draft(request.GET.get("draft")) if request.method == "GET" and "draft" in request.GET else None
    fields, raw = editor_forms(
        request.POST if request.method == "POST" else None,
        definition=draft.definition if draft else live.definition,
        mode=mode,
    )
    if draft is not None:
        fields.initial["note"] = draft.note
        raw.initial["note"] = draft.note
    status = 200
    if request.method == "POST":
        active = raw if mode == "json" else fields
        if active.is_valid():
            try:
                version = services.health_model_save(
                    actor=user, definition=active.to_definition(), note=active.cleaned_data["note"], source="web"
                )
            except ValidationFailed as exc:
                active.place_errors(exc.errors)
            else:
                messages.success(request, f"Saved version {version.version}; scores follow at the next full recompute.")
                return redirect("health:model")
        status = 400
    context = {"live": live, "form": fields, "raw": raw, "mode": mode, "draft": draft}
    return render(request, "health/edit.html", context, status=status)


def _draft(value: str | None) -> HealthModelDraft:
    """The draft named in the query string (404 when there is none such)."""
    try:
        pk = int(value or "")
    except ValueError:
        raise Http404("No such health model draft.") from None
    draft = HealthModelDraft.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if draft is None:
        raise Http404("No such health model draft.")
    return draft


@login_required
@require_http_methods(["POST"])
def model_preview(request: HttpRequest) -> HttpResponse:
    """The editor's draft scored over every account beside the live model (htmx renders the result panel)."""
    user = request_user(request)
    if not policy.can_edit_health_model(user):
        raise PermissionDenied("Only admins change the health model.")
    live = selectors.live_version()
    fields, raw = editor_forms(request.POST, definition=live.definition, mode=editor_mode(request.POST))
    active = raw if editor_mode(request.POST) == "json" else fields
    if not active.is_valid():
        return render(request, "health/_preview.html", {"invalid": True, "errors": active.error_list()}, status=400)
    try:
        draft = parse_spec(active.to_definition())
    except SpecError as exc:
        active.place_errors(exc.errors)
        return render(request, "health/_preview.html", {"invalid": True, "errors": active.error_list()}, status=400)
    result = preview.health_model_preview(draft)
    context = {"result": result, "same": draft.to_json() == live.definition}
    return render(request, "health/_preview.html", context)
