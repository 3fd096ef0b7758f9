"""Triage pages: the board (filters, drag or buttons to move a card), a case (steps, updates, close with an
outcome, escalations), opening a case from an account, and the admins' settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.people.models import User
from tamarind.triage import selectors, services
from tamarind.triage.forms import (
    CaseForm,
    EscalationForm,
    EscalationUpdateForm,
    MoveForm,
    NoteForm,
    OwnerForm,
    SettingsForm,
    StepForm,
)
from tamarind.triage.models import SETTINGS_FIELDS, CaseStatus, Escalation, Outcome, Severity, TriageCase


def _errors(exc: ValidationFailed) -> str:
    return " ".join(m for msgs in exc.errors.values() for m in msgs)


def _form_errors(form: Any) -> str:
    return " ".join(str(m) for msgs in form.errors.values() for m in msgs)


def _board_context(request: HttpRequest, user: User, params: Any) -> dict[str, Any]:
    filters = selectors.CaseFilters.from_params(params)
    columns = selectors.board(user=user, filters=filters)
    writable = []
    for column in columns:
        for case in column.cases:
            case.can_write = policy.can_write_triage_case(user, case)  # type: ignore[attr-defined]
            if case.can_write and case.is_open:  # type: ignore[attr-defined]
                writable.append(case)
    # The card's owner control: who may own each case (one query for the whole board).
    choices = selectors.owner_choices(accounts=list({c.account_id: c.account for c in writable}.values()))
    for case in writable:
        case.owner_choices = choices.get(case.account_id, [])  # type: ignore[attr-defined]
    return {
        "columns": columns,
        "filters": filters,
        "filters_qs": params.urlencode() if hasattr(params, "urlencode") else "",
        "statuses": CaseStatus.choices,
        "outcomes": Outcome.choices,
        "settings_row": selectors.triage_settings(),
    }


@login_required
@require_http_methods(["GET"])
def triage_board(request: HttpRequest) -> HttpResponse:
    """The board: New, Investigating, Action plan, Monitoring, Closed (last 30 days)."""
    user = request_user(request)
    context = _board_context(request, user, request.GET)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "triage-board":
        return render(request, "triage/_board.html", context)
    context.update(selectors.board_choices(user=user), can_edit_settings=policy.can_edit_triage_settings(user))
    return render(request, "triage/board.html", context)


@login_required
@require_http_methods(["POST"])
def case_move(request: HttpRequest, case_id: int) -> HttpResponse:
    """Move a card to a column (a drag on the board or a button). htmx gets the board back, filtered as the
    request's ``filters`` query string says; without htmx, a redirect to the case."""
    user = request_user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    form = MoveForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.case_update(actor=user, case=case, changes=form.changes(), source="web")
        except ValidationFailed as exc:
            error = _errors(exc)
    else:
        error = " ".join(str(m) for msgs in form.errors.values() for m in msgs)
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Moved to {case.get_status_display()}.")
        return redirect("triage:detail", case_id=case.pk)
    context = _board_context(request, user, QueryDict(request.POST.get("filters", "")))
    context.update(error=error, moved=case.pk)
    return render(request, "triage/_board.html", context, status=400 if error else 200)


def _detail_context(user: User, case: TriageCase, **extra: Any) -> dict[str, Any]:
    settings_row = selectors.triage_settings()
    escalations = list(selectors.escalation_list(user=user, account=case.account))
    for esc in escalations:
        esc.overdue = esc.is_overdue(settings_row)  # type: ignore[attr-defined]
        esc.can_write = policy.can_write_escalation(user, esc)  # type: ignore[attr-defined]
        esc.cadence_days = settings_row.escalation_days(esc.severity)  # type: ignore[attr-defined]
    can_write = policy.can_write_triage_case(user, case)
    owners = selectors.owner_choices(accounts=[case.account]).get(case.account_id, []) if can_write else []
    return {
        "case": case,
        "can_write": can_write,
        "owner_form": OwnerForm(owners=owners, auto_id="owner_%s", initial={"owner": case.owner_id}),
        "overdue": case.is_overdue(settings_row),
        "settings_row": settings_row,
        "steps": list(case.steps.all()),
        "notes": list(case.notes.select_related("author")),
        "escalations": escalations,
        "history": selectors.case_history(case=case),
        "statuses": CaseStatus.choices,
        "outcomes": Outcome.choices,
        "today": timezone.localdate(),
        "form": CaseForm(
            initial={
                "risk_type": case.risk_type,
                "risk_reason": case.risk_reason,
                "classification": case.classification,
                "renewal_date": case.renewal_date,
                "summary": case.summary,
            }
        ),
        # Distinct ids: three small forms share the page with the case form.
        "step_form": StepForm(auto_id="step_%s"),
        "note_form": NoteForm(auto_id="note_%s"),
        "escalation_form": EscalationForm(auto_id="esc_%s", settings_row=settings_row, owners=owners),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """A case: its description (editable by its writers), next steps, updates, escalations and history."""
    user = request_user(request)
    case = selectors.case_for_user(user, case_id, write=request.method == "POST")
    if request.method == "POST":
        form = CaseForm(request.POST)
        if form.is_valid():
            try:
                services.case_update(actor=user, case=case, changes=form.changes(), source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Case saved.")
                return redirect("triage:detail", case_id=case.pk)
        return render(request, "triage/detail.html", _detail_context(user, case, form=form), status=400)
    return render(request, "triage/detail.html", _detail_context(user, case))


def _back(request: HttpRequest, case: TriageCase, error: str = "", ok: str = "") -> HttpResponse:
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return redirect(reverse("triage:detail", args=[case.pk]))


@login_required
@require_http_methods(["POST"])
def step_add(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request_user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    form = StepForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error=" ".join(str(m) for msgs in form.errors.values() for m in msgs))
    try:
        services.step_add(actor=user, case=case, text=form.cleaned_data["text"], due_on=form.cleaned_data["due_on"])
    except ValidationFailed as exc:
        return _back(request, case, error=_errors(exc))
    return _back(request, case, ok="Step added.")


@login_required
@require_http_methods(["POST"])
def step_toggle(request: HttpRequest, case_id: int, step_id: int) -> HttpResponse:
    """Tick a step done (``done=on``) or not; htmx swaps the step's row."""
    user = request_user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    step = case.steps.filter(pk=step_id).first() if step_id < 2**63 else None
    if step is None:
        raise Http404("No such step.")
    step.case = case
    services.step_complete(actor=user, step=step, done=request.POST.get("done") == "on")
    if request.headers.get("HX-Request"):
        return render(request, "triage/_step.html", {"step": step, "case": case, "can_write": True})
    return _back(request, case)


@login_required
@require_http_methods(["POST"])
def note_add(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request_user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error="Write the update first.")
    try:
        services.case_note_add(actor=user, case=case, text=form.cleaned_data["text"])
    except ValidationFailed as exc:
        return _back(request, case, error=_errors(exc))
    return _back(request, case, ok="Update posted.")


@login_required
@require_http_methods(["POST"])
def escalation_add(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request_user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    owners = selectors.owner_choices(accounts=[case.account]).get(case.account_id, [])
    form = EscalationForm(request.POST, owners=owners)
    if not form.is_valid():
        return _back(request, case, error=_form_errors(form))
    try:
        services.escalation_open(actor=user, account=case.account, data=form.data_for_service())
    except (ValidationFailed, PermissionDenied) as exc:
        return _back(request, case, error=_errors(exc) if isinstance(exc, ValidationFailed) else str(exc))
    return _back(request, case, ok="Escalation opened.")


def _escalation_context(user: User, esc: Escalation, **extra: Any) -> dict[str, Any]:
    settings_row = selectors.triage_settings()
    can_write = policy.can_write_escalation(user, esc)
    owners = selectors.owner_choices(accounts=[esc.account]).get(esc.account_id, []) if can_write else []
    esc.overdue = esc.is_overdue(settings_row)  # type: ignore[attr-defined]
    days = settings_row.escalation_days(esc.severity)
    return {
        "esc": esc,
        "can_write": can_write,
        "cadence_days": days,
        "next_update_due": esc.last_update_at + dt.timedelta(days=days),
        "settings_row": settings_row,
        "history": selectors.escalation_history(escalation=esc),
        "form": EscalationUpdateForm(
            auto_id="upd_%s", settings_row=settings_row, owners=owners, initial={"severity": esc.severity}
        ),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def escalation_change(request: HttpRequest, escalation_id: int) -> HttpResponse:
    """An escalation: its cadence (late updates highlighted) and history; its writers post an update, change
    the severity or owner, resolve or reopen it. A POST from its case's page goes back there."""
    user = request_user(request)
    esc = selectors.escalation_for_user(user, escalation_id, write=request.method == "POST")
    if request.method == "GET":
        return render(request, "triage/escalation.html", _escalation_context(user, esc))
    owners = selectors.owner_choices(accounts=[esc.account]).get(esc.account_id, [])
    form = EscalationUpdateForm(request.POST, settings_row=None, owners=owners)
    error = ""
    if not form.is_valid():
        error = _form_errors(form)
    elif not form.changes():
        error = "Write the update first (or choose a change)."
    else:
        try:
            services.escalation_update(actor=user, escalation=esc, changes=form.changes())
        except ValidationFailed as exc:
            error = _errors(exc)
    if request.POST.get("from") == "escalation" or not esc.case_id:
        if error:
            esc.refresh_from_db()
            return render(request, "triage/escalation.html", _escalation_context(user, esc, error=error), status=400)
        messages.success(request, "Escalation updated.")
        return redirect("triage:escalation_change", escalation_id=esc.pk)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Escalation updated.")
    return redirect("triage:detail", case_id=esc.case_id)


@login_required
@require_http_methods(["GET", "POST"])
def escalation_open(request: HttpRequest, account_id: int) -> HttpResponse:
    """Open an escalation on an account (its TAM, its region's manager, admins), from the account page; it is
    tied to the account's open triage case when there is one."""
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_open_triage_case(user, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins open escalations.")
    settings_row = selectors.triage_settings()
    owners = selectors.owner_choices(accounts=[account]).get(account.pk, [])
    form = EscalationForm(request.POST or None, settings_row=settings_row, owners=owners)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                esc = services.escalation_open(actor=user, account=account, data=form.data_for_service())
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Opened an escalation on {account.name}.")
                return redirect("triage:escalation_change", escalation_id=esc.pk)
        status = 400
    context = {
        "form": form,
        "account": account,
        "case": selectors.open_case_for_account(account=account),
        "settings_row": settings_row,
    }
    return render(request, "triage/escalation_open.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def case_owner(request: HttpRequest, case_id: int) -> HttpResponse:
    """Hand a case to another owner, from the case page (htmx swaps the owner panel) or a board card (htmx
    swaps the board, filtered as ``filters`` says). The new owner is notified; the change is audited."""
    user = request_user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    owners = selectors.owner_choices(accounts=[case.account]).get(case.account_id, [])
    form = OwnerForm(request.POST, owners=owners)
    error = ""
    if not form.is_valid():
        error = _form_errors(form) or "Choose the new owner."
    else:
        try:
            services.case_reassign(actor=user, case=case, owner=form.cleaned_data["owner"])
        except ValidationFailed as exc:
            error = _errors(exc)
    if not request.headers.get("HX-Request"):
        return _back(request, case, error=error, ok=f"The case is now {case.owner}'s.")
    status = 400 if error else 200
    if request.POST.get("board"):
        context = _board_context(request, user, QueryDict(request.POST.get("filters", "")))
        context.update(error=error, moved=case.pk)
        return render(request, "triage/_board.html", context, status=status)
    context = {
        "case": case,
        "can_write": policy.can_write_triage_case(user, case),
        "owner_form": OwnerForm(owners=owners, auto_id="owner_%s", initial={"owner": case.owner_id}),
        "owner_error": error,
        "owner_saved": not error,
    }
    return render(request, "triage/_owner.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_open(request: HttpRequest, account_id: int) -> HttpResponse:
    """Open a case for an account (its TAM, region manager, admins); the account's open case when it has one."""
    user = request_user(request)
    account = account_for_user(user, account_id)
    existing = selectors.open_case_for_account(account=account)
    if existing is not None:
        return redirect("triage:detail", case_id=existing.pk)
    if not policy.can_open_triage_case(user, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins open triage cases.")
    form = CaseForm(request.POST or None, initial={"renewal_date": account.next_renewal_date})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = services.case_open(actor=user, account=account, data=form.changes(), source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Opened a triage case for {account.name}.")
                return redirect("triage:detail", case_id=case.pk)
        status = 400
    return render(request, "triage/open.html", {"form": form, "account": account}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def triage_settings_edit(request: HttpRequest) -> HttpResponse:
    """How often cases and escalations must be updated (admins change it; others read it)."""
    user = request_user(request)
    row = selectors.triage_settings()
    can_edit = policy.can_edit_triage_settings(user)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only admins change the triage settings.")
    form = SettingsForm(request.POST or None, initial={f: getattr(row, f) for f in SETTINGS_FIELDS})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.triage_settings_update(actor=user, changes=dict(form.cleaned_data))
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Triage settings saved.")
                return redirect("triage:settings")
        status = 400
    return render(request, "triage/settings.html", {"form": form, "row": row, "can_edit": can_edit}, status=status)


@login_required
@require_http_methods(["GET"])
def escalations(request: HttpRequest) -> HttpResponse:
    """The escalations of the accounts the user reads, open first; late updates (per severity cadence) in red."""
    user = request_user(request)
    show_all = request.GET.get("state") == "all"
    settings_row = selectors.triage_settings()
    now = timezone.now()
    qs, chosen, errors = selectors.escalation_filter(
        selectors.escalation_list(user=user, open_only=not show_all), request.GET, settings_row, now
    )
    rows = list(qs[:500])
    for esc in rows:
        esc.overdue = esc.is_overdue(settings_row, now)  # type: ignore[attr-defined]
    context = {
        "escalations": rows,
        "show_all": show_all,
        "settings_row": settings_row,
        "chosen": chosen,
        "filter_errors": errors,
        "severities": Severity.choices,
    }
    return render(request, "triage/escalations.html", context)
