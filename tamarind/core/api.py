"""The REST API's shell: bearer-token auth, JSON errors, the routers of every app under ``/api/v1/``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from tamarind.core.errors import ValidationFailed
from tamarind.core.middleware import body_too_large_message, database_busy_response
from tamarind.core.resilience import is_db_unavailable
from tamarind.core.schemas import ErrorOut


class BearerToken(HttpBearer):
    """``Authorization: Bearer tmd_...``; tokens are created on the web UI or with ``tamarind token create``."""

    def __call__(self, request: HttpRequest) -> Any:
        # ninja's own version logs a header of another scheme whole (``Basic ...``, ``Token tmd_...``, a bare
        # token) when DEBUG is on; any such header is simply not ours, so it is ignored without a word.
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from tamarind.people.services import token_authenticate

        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session (CSRF-checked), so pages can call the API too."""

    param_name = "sessionid"

    def __call__(self, request: HttpRequest) -> Any:
        # The CSRF check guards what a session may do, so it only runs once a session has signed someone in:
        # a write with no credentials, or a forged or revoked token, is unauthenticated (401) like a read, not
        # "CSRF check Failed" (403). A signed-in browser's write without its CSRF token is still refused (403).
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return getattr(request, "user", None)


# The error answers every operation may give, documented on each (with the shared ErrorOut body) by the rules
# of ``error_statuses``; a route's own ``response=`` entries are kept.
ERROR_ANSWERS = {
    400: "Malformed request body: not JSON, or not JSON of the expected shape.",
    401: "No valid credentials: a missing, forged or revoked token (or a token of a deactivated person).",
    403: "Not allowed: you may read this but not change it (or a signed-in session's write sent no CSRF token).",
    404: "No such row, or none that you may read.",
    413: "The request body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE); `detail` gives it.",
    422: "Invalid input: `detail` names each field or parameter at fault, `errors` lists them.",
    503: "The database is busy (a long job holds its write lock) or unreachable; nothing was changed. Retry after "
    "the seconds the `Retry-After` header gives.",
}


def error_statuses(method: str, operation: dict[str, Any], path: str) -> set[int]:
    """The error statuses an operation can answer, whatever its route declares."""
    statuses = {422, 503}  # any parameter (a NUL in the query string is refused on every route) or a service's refusal
    if operation.get("security"):
        statuses.add(401)
    if "{" in path:
        statuses.add(404)
    if method != "get":
        statuses.add(403)
    if "requestBody" in operation:
        statuses |= {400, 413}
    return statuses


class TamarindAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in error_statuses(method, operation, path):
                    if status not in responses and str(status) not in responses:
                        responses[status] = {
                            "description": ERROR_ANSWERS[status],
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
                        }
        return schema


def build_api() -> NinjaAPI:
    api = TamarindAPI(
        title="Tamarind API",
        version="1",
        description=(
            "The account book and everything around it. Authenticate with `Authorization: Bearer <token>`; "
            "create a token under *API tokens* in the web UI or with `tamarind token create EMAIL`. "
            'Errors are JSON: `{"detail": "..."}` with the right 4xx status (each operation lists its own). '
            "Integers are 64-bit; dates and times lie between 1900-01-01 and 2999-12-31; text may not contain NUL "
            f"characters; a request body may be at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE; an upload's file does not count)."
        ),
        auth=[BearerToken(), SessionAuth()],
        urls_namespace="api",
    )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)

    @api.exception_handler(ValidationFailed)
    def invalid(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc), "errors": exc.errors}, status=422)

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Bodies are refused earlier by RequestGuardMiddleware; an upload's form fields can only be measured here.
        return api.create_response(request, {"detail": body_too_large_message()}, status=413)

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def database_busy(request: HttpRequest, exc: Exception) -> HttpResponse:
        """A busy or unreachable database: 503 with Retry-After (core.middleware); any other database error is a bug."""
        if is_db_unavailable(exc):
            return database_busy_response(request, exc)
        raise exc

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(
            request, {"detail": "Authentication required: send 'Authorization: Bearer <token>'."}, status=401
        )

    @api.exception_handler(ValidationError)
    def bad_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        out_of_range = ("less_than_equal", "greater_than_equal")
        if exc.errors and all(e.get("loc", [""])[0] == "path" and e.get("type") in out_of_range for e in exc.errors):
            # An id in the path beyond what the database can hold names no row, like any other unknown id.
            return api.create_response(request, {"detail": "Not found: there is no such id."}, status=404)
        messages = []
        for err in exc.errors:
            # Drop where the value was sent (``body`` / ``query``) and the body parameter's name (``payload``), but
            # not a field of that name further on (a message's ``body``): the detail must name it.
            parts = list(err.get("loc", []))
            if parts[:1] in (["body"], ["query"]):
                parts = parts[1:]
            if parts[:1] == ["payload"]:
                parts = parts[1:]
            loc = ".".join(str(p) for p in parts)
            messages.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
        return api.create_response(
            request, {"detail": "; ".join(messages) or "Invalid input.", "errors": exc.errors}, status=422
        )

    from tamarind.accounts.api import router as accounts_router
    from tamarind.actions.api import router as actions_router
    from tamarind.assignment.api import router as assignment_router
    from tamarind.cohorts.api import router as cohorts_router
    from tamarind.contacts.api import router as contacts_router
    from tamarind.dashboards.api import router as dashboards_router
    from tamarind.engagement.api import router as engagement_router
    from tamarind.health.api import router as health_router
    from tamarind.imports.api import router as imports_router
    from tamarind.journeys.api import router as journeys_router
    from tamarind.notifications.api import router as notifications_router
    from tamarind.onboarding.api import router as onboarding_router
    from tamarind.people.api import router as people_router
    from tamarind.renewals.api import router as renewals_router
    from tamarind.reviews.api import router as reviews_router
    from tamarind.scheduler.api import router as scheduler_router
    from tamarind.servicedesk.api import router as servicedesk_router
    from tamarind.signals.api import router as signals_router
    from tamarind.stuck.api import router as stuck_router
    from tamarind.success.api import router as success_router
    from tamarind.surveys.api import router as surveys_router
    from tamarind.timeline.api import router as timeline_router
    from tamarind.triage.api import router as triage_router
    from tamarind.usage.api import router as usage_router
    from tamarind.webinars.api import router as webinars_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/", people_router)
    api.add_router("/imports", imports_router)
    api.add_router("/rules", assignment_router)
    api.add_router("/tasks", actions_router)
    api.add_router("/notifications", notifications_router)
    api.add_router("/onboarding", onboarding_router)
    api.add_router("/timeline", timeline_router)
    api.add_router("/scheduler", scheduler_router)
    api.add_router("/dashboards", dashboards_router)
    api.add_router("/health", health_router)
    api.add_router("/triage", triage_router)
    api.add_router("/usage", usage_router)
    api.add_router("/success", success_router)
    api.add_router("/reviews", reviews_router)
    api.add_router("/engagement", engagement_router)
    api.add_router("/renewals", renewals_router)
    api.add_router("/stuck", stuck_router)
    api.add_router("/signals", signals_router)
    api.add_router("/servicedesk", servicedesk_router)
    api.add_router("/contacts", contacts_router)
    api.add_router("/surveys", surveys_router)
    api.add_router("/journeys", journeys_router)
    api.add_router("/cohorts", cohorts_router)
    api.add_router("/webinars", webinars_router)

    # Mounted last, so it only sees paths no other route matched.
    fallback = Router()

    @fallback.api_operation(
        ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:unknown}", auth=None, include_in_schema=False
    )
    def unknown_route(request: HttpRequest, unknown: str) -> HttpResponse:
        """Anything else under /api/v1/ answers a JSON 404 (not an HTML page, not a slash redirect)."""
        return api.create_response(
            request, {"detail": f"No API route {request.method} /api/v1/{unknown}. See /api/v1/docs."}, status=404
        )

    api.add_router("/", fallback)

    return api


api = build_api()
