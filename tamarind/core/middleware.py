from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

from tamarind.core.context import request_id_scope
from tamarind.core.resilience import RETRY_AFTER_SECONDS, describe, is_db_unavailable
from tamarind.core.values import NUL_MESSAGE

logger = logging.getLogger("tamarind.web")

# A caller-supplied id is kept only when it is short and plain, so it cannot smuggle text into logs.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give every request an id (or keep a safe ``X-Request-ID``), echo it back, and expose it to services."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        with request_id_scope(supplied if _SAFE_ID.match(supplied) else None) as rid:
            request.request_id = rid  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


def body_too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    megabytes = f" ({limit / (1024 * 1024):.0f} MB)" if limit >= 1024 * 1024 else ""
    return (
        f"The request body is larger than the {limit:,} bytes{megabytes} this server accepts "
        "(DATA_UPLOAD_MAX_MEMORY_SIZE). Send less at once, e.g. in several smaller batches."
    )


def refused(request: HttpRequest, status: int, title: str, message: str, field: str | None = None) -> HttpResponse:
    """A refusal before any view ran: JSON for the API (``{"detail", "errors"}``), a page for a person."""
    if request.path.startswith("/api/"):
        body: dict[str, object] = {"detail": f"{field}: {message}" if field else message}
        if field:
            body["errors"] = {field: [message]}
        return JsonResponse(body, status=status)
    # "Go back" returns to the page the form was on (same site only), else the browser's history is used.
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else ""
    context = {"title": title, "message": message, "field": field, "status": status, "back": back}
    html = render_to_string("core/refused.html", context, request=request)
    return HttpResponse(html, status=status)


class RequestGuardMiddleware:
    """Refuses, before any view or the CSRF check reads the request, what no view could handle:

    - a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (uploads excepted: their files are not counted) is a 413 naming
      the limit (Django would answer an HTML 400, or a 500 where it surfaced inside a view);
    - a NUL character in the path, a query parameter or a web form's field is a 422 (API) or 400 (page) naming
      the parameter: PostgreSQL cannot store or even compare such text.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.check(request) or self.get_response(request)

    def check(self, request: HttpRequest) -> HttpResponse | None:
        api = request.path.startswith("/api/")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        multipart = request.content_type == "multipart/form-data"
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if limit is not None and declared > limit and not multipart:
            return refused(request, 413, "Too much at once", body_too_large_message())
        nul_status = 422 if api else 400
        if "\x00" in request.path:
            return refused(request, nul_status, "Not a valid address", f"The address: {NUL_MESSAGE}", None)
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return refused(request, nul_status, "Not a valid request", NUL_MESSAGE, key.replace("\x00", ""))
        if api or request.method != "POST":
            return None  # the API's bodies are checked by its schemas (core.schemas)
        try:
            fields = request.POST  # parsed here rather than by the CSRF check just after, as it would anyway
        except RequestDataTooBig:
            return refused(request, 413, "Too much at once", body_too_large_message())
        for key, values in fields.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return refused(request, nul_status, "Not a valid form", NUL_MESSAGE, key.replace("\x00", ""))
        return None


class ProductNotFoundMiddleware:
    """Serve the product's 404 page even with DEBUG on.

    With DEBUG on (what ``make run`` serves, so a developer keeps Django's traceback page for a 500) Django answers
    a 404 with its technical page, listing the URL patterns: baffling for someone trying the product. This renders
    ``core.views.page_not_found`` instead, for a view's ``Http404`` (``process_exception``) and for an address no
    URL matches (the response of an unresolved request). With DEBUG off Django calls the same view as handler404,
    so this does nothing then. The API (``/api/``) keeps its own JSON answers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and not request.path.startswith("/api/")
        ):
            from tamarind.core.views import page_not_found

            return page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404) and not request.path.startswith("/api/"):
            from tamarind.core.views import page_not_found

            return page_not_found(request, exception)
        return None


# The request attribute where ``note_database_busy`` leaves an error raised outside a view (another middleware's).
_BUSY = "_tamarind_database_busy"


def database_busy_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with Retry-After for a request that met a busy or unreachable database: JSON ``{"detail": ...}`` under
    /api/, a page of its own elsewhere (it touches no database: the page must render while the database cannot)."""
    logger.warning(
        "database busy: %s %s answered 503 (%s)", request.method, request.path, describe(exc), exc_info=False
    )
    detail = (
        f"The database is busy (another job is writing to it) or unreachable; nothing was changed. "
        f"Try again in {RETRY_AFTER_SECONDS} seconds."
    )
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail}, status=503)
    else:
        html = render_to_string("core/database_busy.html", {"detail": detail, "retry": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def note_database_busy(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver: remember a busy-database error raised outside a view (a middleware's, such
    as the session's save) so ``DatabaseBusyMiddleware`` answers 503 instead of the 500 Django made of it."""
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_db_unavailable(exc):
        setattr(request, _BUSY, exc)


class DatabaseBusyMiddleware:
    """A request that meets a busy database (SQLite's write lock held past the busy timeout by a long job, a
    PostgreSQL lock timeout) or an unreachable one answers 503 with Retry-After, never a 500 (see
    ``core.resilience.is_db_unavailable``). Sits near the top of MIDDLEWARE: views' errors come to
    ``process_exception``; those of the middleware below it come as a 500 marked by ``note_database_busy``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(note_database_busy, dispatch_uid="tamarind-database-busy")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, _BUSY, None)
        if exc is not None and response.status_code == 500:
            return database_busy_response(request, exc)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_db_unavailable(exception):
            return database_busy_response(request, exception)
        return None
