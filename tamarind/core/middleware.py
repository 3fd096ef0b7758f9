from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
