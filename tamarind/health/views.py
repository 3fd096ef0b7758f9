"""Health pages: setting the TAM sentiment from the account page (htmx answers with the refreshed panel), and the
health model's versions (everyone reads; admins save a new version)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.health import selectors, services
from tamarind.health.forms import SentimentForm
from tamarind.health.models import HealthModelVersion
from tamarind.health.panels import account_health


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
@require_http_methods(["GET", "POST"])
def model_versions(request: HttpRequest) -> HttpResponse:
    """The live health model and every saved version; admins save the edited definition as the next version."""
    user = request_user(request)
    if not policy.can_read_health_model(user):
        raise PermissionDenied
    can_edit = policy.can_edit_health_model(user)
    live = selectors.live_version()
    text = json.dumps(live.definition, indent=2)
    note = ""
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only admins change the health model.")
        text, note = request.POST.get("definition", ""), request.POST.get("note", "")
        try:
            definition = json.loads(text)
        except ValueError as exc:
            errors = {"definition": [f"Not valid JSON: {exc}"]}
        else:
            try:
                version = services.health_model_save(actor=user, definition=definition, note=note, source="web")
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                messages.success(request, f"Saved version {version.version}; scores follow at the next full recompute.")
                return redirect("health:model")
        status = 400
    versions = list(HealthModelVersion.objects.select_related("created_by").order_by("-version")[:50])
    context = {"live": live, "versions": versions, "can_edit": can_edit, "text": text, "note": note, "errors": errors}
    return render(request, "health/model.html", context, status=status)
