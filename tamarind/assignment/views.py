"""Assignment pages: the live rules and their versions, the editor with its dry run, and the accounts to staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts import selectors as account_selectors
from tamarind.accounts import services as account_services
from tamarind.accounts.forms import SetTamForm
from tamarind.accounts.models import Account
from tamarind.assignment import selectors, services
from tamarind.assignment.forms import (
    ConditionFormSet,
    RulesForm,
    build_definition,
    initial_rows,
    place_errors,
)
from tamarind.assignment.models import Qualification
from tamarind.assignment.rules import FIELDS, RuleError
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user


def _described(vocab: selectors.Vocabulary, version: Any) -> list[str]:
    return [vocab.describe(c) for c in version.spec().conditions]


@login_required
@require_http_methods(["GET"])
def rules_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not policy.can_read_rules(user):
        raise PermissionDenied
    vocab = selectors.vocabulary()
    live = selectors.live_rules()
    context = {
        "live": live,
        "conditions": _described(vocab, live),
        "versions": selectors.rule_versions()[:100],
        "can_edit": policy.can_edit_rules(user),
    }
    return render(request, "assignment/rules.html", context)


@login_required
@require_http_methods(["GET"])
def rule_version_view(request: HttpRequest, version: int) -> HttpResponse:
    user = request_user(request)
    if not policy.can_read_rules(user):
        raise PermissionDenied
    found = selectors.rule_version(version)
    context = {"version": found, "conditions": _described(selectors.vocabulary(), found)}
    return render(request, "assignment/version.html", context)


def _editor_forms(request: HttpRequest, vocab: selectors.Vocabulary) -> tuple[RulesForm, Any]:
    if request.method == "POST":
        return RulesForm(request.POST), ConditionFormSet(request.POST, prefix="c")
    live = selectors.live_rules()
    return (
        RulesForm(initial={"match": live.definition.get("match", "all")}),
        ConditionFormSet(initial=initial_rows(vocab, live.definition), prefix="c"),
    )


def _editor_context(vocab: selectors.Vocabulary, rules: RulesForm, rows: Any, **extra: Any) -> dict[str, Any]:
    return {
        "form": rules,
        "rows": rows,
        "live": selectors.live_rules(),
        "fields": FIELDS,
        "vocab": vocab,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def rules_edit(request: HttpRequest) -> HttpResponse:
    """The editor. POST saves a new version (validated by the service); the dry run posts to ``rules_dry_run``."""
    user = request_user(request)
    if not policy.can_edit_rules(user):
        raise PermissionDenied("Only admins change the qualification rules.")
    vocab = selectors.vocabulary()
    rules, rows = _editor_forms(request, vocab)
    status = 200
    if request.method == "POST":
        if rules.is_valid() and rows.is_valid():
            definition, origin = build_definition(vocab, rules, rows)
            try:
                saved = services.rule_set_save(actor=user, definition=definition, note=rules.cleaned_data["note"])
            except ValidationFailed as exc:
                place_errors(exc.errors, rules, rows, origin)
            else:
                messages.success(
                    request, f"Saved version {saved.version}. Every account is being evaluated against it."
                )
                return redirect("assignment:rules")
        status = 400
    return render(request, "assignment/edit.html", _editor_context(vocab, rules, rows), status=status)


@login_required
@require_http_methods(["POST"])
def rules_dry_run(request: HttpRequest) -> HttpResponse:
    """The draft in the editor, evaluated over every account beside the live rules; renders the result panel."""
    user = request_user(request)
    if not policy.can_edit_rules(user):
        raise PermissionDenied("Only admins change the qualification rules.")
    vocab = selectors.vocabulary()
    rules, rows = RulesForm(request.POST), ConditionFormSet(request.POST, prefix="c")
    if not (rules.is_valid() and rows.is_valid()):
        return render(request, "assignment/_dry_run.html", {"invalid": True}, status=400)
    definition, origin = build_definition(vocab, rules, rows)
    try:
        draft = vocab.parse(definition)
    except RuleError as exc:
        place_errors(exc.errors, rules, rows, origin)
        errors = [f"{k}: {' '.join(v)}" for k, v in exc.errors.items()]
        return render(request, "assignment/_dry_run.html", {"invalid": True, "errors": errors}, status=400)
    result = selectors.rules_dry_run(draft)
    context = {"result": result, "conditions": [vocab.describe(c) for c in draft.conditions], "match": draft.match}
    return render(request, "assignment/_dry_run.html", context)


def _row_context(user: Any, account: Any, tams: list[Any], **extra: Any) -> dict[str, Any]:
    return {"account": account, "tams": tams, "can_assign": policy.can_set_tam(user, account), **extra}


def _outcome_before(account: Account) -> selectors.OnboardingOutcome:
    """What assigning a TAM will do to ``account``'s onboarding, read before the assignment changes it."""
    standing = Qualification.objects.filter(account=account).values_list("qualifies", flat=True).first()
    return selectors.staffing_outcomes([account], qualifies=bool(standing))[account.pk]


@login_required
@require_http_methods(["GET"])
def staffing(request: HttpRequest) -> HttpResponse:
    """ "New accounts to staff" (qualifying, no TAM) and the accounts flagged for a disengagement review."""
    user = request_user(request)
    if not policy.can_view_staffing(user):
        raise PermissionDenied("New accounts to staff is the TAM Managers' list.")
    to_staff = list(selectors.staffing_list(user)[:500])
    tams = selectors.tams_by_region()
    outcomes = selectors.staffing_outcomes([q.account for q in to_staff])
    rows = [
        _row_context(
            user,
            q.account,
            tams.get(q.account.region_id, []),
            qualified_at=q.qualified_at,
            outcome=outcomes[q.account_id],
        )
        for q in to_staff
    ]
    context = {"rows": rows, "flagged": selectors.disengagement_list(user)[:200], "live": selectors.live_rules()}
    return render(request, "assignment/staffing.html", context)


@dataclass
class Assigned:
    """What ``assign_from_list`` did: the account, the error to show ("" when saved), what the assignment did to
    the onboarding (read before it), and for a plain (non-htmx) post the redirect to show."""

    account: Account
    error: str
    outcome: selectors.OnboardingOutcome
    done: HttpResponse | None


def assign_from_list(request: HttpRequest, account_id: int, *, back: str) -> Assigned:
    """Assign the TAM posted from a list row (accounts to staff, the onboarding dashboard): the same service as the
    account page, the API and the CRM import, so the consequences are the same (the task closed, the onboarding
    started or handed over when ``selectors.onboarding_outcome`` says so, the TAM notified).

    For a plain (non-htmx) post ``done`` is the redirect to ``back`` with a message; an htmx caller renders its
    own row.
    """
    user = request_user(request)
    account = account_selectors.account_for_user(user, account_id, write=True)
    if not policy.can_set_tam(user, account):
        raise PermissionDenied("Only the region's TAM Manager or an admin sets the TAM.")
    outcome = _outcome_before(account)
    form = SetTamForm(request.POST)
    error = ""
    if form.is_valid() and form.cleaned_data["tam"] is not None:
        try:
            account_services.account_set_tam(actor=user, account=account, tam=form.cleaned_data["tam"])
        except ValidationFailed as exc:
            error = " ".join(m for msgs in exc.errors.values() for m in msgs)
    else:
        error = "Choose one of the region's TAMs."
    if request.headers.get("HX-Request"):
        return Assigned(account, error, outcome, None)
    if error:
        messages.error(request, f"{account.name}: {error}")
    else:
        messages.success(request, f"{account.name}: TAM set to {account.tam}, who is notified. {_done(outcome)}.")
    return Assigned(account, error, outcome, redirect(back))


def _done(outcome: selectors.OnboardingOutcome) -> str:
    """The assignment's effect on the onboarding, in the past tense, for the message after it."""
    return {"start": "Onboarding started", "handover": "Open onboarding handed over"}.get(outcome.action, outcome.note)


@login_required
@require_http_methods(["POST"])
def staffing_assign(request: HttpRequest, account_id: int) -> HttpResponse:
    """Assign a TAM from New accounts to staff (htmx swaps the row)."""
    assigned = assign_from_list(request, account_id, back="assignment:staffing")
    if assigned.done is not None:
        return assigned.done
    account, error = assigned.account, assigned.error
    standing = Qualification.objects.filter(account=account).first()
    qualified_at = standing.qualified_at if standing else None
    tams = selectors.tams_by_region().get(account.region_id, [])
    context = _row_context(
        request_user(request),
        account,
        tams,
        assigned=not error,
        error=error,
        qualified_at=qualified_at,
        outcome=assigned.outcome,
        done=_done(assigned.outcome),
    )
    return render(request, "assignment/_staffing_row.html", context, status=400 if error else 200)
