"""Signals pages: the back-test of every signal (filters by htmx), one signal's detail with its trust label, and
the admin's trust decision. Thin: parse, gate (policy), read (selectors), call a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.models import Segment
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.people.models import User
from tamarind.signals import history, selectors, services
from tamarind.signals import weights as suggested
from tamarind.signals.models import SignalTrust


def _signals_user(request: HttpRequest) -> User:
    user = request_user(request)
    if not policy.can_view_signals(user):
        raise PermissionDenied("The Signals back-test is for TAMs, managers, directors and admins.")
    return user


def _filter_context(filters: selectors.BacktestFilters) -> dict[str, object]:
    return {
        "filters": filters,
        "segments": Segment.choices,
        "regions": selectors.regions(),
        "iterations": selectors.iterations(),
        "models": selectors.engagement_models(),
    }


@login_required
@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    """Every signal's precision, recall, lift and lead time at each horizon, with 95% intervals; the health
    score's AUC and calibration. An htmx request (the filters) gets the results fragment only."""
    user = _signals_user(request)
    filters = selectors.BacktestFilters.from_params(request.GET)
    result = selectors.run_backtest(user=user, filters=filters)
    result.signals.sort(key=lambda s: not s["trusted"])
    context = {"result": result, "filters": filters, "can_manage": policy.can_manage_signals(user)}
    if request.headers.get("HX-Request"):
        return render(request, "signals/_results.html", context)
    return render(request, "signals/index.html", {**context, **_filter_context(filters)})


def _known(key: str) -> str:
    if key not in history.signal_keys():
        raise Http404("No such signal.")
    return key


@login_required
@require_http_methods(["GET"])
def detail(request: HttpRequest, key: str) -> HttpResponse:
    """One signal: its figures at each horizon, what its history covers, its trust label's versions."""
    user = _signals_user(request)
    key = _known(key)
    filters = selectors.BacktestFilters.from_params(request.GET)
    result = selectors.run_backtest(user=user, filters=filters, keys=[key])
    return render(
        request,
        "signals/detail.html",
        {
            "result": result,
            "signal": result.signals[0],
            "versions": list(SignalTrust.objects.filter(key=key).select_related("decided_by").order_by("-version")),
            "can_manage": policy.can_manage_signals(user),
            **_filter_context(filters),
        },
    )


@login_required
@require_http_methods(["POST"])
def trust(request: HttpRequest, key: str) -> HttpResponse:
    """An admin marks the signal trusted (only when its evidence clears the thresholds) or unproven."""
    user = _signals_user(request)
    key = _known(key)
    if not policy.can_manage_signals(user):
        raise PermissionDenied("Only an admin sets trust labels.")
    trusted = request.POST.get("trusted") == "1"
    try:
        services.signal_trust_set(
            actor=user,
            key=key,
            trusted=trusted,
            evidence=selectors.trust_evidence(user=user, key=key),
            note=request.POST.get("note", ""),
        )
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for msgs in exc.errors.values() for m in msgs))
        return redirect("signals:detail", key=key)
    messages.success(request, "Marked trusted." if trusted else "Marked unproven.")
    return redirect("signals:detail", key=key)


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest) -> HttpResponse:
    """The back-test settings: read by whoever reads the Signals page, changed by admins only (through the
    audited service), with the latest audited changes beneath."""
    from tamarind.core.forms import add_service_errors
    from tamarind.signals.models import BacktestSettings
    from tamarind.signals.settings_forms import BacktestSettingsForm

    user = _signals_user(request)
    can_edit = policy.can_manage_signals(user)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only an admin changes the back-test settings.")
    row = BacktestSettings.load()
    form = BacktestSettingsForm(request.POST or None, initial=BacktestSettingsForm.initial_from(row))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.backtest_settings_update(actor=user, source="web", **form.cleaned_data)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Back-test settings saved.")
                return redirect("signals:settings")
        status = 400
    context = {"form": form, "row": row, "can_edit": can_edit, "changes": selectors.settings_changes()}
    return render(request, "signals/settings.html", context, status=status)


# --- Suggested weights ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def weights_page(request: HttpRequest) -> HttpResponse:
    """The health model's weights fitted on the back-test's outcomes beside the current ones, with their effect on
    precision and recall (or why nothing could be fitted). An htmx request (the filters) gets the results only."""
    user = _signals_user(request)
    filters = selectors.BacktestFilters.from_params(request.GET)
    suggestion = suggested.suggest_weights(user=user, filters=filters)
    fit = suggestion.fit
    context = {
        "suggestion": suggestion,
        "fit": fit,
        "rows": [
            (
                e_current,
                suggested.effect(fit, "suggested", e_current.threshold),
            )
            for e_current in fit.effects
            if e_current.weights == "current"
        ],
        "filters": filters,
        "can_draft": policy.can_draft_health_weights(user),
    }
    if request.headers.get("HX-Request"):
        return render(request, "signals/_weights.html", context)
    return render(request, "signals/weights.html", {**context, **_filter_context(filters)})


@login_required
@require_http_methods(["POST"])
def weights_draft(request: HttpRequest) -> HttpResponse:
    """An admin turns the suggested weights (fitted again here, over the same filters) into a draft of the health
    model and lands on the editor with the draft and its preview; a fit that suggests nothing says why."""
    user = _signals_user(request)
    if not policy.can_draft_health_weights(user):
        raise PermissionDenied("Only an admin makes a draft of the health model.")
    filters = selectors.BacktestFilters.from_params(request.POST)
    back = reverse("signals:weights") + (f"?{filters.query()}" if filters.query() else "")
    fit = suggested.suggest_weights(user=user, filters=filters).fit
    try:
        draft = services.signal_weights_draft(actor=user, fit=fit, source="web")
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for msgs in exc.errors.values() for m in msgs))
        return redirect(back)
    messages.success(request, f"Draft {draft.pk} made: preview it, then save it as the next version.")
    return redirect(reverse("health:model_edit") + f"?draft={draft.pk}")
