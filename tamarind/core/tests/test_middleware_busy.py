"""``DatabaseBusyMiddleware``: a busy database answers 503 with Retry-After (a page, or JSON under /api/), whether the
error comes from a view or from a middleware below it; any other database error stays a 500."""

from __future__ import annotations

import json

import pytest
from django.core.handlers.exception import convert_exception_to_response
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from tamarind.core.middleware import DatabaseBusyMiddleware

LOCKED = OperationalError("database is locked")


def never(request: HttpRequest) -> HttpResponse:
    raise AssertionError("not called")


@pytest.fixture
def rf() -> RequestFactory:
    return RequestFactory()


def test_a_view_meeting_a_locked_database_gets_a_503_page(rf, caplog):
    response = DatabaseBusyMiddleware(never).process_exception(rf.post("/notifications/1/read/"), LOCKED)
    assert response is not None and response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "The database is busy" in response.content.decode()
    assert "database busy: POST /notifications/1/read/ answered 503 (OperationalError: database is locked)" in (
        caplog.text
    )


def test_an_api_call_gets_json(rf):
    response = DatabaseBusyMiddleware(never).process_exception(rf.patch("/api/v1/accounts/1"), LOCKED)
    assert response is not None and response.status_code == 503 and response["Retry-After"] == "5"
    assert json.loads(response.content)["detail"].startswith("The database is busy")


def test_other_database_errors_stay_errors(rf):
    middleware = DatabaseBusyMiddleware(never)
    assert middleware.process_exception(rf.get("/"), OperationalError("no such table: x")) is None
    assert middleware.process_exception(rf.get("/"), ValueError("database is locked")) is None


def test_a_middleware_below_meeting_a_locked_database_gets_503_not_500(rf, settings):
    """Django turns an error raised in a middleware (the session's save, say) into a 500 before it reaches the
    middleware above; the got_request_exception signal marks it, and the 500 becomes a 503."""
    settings.DEBUG = False

    def session_save(request: HttpRequest) -> HttpResponse:
        raise OperationalError("database is locked")

    inner = convert_exception_to_response(session_save)
    response = DatabaseBusyMiddleware(inner)(rf.post("/login/"))
    assert response.status_code == 503 and response["Retry-After"] == "5"

    def broken(request: HttpRequest) -> HttpResponse:
        raise OperationalError("no such column: x")

    assert DatabaseBusyMiddleware(convert_exception_to_response(broken))(rf.post("/login/")).status_code == 500
