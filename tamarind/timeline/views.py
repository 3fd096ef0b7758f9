"""Timeline pages: an account's whole timeline, and logging an entry (the quick entry on the account page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.onboarding.selectors import account_panel as onboarding_panel
from tamarind.timeline import selectors, services
from tamarind.timeline.forms import TimelineEntryForm
from tamarind.timeline.panels import account_timeline as timeline_panel

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET"])
def account_timeline(request: HttpRequest, account_id: int) -> HttpResponse:
    user = request_user(request)
    account = account_for_user(user, account_id)
    page = Paginator(selectors.timeline_entries(account=account), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**timeline_panel(user=user, account=account), "account": account, "page": page}
    return render(request, "timeline/account.html", context)


@login_required
@require_http_methods(["POST"])
def timeline_entry_create(request: HttpRequest, account_id: int) -> HttpResponse:
    """Log an entry. htmx gets the refreshed timeline panel (and the onboarding panel, which a call may have
    changed); a plain form post goes back to the account page."""
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_log_timeline(user, account):
        raise PermissionDenied("Only the account's team, its region's manager and admins log timeline entries.")
    attendees = selectors.attendee_choices(user=user, account=account)
    form = TimelineEntryForm(request.POST, attendees=attendees)
    status = 200
    if form.is_valid():
        try:
            services.timeline_entry_create(actor=user, account=account, data=form.service_data(), source="web")
        except ValidationFailed as exc:
            add_service_errors(form, exc)
            status = 400
        else:
            if not request.headers.get("HX-Request"):
                messages.success(request, "Logged on the timeline.")
                return redirect("accounts:detail", account_id=account.pk)
            form = TimelineEntryForm(attendees=attendees)
    else:
        status = 400
    context = {
        **timeline_panel(user=user, account=account, form=form),
        **onboarding_panel(user=user, account=account),
        "account": account,
        "timeline_saved": status == 200,
        "oob": True,
    }
    if not request.headers.get("HX-Request"):
        page = Paginator(selectors.timeline_entries(account=account), PAGE_SIZE).get_page(1)
        return render(request, "timeline/account.html", {**context, "page": page}, status=status)
    return render(request, "timeline/_panel.html", context, status=status)
