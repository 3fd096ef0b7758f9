"""Stuck-customer pages: the queue (filters, why each case fired, claim by htmx, the unstuck-within-30-days
metric) and a case (reasons, claim, log outreach, resolve). Thin: parse, gate (the selectors), call a service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.people.models import User
from tamarind.stuck import selectors, services
from tamarind.stuck.models import CaseStatus, Outcome, StuckCase, StuckRule
from tamarind.stuck.services import OUTREACH_KINDS
from tamarind.timeline.models import EntryKind

QUEUE_LIMIT = 200


def _stuck_user(request: HttpRequest) -> User:
    user = request_user(request)
    if not policy.can_view_stuck(user):
        raise PermissionDenied("The stuck-customer queue is for TAMs, managers, directors and admins.")
    return user


def _errors(exc: ValidationFailed) -> str:
    return " ".join(m for msgs in exc.errors.values() for m in msgs)


def _row(request: HttpRequest, user: User, case: StuckCase) -> HttpResponse:
    case.can_work = policy.can_work_stuck_case(user, case)  # type: ignore[attr-defined]
    return render(request, "stuck/_row.html", {"case": case})


@login_required
@require_http_methods(["GET"])
def queue(request: HttpRequest) -> HttpResponse:
    """The queue: open cases first (oldest first), then claimed, then resolved; with the headline metric."""
    user = _stuck_user(request)
    filters = selectors.QueueFilters.from_params(request.GET)
    cases = selectors.with_members(list(selectors.queue(user=user, filters=filters)[:QUEUE_LIMIT]))
    for case in cases:
        case.can_work = policy.can_work_stuck_case(user, case)  # type: ignore[attr-defined]
    return render(
        request,
        "stuck/queue.html",
        {
            "cases": cases,
            "limit": QUEUE_LIMIT,
            "filters": filters,
            "metrics": selectors.metrics(user=user, now=timezone.now()),
            "statuses": [("unresolved", "Open or claimed"), *CaseStatus.choices],
            "rules": selectors.all_rules(),
            "pools": selectors.pools_for_filter(user),
        },
    )


@login_required
@require_http_methods(["POST"])
def claim(request: HttpRequest, case_id: int) -> HttpResponse:
    """Claim a case: htmx gets the queue row back; otherwise a redirect to the case."""
    user = _stuck_user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    try:
        services.stuck_case_claim(actor=user, case=case)
    except ValidationFailed as exc:
        if request.headers.get("HX-Request"):
            return HttpResponse(_errors(exc), status=422)
        messages.error(request, _errors(exc))
        return redirect("stuck:case", case_id=case.pk)
    case = selectors.case_for_user(user, case.pk)
    if request.headers.get("HX-Request"):
        return _row(request, user, case)
    messages.success(request, "Claimed.")
    return redirect("stuck:case", case_id=case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    """One case: why it fired, its outreach (the account's timeline since it opened); pool people claim it, log
    outreach (``action=outreach``) and resolve it with an outcome (``action=resolve``)."""
    user = _stuck_user(request)
    item = selectors.case_for_user(user, case_id, write=request.method == "POST")
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "outreach":
                services.stuck_case_log_outreach(
                    actor=user,
                    case=item,
                    kind=request.POST.get("kind", ""),
                    title=request.POST.get("title", ""),
                    notes=request.POST.get("notes", ""),
                    external_attendees=request.POST.get("external_attendees", ""),
                )
                done = "Outreach logged on the account's timeline."
            elif action == "resolve":
                services.stuck_case_resolve(
                    actor=user, case=item, outcome=request.POST.get("outcome", ""), notes=request.POST.get("notes", "")
                )
                done = "Resolved."
            elif action == "claim":
                services.stuck_case_claim(actor=user, case=item)
                done = "Claimed."
            else:
                raise ValidationFailed({"action": ["Choose claim, outreach or resolve."]})
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, done)
            return redirect("stuck:case", case_id=item.pk)
    return render(
        request,
        "stuck/case.html",
        {
            "case": item,
            "can_work": policy.can_work_stuck_case(user, item),
            "outreach": selectors.outreach(item),
            "kinds": [(k, EntryKind(k).label) for k in OUTREACH_KINDS],
            "outcomes": Outcome.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


def _rule_context(user: User, rule: StuckRule, error: str = "") -> dict[str, Any]:
    return {
        "rule": rule,
        "params": selectors.rule_params(rule),
        "can_edit": policy.can_edit_rules(user),
        "error": error,
    }


@login_required
@require_http_methods(["GET"])
def rules_page(request: HttpRequest) -> HttpResponse:
    """The stuck-customer rules: each one's thresholds (with their allowed ranges) and whether it fires; admins
    change them in place (htmx), everyone who sees the queue reads them."""
    user = _stuck_user(request)
    can_edit = policy.can_edit_rules(user)
    items = [{**_rule_context(user, rule), "can_edit": can_edit} for rule in selectors.all_rules()]
    return render(request, "stuck/rules.html", {"items": items, "can_edit": can_edit})


def _parse_params(rule: StuckRule, data: Any) -> dict[str, Any]:
    """The posted thresholds: whole numbers where they parse; anything else is left as typed, so the service
    names the field and its range."""
    out: dict[str, Any] = {}
    for item in selectors.rule_params(rule):
        raw = str(data.get(item["name"], "")).strip()
        try:
            out[item["name"]] = int(raw)
        except ValueError:
            out[item["name"]] = raw
    return out


@login_required
@require_http_methods(["POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Save one rule's thresholds and switch: htmx gets the rule's card back (400 with the error when refused)."""
    user = request_user(request)
    rule = selectors.rule_for_user(user, rule_id, write=True)
    error = ""
    try:
        services.stuck_rule_update(
            actor=user, rule=rule, enabled=request.POST.get("enabled") == "on", params=_parse_params(rule, request.POST)
        )
    except ValidationFailed as exc:
        error = _errors(exc)
        rule.refresh_from_db()
    if request.headers.get("HX-Request"):
        context = {**_rule_context(user, rule, error), "saved": not error}
        # 200 even when refused: htmx swaps only 2xx answers, and the card must show why.
        return render(request, "stuck/_rule.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Saved {rule.name}.")
    return redirect("stuck:rules")
