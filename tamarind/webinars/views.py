"""Webinar pages: the season overview (topics x rounds against the targets), a session (metrics, attendance,
unmatched attendees matched by htmx, the attendee report upload), and the session form. Thin: parse, gate (the
selectors and the policy), call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.people.models import User
from tamarind.webinars import selectors, services
from tamarind.webinars.forms import ReportForm, SessionForm, session_initial
from tamarind.webinars.models import Session, UnmatchedAttendee

ATTENDANCE_LIMIT = 500
UNMATCHED_LIMIT = 200
# Multipart framing on top of the file itself.
UPLOAD_OVERHEAD = 64 * 1024


def _viewer(request: HttpRequest) -> User:
    user = request_user(request)
    if not policy.can_view_webinars(user):
        raise PermissionDenied("Webinars are for TAMs, managers, directors and admins.")
    return user


def _editor(request: HttpRequest) -> User:
    user = _viewer(request)
    if not policy.can_edit_webinars(user):
        raise PermissionDenied("Admins and TAM Managers create and edit webinar sessions.")
    return user


def _errors(exc: ValidationFailed) -> list[str]:
    return [m for msgs in exc.errors.values() for m in msgs]


@login_required
@require_http_methods(["GET"])
def season(request: HttpRequest) -> HttpResponse:
    """Topics x rounds: attendance of net-new customers, staying to the end and feedback against the targets."""
    user = _viewer(request)
    return render(
        request, "webinars/season.html", {**selectors.season(user=user), "can_edit": policy.can_edit_webinars(user)}
    )


def _session_page(
    request: HttpRequest, user: User, session: Session, *, report_errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    attendance = list(selectors.attendance_for_user(user, session)[:ATTENDANCE_LIMIT])
    unmatched = list(selectors.unmatched(session)[:UNMATCHED_LIMIT])
    can_edit = policy.can_edit_webinars(user)
    candidates = selectors.match_candidates(user, unmatched) if can_edit else {}
    for row in unmatched:
        row.candidates = candidates.get(row.pk, [])  # type: ignore[attr-defined]
    return render(
        request,
        "webinars/session.html",
        {
            "session": session,
            "attendance": attendance,
            "attendance_limit": ATTENDANCE_LIMIT,
            "unmatched": unmatched,
            "open_unmatched": sum(1 for u in unmatched if not u.is_resolved),
            "can_edit": can_edit,
            "report_form": ReportForm(),
            "report_errors": report_errors or [],
            "max_bytes": services.max_report_bytes(),
            **selectors.session_metrics(user=user, session=session),
            **selectors.registration_counts(user, session),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id)
    return _session_page(request, user, session)


@login_required
@require_http_methods(["POST"])
def session_import(request: HttpRequest, session_id: int) -> HttpResponse:
    """Upload the attendee report: whole or not at all; errors listed with their line numbers (400), an
    oversized upload refused (413)."""
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id, write=True)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > services.max_report_bytes() + UPLOAD_OVERHEAD:
        return _session_page(request, user, session, report_errors=[services.too_large_message(declared)], status=413)
    upload = request.FILES.get("report")
    if upload is None:
        return _session_page(
            request, user, session, report_errors=["Choose the attendee report to upload."], status=400
        )
    try:
        summary = services.attendee_report_import(
            actor=user,
            session=session,
            stream=upload.file,  # type: ignore[arg-type]
            filename=upload.name or "",
            size=upload.size,
        )
    except services.ReportTooLarge as exc:
        return _session_page(request, user, session, report_errors=_errors(exc), status=413)
    except ValidationFailed as exc:
        return _session_page(request, user, session, report_errors=_errors(exc), status=400)
    messages.success(
        request,
        f"Imported {summary.rows} report rows: {summary.attendances} registrants matched to contacts "
        f"({summary.no_shows} did not attend), {summary.unmatched} to match by hand.",
    )
    return redirect("webinars:session", session_id=session.pk)


@login_required
@require_http_methods(["POST"])
def unmatched_match(request: HttpRequest, unmatched_id: int) -> HttpResponse:
    """Match an unmatched attendee to a contact (``contact``: its id). htmx gets the row back."""
    user = _viewer(request)
    row = selectors.unmatched_for_user(user, unmatched_id, write=True)
    contact = selectors.contact_for_match(user, request.POST.get("contact", ""))
    error = ""
    try:
        services.unmatched_match(actor=user, unmatched=row, contact=contact)
    except ValidationFailed as exc:
        error = " ".join(_errors(exc))
    if request.headers.get("HX-Request"):
        row = selectors.unmatched_for_user(user, unmatched_id)
        return _unmatched_row(request, user, row, error=error, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Matched {row.email} to {contact.name}.")
    return redirect("webinars:session", session_id=row.session_id)


def _unmatched_row(
    request: HttpRequest, user: User, row: UnmatchedAttendee, *, error: str = "", status: int = 200
) -> HttpResponse:
    row.candidates = selectors.match_candidates(user, [row]).get(row.pk, [])  # type: ignore[attr-defined]
    context = {"u": row, "can_edit": policy.can_edit_webinars(user), "error": error}
    return render(request, "webinars/_unmatched_row.html", context, status=status)


def _form_page(request: HttpRequest, form: SessionForm, session: Session | None, status: int = 200) -> HttpResponse:
    return render(request, "webinars/form.html", {"form": form, "session": session}, status=status)


def _save(request: HttpRequest, user: User, form: SessionForm, session: Session | None) -> HttpResponse:
    if not form.is_valid():
        return _form_page(request, form, session, status=400)
    data: dict[str, Any] = dict(form.cleaned_data)
    try:
        if session is None:
            session = services.session_create(actor=user, data=data)
            messages.success(request, "Session created.")
        else:
            services.session_update(actor=user, session=session, data=data)
            messages.success(request, "Session saved.")
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return _form_page(request, form, session, status=400)
    return redirect("webinars:session", session_id=session.pk)


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    form = SessionForm(request.POST or None, hosts=selectors.host_choices(), initial={"host": user.pk})
    if request.method == "POST":
        return _save(request, user, form, None)
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id, write=True)
    form = SessionForm(request.POST or None, hosts=selectors.host_choices(), initial=session_initial(session))
    if request.method == "POST":
        return _save(request, user, form, session)
    return _form_page(request, form, session)
