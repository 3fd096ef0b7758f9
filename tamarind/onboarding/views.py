"""Onboarding pages: the record (dates, checklist, notes, score, time-to-value metrics), the list, the targets."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.onboarding import selectors, services
from tamarind.onboarding.forms import OnboardingForm, OnboardingTargetsForm, StepForm, onboarding_initial
from tamarind.onboarding.models import STEP_BY_KEY, STEPS, TARGET_FIELDS, Onboarding, OnboardingStatus
from tamarind.people.models import User

PAGE_SIZE = 50


def _record_context(user: User, onboarding: Onboarding, form: OnboardingForm | None = None) -> dict[str, Any]:
    targets = selectors.onboarding_targets()
    can_write = policy.can_write_onboarding(user, onboarding)
    if can_write and form is None:
        form = OnboardingForm(initial=onboarding_initial(onboarding))
    return {
        "onboarding": onboarding,
        "account": onboarding.account,
        "targets": targets,
        "metrics": selectors.onboarding_metrics(onboarding, targets.as_days()),
        "steps": [(step, getattr(onboarding, step.field)) for step in STEPS],
        "can_write": can_write,
        "form": form,
    }


@login_required
@require_http_methods(["GET", "POST"])
def onboarding_detail(request: HttpRequest, onboarding_id: int) -> HttpResponse:
    """The record page; a POST saves the record form ("Complete onboarding" also sets the status)."""
    user = request_user(request)
    onboarding = selectors.onboarding_for_user(user, onboarding_id, write=request.method == "POST")
    form = None
    status = 200
    if request.method == "POST":
        form = OnboardingForm(request.POST)
        if form.is_valid():
            changes = form.changes()
            completing = "complete" in request.POST
            if completing:
                changes["status"] = OnboardingStatus.COMPLETED
            try:
                services.onboarding_update(actor=user, onboarding=onboarding, changes=changes, source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Onboarding completed." if completing else "Onboarding saved.")
                return redirect("onboarding:detail", onboarding_id=onboarding.pk)
        status = 400
    context = _record_context(user, onboarding, form)
    context["history"] = selectors.onboarding_history(onboarding=onboarding)
    return render(request, "onboarding/detail.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def onboarding_step(request: HttpRequest, onboarding_id: int, step: str) -> HttpResponse:
    """Tick or untick one checklist step (htmx swaps the checklist, the metrics and the milestone dates)."""
    user = request_user(request)
    onboarding = selectors.onboarding_for_user(user, onboarding_id, write=True)
    found = STEP_BY_KEY.get(step)
    if found is None:
        raise Http404("No such onboarding step.")
    form = StepForm(request.POST)
    status = 200
    error = ""
    if form.is_valid():
        done_on = (form.cleaned_data["on"] or timezone.localdate()) if form.cleaned_data["done"] else None
        try:
            services.onboarding_update(actor=user, onboarding=onboarding, changes={found.field: done_on}, source="web")
        except ValidationFailed as exc:
            error, status = str(exc), 400
    else:
        error, status = "Enter the day the step was done (YYYY-MM-DD).", 400
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        return redirect("onboarding:detail", onboarding_id=onboarding.pk)
    context = _record_context(user, onboarding)
    context.update(oob=True, step_error=error)
    return render(request, "onboarding/_steps.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def onboarding_list(request: HttpRequest) -> HttpResponse:
    """ "My onboarding" for a TAM; everyone's within reach for managers, directors and admins; filterable."""
    user = request_user(request)
    filters = selectors.OnboardingFilters.from_params(request.GET, user=user)
    targets = selectors.onboarding_targets()
    target_days = targets.as_days()
    records = selectors.onboarding_list(user=user, filters=filters, targets=target_days)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(o, selectors.onboarding_metrics(o, target_days, today)) for o in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "targets": targets,
        "statuses": OnboardingStatus.choices,
        "tams": User.objects.active().tams().order_by("full_name"),
        "can_edit_targets": policy.can_edit_onboarding_targets(user),
    }
    return render(request, "onboarding/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def onboarding_targets(request: HttpRequest) -> HttpResponse:
    """The time-to-value targets: everyone reads them; admins change them (audited)."""
    user = request_user(request)
    can_edit = policy.can_edit_onboarding_targets(user)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only admins change the onboarding targets.")
    targets = selectors.onboarding_targets()
    form = OnboardingTargetsForm(request.POST or None, initial={f: getattr(targets, f) for f in TARGET_FIELDS})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.onboarding_targets_update(actor=user, changes=form.cleaned_data, source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Targets saved.")
                return redirect("onboarding:targets")
        status = 400
    context = {"form": form, "targets": targets, "can_edit": can_edit}
    return render(request, "onboarding/targets.html", context, status=status)
