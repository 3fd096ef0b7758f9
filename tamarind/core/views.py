"""Core pages: home, the health check, and the product's error pages (403, 404, 500, CSRF failure)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.utils.html import escape

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """Where a person lands (also after signing in): a TAM Manager on My week, others on their accounts."""
    from tamarind import policy

    return redirect(policy.home_url_name(request.user))  # type: ignore[arg-type]


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `make run` scripts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- The product's error pages -----------------------------------------------------------------------------------
# 403, 404 and 500 in the base layout (the sidebar for someone signed in), each with a way back (the previous page
# when it was one of ours, and home) and the request id to quote. ``config.urls`` names them as Django's handlers;
# ``middleware.ProductNotFoundMiddleware`` serves the 404 with DEBUG on too (``make run``).

ERRORS: dict[int, tuple[str, str]] = {
    403: (
        "You may not do that",
        "This page or action belongs to another role. If you think you should have it, ask your TAM Manager or an "
        "admin.",
    ),
    404: (
        "Page not found",
        "There is no such page, or it is outside the book you may see. Check the address, or go back.",
    ),
    500: ("Something went wrong", "The error is logged with the request id below. Try again in a moment."),
}


def _back(request: HttpRequest) -> str:
    """The previous page when it was one of ours (same host), else "": the way back never leads off site."""
    referer = request.headers.get("Referer", "")
    if not referer:
        return ""
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.get_host():
        return ""
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or path == request.path:
        return ""
    return path + (f"?{parts.query}" if parts.query else "")


def error_page(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    """Render the product's page for ``status`` (``message``: what the refusal said, shown instead of the default)."""
    title, default = ERRORS[status]
    context = {
        "status": status,
        "title": title,
        "message": message or default,
        "back": _back(request),
        "request_id": getattr(request, "request_id", ""),
    }
    return render(request, "core/error.html", context, status=status)


def _refusal(exception: Exception | None) -> str:
    """The words of a refusal raised with a message (``PermissionDenied("Only admins ...")``); Django's own carry
    none a person should read."""
    text = str(exception or "").strip()
    return text if text and not text.startswith(("{", "[", "<")) and "Resolver404" not in text else ""


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return error_page(request, 404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _refusal(exception) or "Forbidden."}, status=403)
    return error_page(request, 403, _refusal(exception))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without a valid CSRF token (an old tab, a session that changed): the 403 page, saying so."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "CSRF check failed."}, status=403)
    return error_page(
        request, 403, "This form has expired (the page was open a long time, or you signed in again): reload and retry."
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page. It must answer even when what broke is what the layout needs (the database, the session), so
    a plain page with the request id stands behind it."""
    rid = escape(getattr(request, "request_id", ""))
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal error.", "request_id": rid}, status=500)
    try:
        return error_page(request, 500)
    except Exception:
        logger.exception("The 500 page could not render in the layout (request %s)", rid)
        title, message = ERRORS[500]
        return HttpResponseServerError(
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · Tamarind</title></head>'
            f"<body><h1>{title}</h1><p>{message}</p><p>Request id <code>{rid}</code></p>"
            '<p><a href="/">Home</a></p></body></html>'
        )
