"""REST routes of enablement webinars under ``/api/v1/webinars/`` (auth and error bodies: ``tamarind.core.api``).

The same access as the pages: TAMs, managers, directors and admins read (SAL/AE, SA: 403); admins and TAM
Managers create, edit and delete sessions, import attendee reports and match unmatched attendees (others 403);
attendance lists and metrics cover the accounts the caller may read. Every write through an audited service.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import (
    AccountRef,
    Id,
    InputSchema,
    PageQuery,
    PersonRef,
    actor,
    error_responses,
    paginate,
)
from tamarind.people.models import User
from tamarind.webinars import selectors, services
from tamarind.webinars.models import Attendance, Round, Session, Topic, UnmatchedAttendee

router = Router(tags=["Webinars"])
UPLOAD_OVERHEAD = 64 * 1024


class WebinarTopicOut(Schema):
    id: int
    key: str
    name: str
    description: str
    is_active: bool


class WebinarTopicRef(Schema):
    id: int
    key: str
    name: str


class WebinarSessionOut(Schema):
    """A session of a topic in a round (`round`: `1` operationalize, `2` promotion with marketing, `3` on
    demand); `report_rows` and `imported_at` describe the last attendee report imported."""

    id: int
    topic: WebinarTopicRef
    round: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    host: PersonRef | None
    recording_url: str
    report_filename: str
    report_rows: int
    imported_at: dt.datetime | None


class WebinarSessionPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[WebinarSessionOut]


class WebinarSessionListQuery(PageQuery):
    topic: Id | None = Field(None, description="A topic id.")
    round: Literal["", "1", "2", "3"] = Field("", description="`1`, `2` or `3`.")


class WebinarSessionIn(InputSchema):
    """A session's fields (create, and a full replacement on update)."""

    topic_id: Id
    round: Literal["1", "2", "3"]
    title: Annotated[str, Field(max_length=200)] = ""
    starts_at: dt.datetime
    ends_at: dt.datetime
    host_id: Id | None = None
    recording_url: Annotated[str, Field(max_length=500)] = ""


class WebinarContactRef(Schema):
    id: int
    name: str
    email: str


class WebinarAttendanceOut(Schema):
    """A contact's registration for a session and its attendance: several join/leave rows of the report merged
    (minutes: their union). `attended` false: registered but did not attend (no times, 0 minutes, not stayed, no
    feedback)."""

    id: int
    session_id: int
    contact: WebinarContactRef
    account: AccountRef
    email: str
    attended: bool
    first_join: dt.datetime | None
    last_leave: dt.datetime | None
    minutes_attended: int
    stayed_to_end: bool
    feedback: int | None


class WebinarAttendancePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[WebinarAttendanceOut]


class WebinarAttendanceListQuery(PageQuery):
    attended: bool | None = Field(
        None, description="`true`: attendees only; `false`: registrants who did not attend only; omitted: both."
    )


class WebinarUnmatchedOut(Schema):
    """A registrant matching no single contact (`reason`: `unknown` email, or `ambiguous`: contacts at several
    accounts); kept, and once matched `resolved_contact` says to whom. `attended` false: registered but did not
    attend (no intervals or times)."""

    id: int
    session_id: int
    email: str
    name: str
    reason: str
    attended: bool
    intervals: list[list[str]]
    first_join: dt.datetime | None
    last_leave: dt.datetime | None
    minutes_attended: int
    feedback: int | None
    lines: str
    resolved_contact: WebinarContactRef | None
    resolved_at: dt.datetime | None


class WebinarMatchIn(InputSchema):
    contact_id: Id


class WebinarImportOut(Schema):
    rows: int = Field(..., description="Report rows read.")
    attendances: int = Field(
        ..., description="Registrations written (contacts matched, merged per contact), attended or not."
    )
    no_shows: int = Field(..., description="Of those, registrants who did not attend.")
    unmatched: int = Field(..., description="Attendees left to match by hand.")
    reapplied: int = Field(..., description="Attendees matched by hand at an earlier import, matched again.")
    replaced: int = Field(..., description="Attendance rows the import replaced.")


class WebinarFiguresOut(Schema):
    """`attendance_rate` (the target's figure): `attended_accounts` / `net_new_accounts` (net-new customers,
    registered or not); `registered_accounts`: net-new customers with a registrant (attended or not);
    `show_up_rate`: `attendees` / `registrants` (people); `stayed_rate` and feedback: over attendees only."""

    sessions: int
    net_new_accounts: int
    registered_accounts: int
    attended_accounts: int
    attendance_rate: float | None
    registration_rate: float | None
    registrants: int
    attendees: int
    no_shows: int
    show_up_rate: float | None
    stayed: int
    stayed_rate: float | None
    feedback_count: int
    feedback_avg: float | None
    meets_attendance: bool | None
    meets_stayed: bool | None
    meets_feedback: bool | None


class WebinarMetricsCellOut(WebinarFiguresOut):
    round: str
    topic: WebinarTopicRef


class WebinarTargetsOut(Schema):
    attendance_target: float
    stayed_target: float
    feedback_target: float
    net_new_days: int
    stayed_within_minutes: int


class WebinarMetricsOut(Schema):
    """Attendance of net-new customers per topic and round against the targets (accounts the caller may read)."""

    targets: WebinarTargetsOut
    cells: list[WebinarMetricsCellOut]


def _viewer(request: HttpRequest) -> User:
    user = actor(request)
    if not policy.can_view_webinars(user):
        raise PermissionDenied("Webinars are for TAMs, managers, directors and admins.")
    return user


def _figures(cell: selectors.Cell, meets: dict[str, bool | None]) -> dict[str, Any]:
    return {
        "sessions": cell.sessions,
        "net_new_accounts": len(cell.net_new),
        "registered_accounts": len(cell.registered),
        "attended_accounts": len(cell.attended),
        "attendance_rate": cell.attendance_rate,
        "registration_rate": cell.registration_rate,
        "registrants": cell.registrants,
        "attendees": cell.attendees,
        "no_shows": cell.no_shows,
        "show_up_rate": cell.show_up_rate,
        "stayed": cell.stayed,
        "stayed_rate": cell.stayed_rate,
        "feedback_count": cell.feedback_count,
        "feedback_avg": cell.feedback_avg,
        "meets_attendance": meets["attendance"],
        "meets_stayed": meets["stayed"],
        "meets_feedback": meets["feedback"],
    }


def _session_data(payload: WebinarSessionIn) -> dict[str, Any]:
    topic = Topic.objects.filter(pk=payload.topic_id).first()
    if topic is None:
        raise ValidationFailed({"topic_id": ["There is no such topic."]})
    host = None
    if payload.host_id is not None:
        host = next((h for h in selectors.host_choices() if h.pk == payload.host_id), None)
        if host is None:
            raise ValidationFailed({"host_id": ["Choose an active admin, manager or TAM as host."]})
    return {
        "topic": topic,
        "round": payload.round,
        "title": payload.title,
        "starts_at": payload.starts_at,
        "ends_at": payload.ends_at,
        "host": host,
        "recording_url": payload.recording_url,
    }


@router.get("/topics", response={200: list[WebinarTopicOut], **error_responses(401, 403)}, summary="List topics")
def webinar_topic_list(request: HttpRequest) -> list[Topic]:
    _viewer(request)
    return selectors.topics()


@router.get(
    "/sessions",
    response={200: WebinarSessionPage, **error_responses(401, 403, 422)},
    summary="List webinar sessions",
    description="Newest first; filter by topic and round.",
)
def webinar_session_list(request: HttpRequest, params: Query[WebinarSessionListQuery]) -> dict[str, Any]:
    _viewer(request)
    qs = selectors.session_list(topic=params.topic, round=params.round)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/sessions",
    response={201: WebinarSessionOut, **error_responses(401, 403, 422)},
    summary="Create a webinar session",
)
def webinar_session_create(request: HttpRequest, payload: WebinarSessionIn) -> Status[Any]:
    user = _viewer(request)
    if not policy.can_edit_webinars(user):
        raise PermissionDenied("Admins and TAM Managers create webinar sessions.")
    session = services.session_create(actor=user, data=_session_data(payload), source="api")
    return Status(201, selectors.session_for_user(user, session.pk))


@router.get(
    "/sessions/{session_id}",
    response={200: WebinarSessionOut, **error_responses(401, 403, 404, 422)},
    summary="Get a webinar session",
)
def webinar_session_detail(request: HttpRequest, session_id: Id) -> Session:
    return selectors.session_for_user(_viewer(request), session_id)


@router.put(
    "/sessions/{session_id}",
    response={200: WebinarSessionOut, **error_responses(401, 403, 404, 422)},
    summary="Update a webinar session",
    description="A full replacement of the session's fields; staying to the end is recomputed if the end moves.",
)
def webinar_session_update(request: HttpRequest, session_id: Id, payload: WebinarSessionIn) -> Session:
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id, write=True)
    services.session_update(actor=user, session=session, data=_session_data(payload), source="api")
    return selectors.session_for_user(user, session_id)


@router.delete(
    "/sessions/{session_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    summary="Delete a webinar session",
    description="With its attendance and unmatched attendees.",
)
def webinar_session_delete(request: HttpRequest, session_id: Id) -> Status[None]:
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id, write=True)
    services.session_delete(actor=user, session=session, source="api")
    return Status(204, None)


@router.get(
    "/sessions/{session_id}/attendance",
    response={200: WebinarAttendancePage, **error_responses(401, 403, 404, 422)},
    summary="List a session's registrations and attendance",
    description="At the accounts you may read: attendees earliest join first, then registrants who did not attend "
    "(`attended` false); filter with `attended`.",
)
def webinar_attendance_list(
    request: HttpRequest, session_id: Id, params: Query[WebinarAttendanceListQuery]
) -> dict[str, Any]:
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id)
    qs = selectors.attendance_for_user(user, session, attended=params.attended)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/sessions/{session_id}/report",
    response={200: WebinarImportOut, **error_responses(400, 401, 403, 404, 413, 422)},
    summary="Import a session's attendee report",
    description="Multipart `file`: the webinar platform's attendee report (CSV: email, name, join time, leave time, "
    "duration minutes, feedback optional, attended optional: Yes/No; a registrant who did not attend has "
    "Attended No and no times). Whole or not at all: 422 with every error and its line number. "
    "Importing again replaces the session's attendance; earlier hand matches are re-applied. 413 when too large.",
)
def webinar_report_import(request: HttpRequest, session_id: Id, file: File[UploadedFile]) -> services.ImportSummary:
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id, write=True)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > services.max_report_bytes() + UPLOAD_OVERHEAD:
        raise HttpError(413, services.too_large_message(declared))
    try:
        return services.attendee_report_import(
            actor=user,
            session=session,
            stream=file.file,  # type: ignore[arg-type]
            filename=file.name or "",
            size=file.size,
            source="api",
        )
    except services.ReportTooLarge as exc:
        raise HttpError(413, " ".join(m for ms in exc.errors.values() for m in ms)) from None


@router.get(
    "/sessions/{session_id}/unmatched",
    response={200: list[WebinarUnmatchedOut], **error_responses(401, 403, 404, 422)},
    summary="List a session's unmatched registrants",
    description="Those still to match first, then those matched by hand (kept).",
)
def webinar_unmatched_list(request: HttpRequest, session_id: Id) -> list[UnmatchedAttendee]:
    user = _viewer(request)
    session = selectors.session_for_user(user, session_id)
    return list(selectors.unmatched(session)[:1000])


@router.post(
    "/unmatched/{unmatched_id}/match",
    response={201: WebinarAttendanceOut, **error_responses(401, 403, 404, 422)},
    summary="Match an unmatched attendee to a contact",
    description="The contact must be at an account you may read (else 404); 422 if already matched or if the "
    "contact already has attendance at the session.",
)
def webinar_unmatched_match(request: HttpRequest, unmatched_id: Id, payload: WebinarMatchIn) -> Status[Any]:
    user = _viewer(request)
    row = selectors.unmatched_for_user(user, unmatched_id, write=True)
    contact = selectors.contact_for_match(user, payload.contact_id)
    attendance = services.unmatched_match(actor=user, unmatched=row, contact=contact, source="api")
    return Status(201, Attendance.objects.with_refs().get(pk=attendance.pk))


@router.get(
    "/metrics",
    response={200: WebinarMetricsOut, **error_responses(401, 403)},
    summary="Attendance of net-new customers per topic and round against the targets",
)
def webinar_metrics(request: HttpRequest) -> dict[str, Any]:
    user = _viewer(request)
    data = selectors.season(user=user)
    t = data["targets"]
    cells = [
        {"round": c["round"], "topic": row["topic"], **_figures(c["cell"], c["meets"])}
        for row in data["grid"]
        for c in row["cells"]
    ]
    return {
        "targets": {
            "attendance_target": float(t.attendance_target),
            "stayed_target": float(t.stayed_target),
            "feedback_target": float(t.feedback_target),
            "net_new_days": t.net_new_days,
            "stayed_within_minutes": t.stayed_within_minutes,
        },
        "cells": cells,
    }


assert set(Round.values) == {"1", "2", "3"}, "WebinarSessionIn.round"
