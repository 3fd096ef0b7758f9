"""Success plan pages: the *Success plans* list with its coverage, the plan page (objectives and tasks edited in
place with htmx), its printable page, the manager's and peers' reviews, the review picks, EBRs and the export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.success import exports, selectors, services
from tamarind.success.models import (
    ANSWER_FIELDS,
    NOTE_FIELDS,
    OBJECTIVE_FIELDS,
    PLAN_TASK_FIELDS,
    QUESTIONS,
    Answer,
    EbrStatus,
    ObjectiveCategory,
    ObjectivePriority,
    ObjectiveStatus,
    PlanStatus,
    PlanTaskStatus,
    ReviewKind,
    ReviewStatus,
    Risk,
    Verdict,
)


def _pick(post: QueryDict, keys: Any) -> dict[str, Any]:
    return {k: post.get(k) for k in keys if k in post}


def _choices() -> dict[str, Any]:
    return {
        "plan_statuses": [c for c in PlanStatus.choices if c[0] != PlanStatus.ARCHIVED],
        "categories": ObjectiveCategory.choices,
        "objective_statuses": ObjectiveStatus.choices,
        "priorities": ObjectivePriority.choices,
        "task_statuses": PlanTaskStatus.choices,
        "risks": Risk.choices,
        "answers": Answer.choices,
        "verdicts": Verdict.choices,
        "ebr_statuses": EbrStatus.choices,
    }


# --- List, picks, export ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every account of the user's scope with its plan's color and reasons, filtered; the coverage on top."""
    user = request_user(request)
    filters = selectors.PlanFilters.from_params(request.GET)
    if request.GET.get("part") == "breakdown":
        # The per-region / TAM / segment / engagement model figures, loaded when their section is opened.
        return render(
            request, "success/_coverage_groups.html", {"coverage": selectors.coverage(user=user, filters=filters)}
        )
    context = {
        "filters": filters,
        "page": selectors.plan_rows(user=user, filters=filters),
        "coverage": selectors.coverage(user=user, filters=filters, groups=False),
        "colors": [("green", "Green"), ("yellow", "Yellow"), ("red", "Red (incl. no plan)"), ("none", "No plan")],
        "cohorts": [
            ("new", "New customers past the window"),
            ("new_planned", "… with a plan in time"),
            ("new_unplanned", "… without a plan in time"),
        ],
        **selectors.list_choices(user=user),
    }
    return render(request, "success/list.html", context)


@login_required
@require_http_methods(["GET"])
def review_picks(request: HttpRequest) -> HttpResponse:
    """Suggested plans for the manager's next 1:1s: two per TAM, never reviewed first, then oldest review."""
    user = request_user(request)
    return render(request, "success/picks.html", {"picks": selectors.review_picks(user=user)})


@login_required
@require_http_methods(["GET"])
def plan_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current plans of the user's scope as CSV, one row per objective (the import's format)."""
    user = request_user(request)
    response = StreamingHttpResponse(exports.plan_rows_csv(user=user), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="success_plans.csv"'
    return response


# --- Plans ------------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest, account_id: int) -> HttpResponse:
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_write_success_plan(user, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins write its success plan.")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = _pick(request.POST, ("status", "why_bought", "strategy", "highlights", "start_on", "template"))
        try:
            plan = services.success_plan_create(actor=user, account=account, data=data)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, f"Success plan started for {account.name}.")
            return redirect("success:plan", plan_id=plan.pk)
    context = {
        "account": account,
        "errors": errors,
        "values": request.POST,
        "template": services.template_for(account),
        **_choices(),
    }
    return render(request, "success/new.html", context, status=400 if errors else 200)


def _plan_context(request: HttpRequest, plan: Any, **extra: Any) -> dict[str, Any]:
    user = request_user(request)
    context = selectors.plan_page(user=user, plan=plan)
    if context["can_write"]:
        context["owners"] = selectors.owner_choices(account=plan.account)
        context["peers"] = selectors.peer_candidates(plan=plan)
    context.update(_choices())
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan page; POST saves the plan's own fields (status, why they bought, strategy, highlights, start)."""
    user = request_user(request)
    plan = selectors.plan_for_user(user, plan_id, write=request.method == "POST")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = _pick(request.POST, ("status", "why_bought", "strategy", "highlights", "start_on"))
        try:
            changed = services.success_plan_update(actor=user, plan=plan, changes=data)
        except ValidationFailed as exc:
            errors = exc.errors
            plan.refresh_from_db()
        else:
            messages.success(request, "Plan saved." if changed else "Nothing changed.")
            return redirect("success:plan", plan_id=plan.pk)
    context = _plan_context(request, plan, errors=errors)
    return render(request, "success/plan.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET"])
def plan_print(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan to share with the customer: strategy, highlights, objectives and tasks; no internal reviews."""
    user = request_user(request)
    plan = selectors.plan_for_user(user, plan_id)
    return render(request, "success/print.html", selectors.plan_page(user=user, plan=plan))


@login_required
@require_http_methods(["POST"])
def plan_archive(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = request_user(request)
    plan = selectors.plan_for_user(user, plan_id, write=True)
    services.success_plan_archive(actor=user, plan=plan)
    messages.success(request, "Plan archived; it stays here, read-only. Start a new one from the account page.")
    return redirect("success:plan", plan_id=plan.pk)


# --- Objectives and tasks (htmx) -----------------------------------------------------------------------------------


def _objective_fragment(
    request: HttpRequest, objective: Any, errors: dict[str, list[str]], status: int = 200
) -> HttpResponse:
    plan = objective.plan
    context = _plan_context(request, plan)
    objective = next((o for o in context["objectives"] if o.pk == objective.pk), objective)
    context.update(objective=objective, errors=errors)
    return render(request, "success/_objective.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def objective_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = request_user(request)
    plan = selectors.plan_for_user(user, plan_id, write=True)
    try:
        services.objective_create(actor=user, plan=plan, data=_pick(request.POST, OBJECTIVE_FIELDS))
    except ValidationFailed as exc:
        context = _plan_context(request, plan, objective_errors=exc.errors, objective_values=request.POST)
        return render(request, "success/plan.html", context, status=400)
    messages.success(request, "Objective added.")
    return redirect("success:plan", plan_id=plan.pk)


@login_required
@require_http_methods(["POST"])
def objective_edit(request: HttpRequest, objective_id: int) -> HttpResponse:
    """Save an objective in place (htmx answers its card; without htmx, back to the plan)."""
    user = request_user(request)
    objective = selectors.objective_for_user(user, objective_id, write=True)
    try:
        services.objective_update(actor=user, objective=objective, changes=_pick(request.POST, OBJECTIVE_FIELDS))
    except ValidationFailed as exc:
        objective.refresh_from_db()
        return _objective_fragment(request, objective, exc.errors, status=400)
    if request.headers.get("HX-Request"):
        objective.refresh_from_db()
        return _objective_fragment(request, objective, {})
    return redirect("success:plan", plan_id=objective.plan_id)


@login_required
@require_http_methods(["POST"])
def task_add(request: HttpRequest, objective_id: int) -> HttpResponse:
    user = request_user(request)
    objective = selectors.objective_for_user(user, objective_id, write=True)
    errors: dict[str, list[str]] = {}
    try:
        services.plan_task_create(actor=user, objective=objective, data=_pick(request.POST, PLAN_TASK_FIELDS))
    except ValidationFailed as exc:
        errors = exc.errors
    if request.headers.get("HX-Request") or errors:
        return _objective_fragment(request, objective, errors, status=400 if errors else 200)
    return redirect("success:plan", plan_id=objective.plan_id)


@login_required
@require_http_methods(["POST"])
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    user = request_user(request)
    task = selectors.plan_task_for_user(user, task_id, write=True)
    errors: dict[str, list[str]] = {}
    try:
        services.plan_task_update(actor=user, task=task, changes=_pick(request.POST, PLAN_TASK_FIELDS))
    except ValidationFailed as exc:
        errors = exc.errors
    if request.headers.get("HX-Request") or errors:
        return _objective_fragment(request, task.objective, errors, status=400 if errors else 200)
    return redirect("success:plan", plan_id=task.objective.plan_id)


# --- Reviews --------------------------------------------------------------------------------------------------------


def _review_data(post: QueryDict) -> dict[str, Any]:
    return _pick(post, (*ANSWER_FIELDS, *NOTE_FIELDS, "verdict", "coaching"))


def _questions(values: Any) -> list[dict[str, Any]]:
    return [
        {
            "number": i + 1,
            "question": q,
            "field": ANSWER_FIELDS[i],
            "notes_field": NOTE_FIELDS[i],
            "value": values.get(ANSWER_FIELDS[i], "") if values else "",
            "notes": values.get(NOTE_FIELDS[i], "") if values else "",
        }
        for i, q in enumerate(QUESTIONS)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def review_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The manager's review of a plan: the six questions, a verdict and coaching notes; peers' reviews beside it."""
    user = request_user(request)
    plan = selectors.plan_for_user(user, plan_id)
    if not policy.can_manager_review_plan(user, plan):
        raise PermissionDenied("Only the region's TAM Manager and admins record a manager review.")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.plan_review_record(actor=user, plan=plan, data=_review_data(request.POST))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, "Review recorded.")
            return redirect("success:plan", plan_id=plan.pk)
    context = selectors.plan_page(user=user, plan=plan)
    context.update(
        errors=errors,
        questions=_questions(request.POST if request.method == "POST" else None),
        values=request.POST,
        kind=ReviewKind.MANAGER,
        **_choices(),
    )
    return render(request, "success/review_form.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["POST"])
def peer_request(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = request_user(request)
    plan = selectors.plan_for_user(user, plan_id, write=True)
    try:
        review = services.peer_review_request(actor=user, plan=plan, reviewer=request.POST.get("reviewer"))
    except ValidationFailed as exc:
        context = _plan_context(request, plan, peer_errors=exc.errors)
        return render(request, "success/plan.html", context, status=400)
    messages.success(request, f"Asked {review.reviewer.full_name} for a peer review.")
    return redirect("success:plan", plan_id=plan.pk)


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    """A review; a requested peer review is answered here by its reviewer."""
    user = request_user(request)
    review = selectors.review_for_user(user, review_id)
    answering = review.status == ReviewStatus.REQUESTED and policy.can_answer_review(user, review)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not answering:
            raise PermissionDenied("Only the person asked answers this peer review, once.")
        try:
            services.peer_review_answer(actor=user, review=review, data=_review_data(request.POST))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, "Peer review recorded.")
            return redirect("success:review", review_id=review.pk)
    context = selectors.plan_page(user=user, plan=review.plan)
    context.update(
        review=review,
        answering=answering,
        errors=errors,
        questions=_questions(request.POST if request.method == "POST" else None),
        values=request.POST,
        **_choices(),
    )
    return render(request, "success/review.html", context, status=400 if errors else 200)


# --- EBRs -----------------------------------------------------------------------------------------------------------

EBR_KEYS = ("status", "held_on", "attendees", "outcome", "materials_url")


@login_required
@require_http_methods(["GET", "POST"])
def ebr_new(request: HttpRequest, account_id: int) -> HttpResponse:
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_write_success_plan(user, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins record its EBRs.")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.ebr_create(actor=user, account=account, data=_pick(request.POST, EBR_KEYS))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, "EBR recorded.")
            return redirect("accounts:detail", account_id=account.pk)
    context = {
        "account": account,
        "ebr": None,
        "errors": errors,
        "values": request.POST,
        "can_write": True,
        **_choices(),
    }
    return render(request, "success/ebr.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def ebr_detail(request: HttpRequest, ebr_id: int) -> HttpResponse:
    user = request_user(request)
    ebr = selectors.ebr_for_user(user, ebr_id, write=request.method == "POST")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.ebr_update(actor=user, ebr=ebr, changes=_pick(request.POST, EBR_KEYS))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, "EBR saved.")
            return redirect("success:ebr", ebr_id=ebr.pk)
    context = {
        "account": ebr.account,
        "ebr": ebr,
        "errors": errors,
        "values": request.POST if errors else None,
        "can_write": policy.can_write_success_plan(user, ebr.account),
        **_choices(),
    }
    return render(request, "success/ebr.html", context, status=400 if errors else 200)


# --- Settings -------------------------------------------------------------------------------------------------------

SETTING_FIELDS = (
    ("activity_days", "Activity window (days)", "A green plan has had activity within this many days."),
    ("new_customer_days", "New customer window (days)", "A new customer has a plan within this many days."),
    ("new_customer_lookback_days", "New customers of the last (days)", "Who counts as a new customer in coverage."),
    ("ebr_lead_months", "EBR task lead (months)", "The EBR task opens this many months before the renewal."),
    ("ebr_due_days", "EBR task due (days)", "The EBR task is due this many days after it opens."),
    ("ebr_target_pct", "EBR coverage target (%)", "Share of priority 1 accounts with an EBR in 12 months."),
    ("review_due_days", "Review due (days)", "A plan with no manager review for this long needs review."),
)


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest) -> HttpResponse:
    """The success settings (versioned): everyone reads them; admins save the next version, which recolors every
    plan through the scheduler's recompute job."""
    from tamarind.success.models import SuccessSettings, live_settings
    from tamarind.success.rules import PRIORITIES, SEGMENTS

    user = request_user(request)
    can_edit = policy.can_edit_success_settings(user)
    errors: dict[str, list[str]] = {}
    current = live_settings()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only admins change the success settings.")
        values: dict[str, Any] = {k: request.POST.get(k, "") for k, _, _ in SETTING_FIELDS if k in request.POST}
        matrix: dict[str, dict[str, Any]] = {}
        for segment in SEGMENTS:
            matrix[segment] = {}
            for priority in PRIORITIES:
                raw = request.POST.get(f"need_{segment}_{priority}", str(current.needed(segment, int(priority))))
                matrix[segment][priority] = int(raw) if raw.strip().isdigit() else raw
        values["objectives_needed"] = matrix
        try:
            row = services.success_settings_save(actor=user, values=values, note=request.POST.get("note", ""))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, f"Saved version {row.version}; every plan is being recolored.")
            return redirect("success:settings")
    context = {
        "current": current,
        "can_edit": can_edit,
        "errors": errors,
        "fields": [(k, label, help_, getattr(current, k)) for k, label, help_ in SETTING_FIELDS],
        "matrix": [(s, [(p, current.needed(s, int(p))) for p in PRIORITIES]) for s in SEGMENTS],
        "versions": list(SuccessSettings.objects.select_related("created_by")[:10]),
    }
    return render(request, "success/settings.html", context, status=400 if errors else 200)
