"""The audit log: a filtered, paginated read of the trail for admins, and its CSV export. Nothing here writes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.audit import selectors
from tamarind.audit.forms import AuditFilterForm
from tamarind.audit.models import AuditEvent
from tamarind.core.csv_safe import csv_lines
from tamarind.core.http import request_user
from tamarind.people.models import User

PAGE_SIZE = 50
EXPORT_COLUMNS = (
    "at",
    "actor",
    "source",
    "request_id",
    "object_type",
    "object_id",
    "object",
    "action",
    "before",
    "after",
)
# Object types whose rows link to a page of their own: type -> (url name, its id argument).
OBJECT_LINKS = {
    "accounts.account": ("accounts:detail", "account_id"),
    "people.user": ("people:detail", "person_id"),
    "people.region": ("people:region_detail", "region_id"),
}


def _gate(user: User) -> None:
    # Before anything is read, so a refused request costs no queries and reveals nothing.
    if not policy.can_view_audit_log(user):
        raise PermissionDenied("Only admins read the audit log.")


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    form = AuditFilterForm(
        request.GET,
        object_types=selectors.audit_object_types(),
        actors=selectors.audit_actor_choices(),
    )
    form.is_valid()  # fields that fail to parse are left out of the filter and shown as warnings
    return form


@login_required
@require_http_methods(["GET"])
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _gate(user)
    form = _filter_form(request)
    filters = form.filters()
    events = selectors.audit_events(user=user, filters=filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(form.object_type_choices)
    selectors.attach_changes(page.object_list)
    for event in page.object_list:
        link = OBJECT_LINKS.get(event.object_type)
        event.link = (link[0], event.object_id) if link and event.object_id.isdigit() else None  # type: ignore[attr-defined]
        event.type_label = labels.get(event.object_type) or selectors.object_type_label(event.object_type)  # type: ignore[attr-defined]
    params = request.GET.copy()
    params.pop("page", None)
    context = {"form": form, "filters": filters, "page": page, "export_query": params.urlencode()}
    return render(request, "audit/log.html", context)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)


def _rows(events: Any) -> Iterator[list[str]]:
    """The header, then one row per event; ``csv_lines`` escapes every cell (names come from user input)."""
    yield list(EXPORT_COLUMNS)
    event: AuditEvent
    for event in events.iterator(chunk_size=2000):
        yield [
            event.at.astimezone(dt.UTC).isoformat(),
            event.actor_name,
            event.source,
            event.request_id,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.action,
            _json(event.before),
            _json(event.after),
        ]


@login_required
@require_http_methods(["GET"])
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered log as CSV, streamed row by row so a long trail never sits in memory."""
    user = request_user(request)
    _gate(user)
    form = _filter_form(request)
    events = selectors.audit_events(user=user, filters=form.filters())
    response = StreamingHttpResponse(csv_lines(_rows(events)), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="tamarind-audit-{stamp}.csv"'
    return response
