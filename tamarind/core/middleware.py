from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

from tamarind.core.context import request_id_scope

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
