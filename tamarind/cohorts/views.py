"""Cohort pages: the list (and a new cohort), a cohort (members, contacts, owners, activity; add a member or
activity by htmx; a CSV of activity), its report (members against similar non-members) and two cohorts side by
side. Thin: parse, gate (the selectors), call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.cohorts import csv_import, forms, selectors, services
from tamarind.cohorts.models import ActivityKind, Cohort, CohortStatus
from tamarind.cohorts.report import cohort_report
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user

ACTIVITY_LIMIT = 100
UPLOAD_MAX = 5 * 1024 * 1024


def _errors(exc: ValidationFailed) -> list[str]:
    return [m for msgs in exc.errors.values() for m in msgs]


def _hx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


@login_required
@require_http_methods(["GET"])
def cohort_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows = selectors.list_rows(user)
    return render(
        request,
        "cohorts/list.html",
        {"cohorts": rows, "can_create": policy.can_create_cohort(user), "statuses": CohortStatus.choices},
    )


FORM_KEYS = ("name", "space_url", "namespace_url", "target_size", "engagement_rules", "scope", "starts_on", "ends_on")


def _form_context(cohort: Cohort | None, data: dict[str, Any] | None, errors: list[str]) -> dict[str, Any]:
    """The form's values as text (dates in ISO), every key present."""
    data = data or {}
    shown: dict[str, Any] = {k: "" if data.get(k) is None else str(data.get(k)) for k in FORM_KEYS}
    shown["status"] = str(data.get("status") or "planned")
    owner_ids = data.get("owner_ids") or []
    shown["owner_ids"] = {int(x) for x in owner_ids if str(x).isdigit()}
    return {
        "cohort": cohort,
        "data": shown,
        "errors": errors,
        "statuses": CohortStatus.choices,
        "owners": selectors.owner_choices(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def cohort_new(request: HttpRequest) -> HttpResponse:
    """Admins and managers create a cohort (a manager's is in their region)."""
    user = request_user(request)
    if not policy.can_create_cohort(user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Admins and TAM Managers create cohorts.")
    if request.method == "POST":
        try:
            data = forms.cohort_data(request.POST)
            cohort = services.cohort_create(actor=user, **data)
        except ValidationFailed as exc:
            ctx = _form_context(
                None, {**request.POST.dict(), "owner_ids": request.POST.getlist("owner_ids")}, _errors(exc)
            )
            return render(request, "cohorts/form.html", ctx, status=400)
        messages.success(request, "Cohort created.")
        return redirect("cohorts:detail", cohort_id=cohort.pk)
    return render(request, "cohorts/form.html", _form_context(None, None, []))


@login_required
@require_http_methods(["GET", "POST"])
def cohort_edit(request: HttpRequest, cohort_id: int) -> HttpResponse:
    user = request_user(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    if request.method == "POST":
        try:
            data = forms.cohort_data(request.POST)
            services.cohort_update(actor=user, cohort=cohort, changes=data)
        except ValidationFailed as exc:
            ctx = _form_context(
                cohort, {**request.POST.dict(), "owner_ids": request.POST.getlist("owner_ids")}, _errors(exc)
            )
            return render(request, "cohorts/form.html", ctx, status=400)
        messages.success(request, "Cohort saved.")
        return redirect("cohorts:detail", cohort_id=cohort.pk)
    data = {f: getattr(cohort, f) for f in services.COHORT_FIELDS if f != "region"}
    data["owner_ids"] = [o.pk for o in cohort.owners.all()]
    return render(request, "cohorts/form.html", _form_context(cohort, data, []))


def _detail_context(user: Any, cohort: Cohort) -> dict[str, Any]:
    return {
        "cohort": cohort,
        "members": selectors.members(cohort),
        "activity": list(selectors.activity(cohort)[:ACTIVITY_LIMIT]),
        "activity_limit": ACTIVITY_LIMIT,
        "totals": selectors.activity_totals(cohort),
        "kinds": ActivityKind.choices,
        "accounts": selectors.addable_accounts(user, cohort) if cohort.can_manage else [],  # type: ignore[attr-defined]
        "contacts": selectors.addable_contacts(cohort) if cohort.can_manage else [],  # type: ignore[attr-defined]
    }


@login_required
@require_http_methods(["GET"])
def cohort_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    user = request_user(request)
    cohort = selectors.cohort_for_user(user, cohort_id)
    return render(request, "cohorts/detail.html", _detail_context(user, cohort))


def _after_write(
    request: HttpRequest, user: Any, cohort: Cohort, fragment: str, done: str, error: list[str] | None
) -> HttpResponse:
    """htmx: the re-rendered panel (400 with the errors in it); otherwise a redirect (errors as messages)."""
    if _hx(request):
        ctx = _detail_context(user, cohort)
        ctx["error"] = " ".join(error or [])
        return render(request, fragment, ctx, status=400 if error else 200)
    if error:
        for e in error:
            messages.error(request, e)
    else:
        messages.success(request, done)
    return redirect("cohorts:detail", cohort_id=cohort.pk)


@login_required
@require_http_methods(["POST"])
def member_add(request: HttpRequest, cohort_id: int) -> HttpResponse:
    user = request_user(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    errors: dict[str, list[str]] = {}
    account_id = forms.parse_int(request.POST.get("account", ""), "account", errors)
    joined_on = forms.parse_date(request.POST.get("joined_on", ""), "joined_on", errors)
    error = None
    try:
        if errors:
            raise ValidationFailed(errors)
        account = Account.objects.visible_to(user).filter(pk=account_id or 0).first()
        if account is None:
            raise ValidationFailed({"account": ["Choose an account."]})
        services.member_add(actor=user, cohort=cohort, account=account, joined_on=joined_on)
    except ValidationFailed as exc:
        error = _errors(exc)
    return _after_write(request, user, cohort, "cohorts/_members.html", "Member added.", error)


@login_required
@require_http_methods(["POST"])
def member_remove(request: HttpRequest, cohort_id: int, member_id: int) -> HttpResponse:
    user = request_user(request)
    member = selectors.member_for_user(user, cohort_id, member_id, write=True)
    error = None
    try:
        services.member_remove(actor=user, member=member)
    except ValidationFailed as exc:
        error = _errors(exc)
    return _after_write(request, user, member.cohort, "cohorts/_members.html", "The account left the cohort.", error)


@login_required
@require_http_methods(["POST"])
def contact_add(request: HttpRequest, cohort_id: int) -> HttpResponse:
    user = request_user(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    errors: dict[str, list[str]] = {}
    contact_id = forms.parse_int(request.POST.get("contact", ""), "contact", errors)
    error = None
    try:
        contact = Contact.objects.filter(pk=contact_id or 0).first() if not errors else None
        if contact is None:
            raise ValidationFailed({"contact": ["Choose a contact."]})
        member = selectors.member_by_account(user, cohort.pk, contact.account_id, write=True)
        services.contact_add(actor=user, member=member, contact=contact)
    except ValidationFailed as exc:
        error = _errors(exc)
    except Http404:
        error = ["The contact's account is not a member."]
    return _after_write(request, user, cohort, "cohorts/_members.html", "Contact added.", error)


@login_required
@require_http_methods(["POST"])
def contact_remove(request: HttpRequest, cohort_id: int, link_id: int) -> HttpResponse:
    user = request_user(request)
    link = selectors.contact_link_for_user(user, cohort_id, link_id, write=True)
    services.contact_remove(actor=user, link=link)
    return _after_write(request, user, link.member.cohort, "cohorts/_members.html", "Contact removed.", None)


@login_required
@require_http_methods(["POST"])
def activity_add(request: HttpRequest, cohort_id: int) -> HttpResponse:
    """Record activity by hand (htmx: the activity panel comes back)."""
    user = request_user(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    errors: dict[str, list[str]] = {}
    member_id = forms.parse_int(request.POST.get("member", ""), "member", errors)
    day = forms.parse_date(request.POST.get("day", ""), "day", errors, required=True)
    count = forms.parse_int(request.POST.get("count", ""), "count", errors, default=1)
    error = None
    try:
        if errors:
            raise ValidationFailed(errors)
        try:
            member = selectors.member_for_user(user, cohort.pk, member_id or 0, write=True)
        except Http404:
            raise ValidationFailed({"member": ["Choose a member."]}) from None
        contact = None
        contact_id = forms.parse_int(request.POST.get("contact", ""), "contact", errors)
        if contact_id:
            contact = Contact.objects.filter(pk=contact_id, account_id=member.account_id).first()
            if contact is None:
                raise ValidationFailed({"contact": ["The contact must be at the member's account."]})
        services.activity_record(
            actor=user,
            member=member,
            kind=request.POST.get("kind", ""),
            day=day,
            count=count or 0,
            notes=request.POST.get("notes", ""),
            contact=contact,
        )
    except ValidationFailed as exc:
        error = _errors(exc)
    return _after_write(request, user, cohort, "cohorts/_activity.html", "Activity recorded.", error)


@login_required
@require_http_methods(["POST"])
def activity_import(request: HttpRequest, cohort_id: int) -> HttpResponse:
    """A CSV of activity (streamed; all or nothing; line-numbered errors)."""
    user = request_user(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    upload = request.FILES.get("file")
    errors: list[str] = []
    outcome = None
    if upload is None:
        errors = ["Choose a CSV file."]
    elif upload.size is not None and upload.size > UPLOAD_MAX:
        errors = [f"The file is larger than {UPLOAD_MAX // (1024 * 1024)} MB."]
    else:
        try:
            outcome = csv_import.activity_import(actor=user, cohort=cohort, stream=upload)
        except ValidationFailed as exc:
            errors = _errors(exc)
    ctx = _detail_context(user, cohort)
    ctx.update({"import_errors": errors, "outcome": outcome})
    return render(request, "cohorts/detail.html", ctx, status=400 if errors else 200)


@login_required
@require_http_methods(["GET"])
def cohort_report_view(request: HttpRequest, cohort_id: int) -> HttpResponse:
    user = request_user(request)
    cohort = selectors.cohort_for_user(user, cohort_id)
    report = cohort_report(cohort)
    return render(
        request,
        "cohorts/report.html",
        {"cohort": cohort, "report": report, "members": selectors.members(cohort)},
    )


@login_required
@require_http_methods(["GET"])
def cohort_compare(request: HttpRequest) -> HttpResponse:
    """Two cohorts' reports side by side (``?a=<id>&b=<id>``); without both, a picker."""
    user = request_user(request)
    choices = list(selectors.cohorts_for(user))
    errors: dict[str, list[str]] = {}
    a = forms.parse_int(request.GET.get("a", ""), "a", errors)
    b = forms.parse_int(request.GET.get("b", ""), "b", errors)
    reports = []
    if a and b:
        reports = [cohort_report(selectors.cohort_for_user(user, a)), cohort_report(selectors.cohort_for_user(user, b))]
    return render(
        request,
        "cohorts/compare.html",
        {"choices": choices, "a": a, "b": b, "reports": reports},
        status=400 if errors else 200,
    )
