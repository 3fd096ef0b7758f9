"""Notification pages: the list (unread first), the bell's count, marking read, and the email settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.notifications import selectors, services
from tamarind.notifications.forms import EmailNotificationsForm
from tamarind.people.models import EmailNotifications

PAGE_SIZE = 50
FILTERS = {"all": "All", "unread": "Unread"}


def _filter(value: str | None) -> str:
    return value if value in FILTERS else "all"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _list_context(request: HttpRequest, show: str) -> dict[str, Any]:
    user = request_user(request)
    notifications = selectors.notification_list(user=user, unread_only=show == "unread")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "show": show,
        "filters": FILTERS,
        "unread": selectors.unread_count(user=user),
    }


@login_required
@require_http_methods(["GET"])
def notification_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, _filter(request.GET.get("show")))
    if _is_htmx(request) and request.headers.get("HX-Target") == "notification-list":
        return render(request, "notifications/_list.html", context)
    return render(request, "notifications/list.html", context)


@never_cache
@require_http_methods(["GET"])
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's content: polled by htmx from the top bar of every page."""
    if not request.user.is_authenticated:
        if _is_htmx(request):
            # Signed out in the meantime (session expired): 286 tells htmx to stop polling, instead of following
            # the redirect and pasting the sign-in page into the top bar.
            return HttpResponse(status=286)
        return redirect_to_login(request.get_full_path())
    return render(request, "notifications/_bell.html", {"unread": selectors.unread_count(user=request_user(request))})


@login_required
@require_http_methods(["POST"])
def notification_mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    user = request_user(request)
    notification = selectors.notification_for_user(user, notification_id)
    services.notification_mark_read(actor=user, notification=notification)
    if _is_htmx(request):
        # The row, read now; the bell and the page's count follow out of band.
        context = {"n": notification, "unread": selectors.unread_count(user=user), "oob": True}
        return render(request, "notifications/_row_read.html", context)
    return redirect("notifications:list")


@login_required
@require_http_methods(["POST"])
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and go where it points (a path inside Tamarind)."""
    user = request_user(request)
    notification = selectors.notification_for_user(user, notification_id)
    services.notification_mark_read(actor=user, notification=notification)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_http_methods(["POST"])
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    marked = services.notification_mark_all_read(actor=user)
    show = _filter(request.POST.get("show"))
    if _is_htmx(request):
        return render(request, "notifications/_list.html", {**_list_context(request, show), "oob": True})
    messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read.")
    return redirect(f"{reverse('notifications:list')}?show={show}")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Your email preference for notifications: each one immediately, a daily digest, or none."""
    user = request_user(request)
    form = EmailNotificationsForm(request.POST or None, initial={"email_notifications": user.email_notifications})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = services.user_set_email_notifications(
                    actor=user, user=user, choice=form.cleaned_data["email_notifications"], source="web"
                )
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                label = EmailNotifications(user.email_notifications).label
                messages.success(request, f"Saved. Notification emails: {label}." if changed else "Nothing changed.")
                return redirect("notifications:settings")
        status = 400
    return render(request, "notifications/settings.html", {"form": form}, status=status)
