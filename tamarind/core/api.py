"""The REST API's shell: bearer-token auth, JSON errors, the routers of every app under ``/api/v1/``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from tamarind.core.errors import ValidationFailed
from tamarind.core.middleware import database_busy_response
from tamarind.core.resilience import is_db_unavailable


class BearerToken(HttpBearer):
    """``Authorization: Bearer tmd_...``; tokens are created on the web UI or with ``tamarind token create``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from tamarind.people.services import token_authenticate

        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session (CSRF-checked), so pages can call the API too."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Tamarind API",
        version="1",
        description=(
            "The account book and everything around it. Authenticate with `Authorization: Bearer <token>`; "
            "create a token under *API tokens* in the web UI or with `tamarind token create EMAIL`. "
            'Errors are JSON: `{"detail": "..."}` with the right 4xx status.'
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
        messages = []
        for err in exc.errors:
            loc = ".".join(str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query"))
            messages.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
        return api.create_response(
            request, {"detail": "; ".join(messages) or "Invalid input.", "errors": exc.errors}, status=422
        )

    from tamarind.accounts.api import router as accounts_router
    from tamarind.actions.api import router as actions_router
    from tamarind.assignment.api import router as assignment_router
    from tamarind.dashboards.api import router as dashboards_router
    from tamarind.health.api import router as health_router
    from tamarind.imports.api import router as imports_router
    from tamarind.notifications.api import router as notifications_router
    from tamarind.onboarding.api import router as onboarding_router
    from tamarind.people.api import router as people_router
    from tamarind.scheduler.api import router as scheduler_router
    from tamarind.timeline.api import router as timeline_router
    from tamarind.triage.api import router as triage_router
    from tamarind.usage.api import router as usage_router

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
