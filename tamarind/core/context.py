"""The request context that services read without threading it through every call.

Only the request id lives here: the actor is always passed explicitly to services, because a write
without a named actor is a bug, while a write outside a request (CLI, worker) simply has no request id.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("tamarind_request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def request_id_scope(request_id: str | None = None) -> Iterator[str]:
    """Run a block (a request, a CLI command, a background task) under one request id."""
    rid = request_id or new_request_id()
    token = _request_id.set(rid)
    try:
        yield rid
    finally:
        _request_id.reset(token)
