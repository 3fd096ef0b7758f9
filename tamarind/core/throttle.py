"""A per-client request budget for the pages that need no sign-in (a survey link, a service desk request link, a
journey's unsubscribe link). Their tokens are long random secrets, so guessing one is hopeless; the budget keeps a
client that tries anyway (or floods a link) from costing the database more than a person would.

Counted in Django's cache, one counter per scope, client address and window: the default local-memory cache counts
per process, which is enough on one server; several processes share a budget when ``CACHES`` points at Redis
(``TAMARIND_CACHE_URL=redis://127.0.0.1:6379/1``). The client address is ``REMOTE_ADDR``, or the address a trusted
proxy put first in ``X-Forwarded-For`` when ``TAMARIND_TRUST_X_FORWARDED_FOR`` is on (only behind such a proxy:
the header is otherwise the client's to forge).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

View = Callable[..., HttpResponse]


def client_address(request: HttpRequest) -> str:
    if getattr(settings, "TAMARIND_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first[:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def budget() -> tuple[int, int]:
    """(requests, seconds): how many requests one client may make to one scope's public links per window."""
    requests, seconds = getattr(settings, "TAMARIND_PUBLIC_LINK_RATE", (120, 600))
    return int(requests), int(seconds)


def spend(scope: str, address: str, *, now: float | None = None) -> int | None:
    """Count one request of ``address`` to ``scope``; ``None`` while within the budget, else the seconds until the
    window ends (for ``Retry-After``)."""
    requests, seconds = budget()
    moment = time.time() if now is None else now
    window = int(moment // seconds)
    key = f"tamarind:throttle:{scope}:{address}:{window}"
    # add() then incr(): atomic on the local-memory and Redis caches, so two requests at once both count.
    cache.add(key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=seconds + 1)
        used = 1
    if used <= requests:
        return None
    return max(1, int((window + 1) * seconds - moment))


def throttled(scope: str) -> Callable[[View], View]:
    """Refuse a client over its budget for ``scope`` with 429 and a page that says when to try again."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            wait = spend(scope, client_address(request))
            if wait is not None:
                response = render(request, "core/throttled.html", {"wait_minutes": -(-wait // 60)}, status=429)
                response["Retry-After"] = str(wait)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
