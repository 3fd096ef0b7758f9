"""Engagement pages: the models (admins edit them), an account's placement and history, capacity, the what-if
planner (read-only), iterations and their comparison."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.assignment.rules import RuleError, describe
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.engagement import selectors, services
from tamarind.engagement.comparison import compare
from tamarind.engagement.models import INDICATORS, METRICS, EngagementModel
from tamarind.engagement.placement import parse_criteria


def _errors(exc: ValidationFailed) -> str:
    return " ".join(f"{k}: {m}" if k != "__all__" else m for k, msgs in exc.errors.items() for m in msgs)


def _describe(model: EngagementModel) -> list[str]:
    try:
        return [describe(c) for c in parse_criteria(model.criteria).conditions] or ["Every account"]
    except RuleError:
        return ["(criteria do not parse)"]


@login_required
@require_http_methods(["GET"])
def model_list(request: HttpRequest) -> HttpResponse:
    """The engagement models, in precedence order, with their criteria in words."""
    user = request_user(request)
    models = list(selectors.models_list())
    for m in models:
        m.criteria_text = _describe(m)  # type: ignore[attr-defined]
        m.metric_labels = [METRICS.get(k, k) for k in m.metrics]  # type: ignore[attr-defined]
        m.indicator_labels = [INDICATORS.get(k, k) for k in m.indicators]  # type: ignore[attr-defined]
    return render(
        request,
        "engagement/models.html",
        {"models": models, "can_edit": policy.can_edit_engagement_models(user)},
    )


def _model_data(post: Any) -> dict[str, Any]:
    """The form's fields as service data; the JSON fields are parsed (a parse error is a field error)."""
    data: dict[str, Any] = {}
    for name in ("key", "name", "description", "precedence"):
        if name in post:
            data[name] = post.get(name, "")
    if "key" in data and not data["key"]:
        del data["key"]
    data["tam_managed"] = post.get("tam_managed") == "on"
    data["is_active"] = post.get("is_active") == "on" if "is_active_present" in post else True
    for name in ("criteria", "cadence_days"):
        raw = post.get(name, "")
        try:
            data[name] = (
                json.loads(raw)
                if raw.strip()
                else ({} if name == "cadence_days" else {"match": "all", "conditions": []})
            )
        except json.JSONDecodeError as exc:
            raise ValidationFailed({name: [f"Not valid JSON: {exc.msg} (line {exc.lineno})."]}) from None
    data["services"] = [line.strip() for line in post.get("services", "").splitlines() if line.strip()]
    data["metrics"] = post.getlist("metrics")
    data["indicators"] = post.getlist("indicators")
    return data


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """Create (no key) or change a model. Admins only; everyone else reads the list."""
    user = request_user(request)
    model = selectors.engagement_model_get(key) if key else None
    if not policy.can_edit_engagement_models(user):
        raise PermissionDenied("Only admins change engagement models.")
    error = ""
    values: dict[str, Any] = {}
    if request.method == "POST":
        try:
            data = _model_data(request.POST)
            saved = services.engagement_model_save(actor=user, data=data, model=model)
        except ValidationFailed as exc:
            error = _errors(exc)
            values = {k: request.POST.get(k, "") for k in request.POST}
            values["metrics"] = request.POST.getlist("metrics")
            values["indicators"] = request.POST.getlist("indicators")
        else:
            messages.success(request, f"Saved {saved.name}.")
            return redirect("engagement:models")
    elif model is not None:
        values = {
            "key": model.key,
            "name": model.name,
            "description": model.description,
            "precedence": "" if model.precedence is None else model.precedence,
            "criteria": json.dumps(model.criteria, indent=2),
            "cadence_days": json.dumps(model.cadence_days),
            "services": "\n".join(model.services),
            "metrics": model.metrics,
            "indicators": model.indicators,
            "tam_managed": "on" if model.tam_managed else "",
            "is_active": "on" if model.is_active else "",
        }
    else:
        values = {
            "criteria": json.dumps({"match": "all", "conditions": []}, indent=2),
            "cadence_days": "{}",
            "tam_managed": "on",
            "is_active": "on",
            "metrics": [],
            "indicators": [],
        }
    return render(
        request,
        "engagement/model_edit.html",
        {"model": model, "values": values, "error": error, "metrics": METRICS, "indicators": INDICATORS},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_placement(request: HttpRequest, account_id: int) -> HttpResponse:
    """An account's model, its moves (each dated, with who and why), and placing it by hand with a reason."""
    user = request_user(request)
    account = account_for_user(user, account_id, write=request.method == "POST")
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("release"):
                services.account_release(actor=user, account=account)
            else:
                services.account_place(
                    actor=user,
                    account=account,
                    model_key=request.POST.get("model", ""),
                    reason=request.POST.get("reason", ""),
                )
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, "Placement saved.")
            return redirect("engagement:account", account_id=account.pk)
    names = selectors.model_names()
    history = list(selectors.placement_history(account))
    return render(
        request,
        "engagement/account.html",
        {
            "account": account,
            "model_name": names.get(account.engagement_model, account.engagement_model),
            "history": history,
            "names": names,
            "pinned": bool(history) and history[0].source == "manual",
            "can_place": policy.can_place_account(user, account),
            "error": error,
        },
        status=400 if error else 200,
    )


def _capacity_gate(request: HttpRequest) -> Any:
    user = request_user(request)
    if not policy.can_view_capacity(user):
        raise PermissionDenied("Capacity is for managers, directors and admins.")
    return user


@login_required
@require_http_methods(["GET", "POST"])
def capacity(request: HttpRequest) -> HttpResponse:
    """Accounts, ARR and priority 1 share per TAM against the targets; admins edit the targets here."""
    user = _capacity_gate(request)
    error = ""
    if request.method == "POST":
        if not policy.can_edit_engagement_models(user):
            raise PermissionDenied("Only admins change the capacity targets.")
        try:
            services.capacity_settings_update(
                actor=user,
                changes={k: request.POST.get(k, "") for k in ("target_arr_per_tam", "target_p1_share")},
            )
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, "Capacity targets saved.")
            return redirect("engagement:capacity")
    return render(
        request,
        "engagement/capacity.html",
        {"capacity": selectors.capacity(user), "can_edit": policy.can_edit_engagement_models(user), "error": error},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET"])
def whatif(request: HttpRequest) -> HttpResponse:
    """The what-if planner: a draft of each model's criteria applied to today's book; nothing is written."""
    user = _capacity_gate(request)
    models = list(selectors.models_list())
    drafts: dict[str, Any] = {}
    texts: dict[str, str] = {}
    error = ""
    for m in models:
        raw = request.GET.get(f"draft_{m.key}")
        texts[m.key] = raw if raw is not None else json.dumps(m.criteria)
        if raw is not None and raw.strip() and raw.strip() != json.dumps(m.criteria):
            try:
                drafts[m.key] = json.loads(raw)
            except json.JSONDecodeError as exc:
                error = f"{m.name}: not valid JSON ({exc.msg})."
    result = None
    if not error:
        try:
            result = selectors.whatif(user, drafts)
        except RuleError as exc:
            error = "The draft does not parse: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
    rows = [{"model": m, "text": texts[m.key], "changed": m.key in drafts} for m in models]
    return render(
        request,
        "engagement/whatif.html",
        {"rows": rows, "result": result, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def iteration_list(request: HttpRequest) -> HttpResponse:
    """Iterations, oldest first; admins record a new one (its dates may not overlap another's)."""
    user = _capacity_gate(request)
    error = ""
    if request.method == "POST":
        if not policy.can_edit_engagement_models(user):
            raise PermissionDenied("Only admins record iterations.")
        try:
            it = services.iteration_create(
                actor=user, data={k: request.POST.get(k, "") for k in ("name", "starts_on", "ends_on", "notes")}
            )
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, f"Recorded {it.name}.")
            return redirect("engagement:iterations")
    return render(
        request,
        "engagement/iterations.html",
        {
            "iterations": list(selectors.iterations()),
            "can_edit": policy.can_edit_engagement_models(user),
            "error": error,
            "values": request.POST,
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET"])
def comparison(request: HttpRequest) -> HttpResponse:
    """Iterations and models side by side (the chosen iterations, or every one)."""
    user = _capacity_gate(request)
    all_its = list(selectors.iterations())
    chosen_ids = {int(v) for v in request.GET.getlist("it") if v.isdigit()}
    chosen = [i for i in all_its if i.pk in chosen_ids] or all_its
    result = compare(chosen, region_id=policy.capacity_region_id(user)) if chosen else None
    return render(
        request,
        "engagement/compare.html",
        {"iterations": all_its, "chosen": {i.pk for i in chosen}, "result": result},
    )
