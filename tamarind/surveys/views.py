"""Survey pages: the contact's answer page (``/s/<token>/``, no sign-in: the token is the credential), the results
page (``/surveys/``) and the account page's send and revoke actions."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.core.throttle import throttled
from tamarind.people.models import User
from tamarind.renewals.selectors import renewal_settings
from tamarind.surveys import selectors, services
from tamarind.surveys.models import COMMENT_MAX, EDIT_DAYS, SCALE, SurveyKind

QUESTIONS: dict[str, str] = {
    SurveyKind.NPS: "How likely are you to recommend us to a friend or colleague?",
    SurveyKind.CSAT: "How satisfied are you with our service?",
}
LEGENDS: dict[str, tuple[str, str]] = {
    SurveyKind.NPS: ("0 = not at all likely", "10 = extremely likely"),
    SurveyKind.CSAT: ("1 = very dissatisfied", "5 = very satisfied"),
}


def _posted_score(request: HttpRequest) -> int | None:
    raw = request.POST.get("score", "")
    return int(raw) if raw.isdigit() and len(raw) < 4 else None


def _errors(exc: ValidationFailed) -> str:
    return " ".join(m for msgs in exc.errors.values() for m in msgs)


# --- The contact's page (no sign-in) --------------------------------------------------------------------------
@throttled("survey_link")
@csrf_protect
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The survey: the question, the scale's buttons and a comment; the answer once given (changeable for
    ``EDIT_DAYS``, then read-only). Shows nothing but the contact's first name and the account's name. An unknown
    token answers 404, a revoked or expired link 410, each with a page of its own."""
    from django.http import Http404

    try:
        invitation = selectors.invitation_by_token(token)
    except Http404:
        return render(request, "surveys/link_refused.html", {"reason": "unknown"}, status=404)
    now = timezone.now()
    existing = selectors.answer_of(invitation)
    state = invitation.state(now)
    if state == "revoked" or (state == "expired" and existing is None):
        return render(request, "surveys/link_refused.html", {"reason": state}, status=410)
    error = ""
    if request.method == "POST":
        try:
            services.survey_answer_submit(
                invitation=invitation,
                score=request.POST.get("score", ""),
                comment=request.POST.get("comment", ""),
            )
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            # 303 See Other: the browser shows the answer with a GET.
            return HttpResponse(
                status=303, headers={"Location": reverse("survey_link:answer", args=[token]) + "?saved=1"}
            )
        invitation = selectors.invitation_by_token(token)
        existing = selectors.answer_of(invitation)
    low, high = SCALE[invitation.kind]
    editable = existing is None or existing.editable(now)
    first_name = (invitation.contact.name or "").split(" ")[0]
    return render(
        request,
        "surveys/answer.html",
        {
            "first_name": first_name,
            "account_name": invitation.account.name,
            "question": QUESTIONS[invitation.kind],
            "legend": LEGENDS[invitation.kind],
            "scale": range(low, high + 1),
            "answer": existing,
            "editable": editable,
            "edit_until": existing.answered_at + dt.timedelta(days=EDIT_DAYS) if existing else None,
            "selected": _posted_score(request) if error else (existing.score if existing else None),
            "comment": request.POST.get("comment", "")[:COMMENT_MAX]
            if error
            else (existing.comment if existing else ""),
            "comment_max": COMMENT_MAX,
            "error": error,
            "saved": request.GET.get("saved") == "1" and not error,
        },
        status=400 if error else 200,
    )


# --- Staff pages ------------------------------------------------------------------------------------------------


def _results_user(request: HttpRequest) -> User:
    user = request_user(request)
    if not policy.can_view_survey_results(user):
        raise PermissionDenied("Survey results are for TAMs, managers, directors and admins.")
    return user


@login_required
@require_http_methods(["GET"])
def results(request: HttpRequest) -> HttpResponse:
    """NPS and CSAT per quarter, TAM, program and account under the filters; each figure links to the answers
    behind it, listed below with their comments."""
    user = _results_user(request)
    start_month = renewal_settings().fiscal_start_month
    filters = selectors.parse_filters(request.GET, start_month)
    found = selectors.survey_results(user, filters, start_month=start_month)
    page = Paginator(selectors.answers_page(user, filters), selectors.ANSWERS_PER_PAGE).get_page(
        request.GET.get("page")
    )

    def link(**changes: object) -> str:
        return "?" + urlencode(filters.query(**changes)) + "#answers"

    for row in [*found.quarters, *found.tams, *found.programs, *found.accounts]:
        row.link = link(**row.key)  # type: ignore[attr-defined]
        row.detractors_link = link(**row.key, bucket="detractor")  # type: ignore[attr-defined]
        row.promoters_link = link(**row.key, bucket="promoter")  # type: ignore[attr-defined]
    return render(
        request,
        "surveys/results.html",
        {
            "results": found,
            "filters": filters,
            "page": page,
            "kinds": SurveyKind.choices,
            "scope": policy.account_scope_label(user, own_only=True),
            "page_query": urlencode(filters.query()),
            "links": {
                "detractor": link(bucket="detractor"),
                "promoter": link(bucket="promoter"),
                "satisfied": link(bucket="satisfied"),
                "all": link(),
            },
        },
    )


@login_required
@require_http_methods(["POST"])
def invite(request: HttpRequest, account_id: int) -> HttpResponse:
    """Send a survey to one of the account's contacts (the account page's form); the new link is shown once."""
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_send_survey(user, account):
        raise PermissionDenied("Only the account's TAM, the region's manager or an admin sends a survey.")
    raw = request.POST.get("contact", "")
    contact = Contact.objects.filter(account=account, pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
    try:
        if contact is None:
            raise ValidationFailed({"contact": ["Choose one of the account's contacts."]})
        invitation = services.survey_invitation_create(
            contact=contact, kind=request.POST.get("kind", ""), actor=user, source="web"
        )
    except ValidationFailed as exc:
        messages.error(request, _errors(exc))
        response = redirect("accounts:detail", account_id=account.pk)
        response.status_code = 303
        return response
    url = request.build_absolute_uri(invitation.path)
    messages.success(request, f"Survey sent to {contact.name}: {url}")
    return redirect(reverse("accounts:detail", args=[account.pk]) + "#surveys-panel")


@login_required
@require_http_methods(["POST"])
def revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Withdraw a survey link (it answers 410 from now on)."""
    user = request_user(request)
    invitation = selectors.invitation_for_user(user, invitation_id, write=True)
    services.survey_invitation_revoke(actor=user, invitation=invitation, source="web")
    messages.success(request, f"Survey link for {invitation.contact.name} revoked.")
    return redirect(reverse("accounts:detail", args=[invitation.account_id]) + "#surveys-panel")
