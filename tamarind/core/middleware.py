from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from tamarind.core.context import request_id_scope
from tamarind.core.resilience import RETRY_AFTER_SECONDS, describe, is_db_unavailable

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
