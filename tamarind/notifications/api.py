"""REST routes of notifications, mounted by ``core.api`` under ``/api/v1/notifications``.

Each caller sees and marks only their own notifications; anyone else's answer 404, as if they did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tamarind.core.schemas import Id, InputSchema, PageQuery, actor, error_responses, paginate
from tamarind.notifications import selectors, services
from tamarind.notifications.models import Notification, NotificationKind
from tamarind.people.models import EmailNotifications

router = Router(tags=["Notifications"])


class NotificationAccountRef(Schema):
    id: int
    name: str


class NotificationOut(Schema):
    id: int
    kind: NotificationKind
    title: str
    body: str
    url: str = Field(..., description="A path inside Tamarind the notification is about (may be empty).")
    account: NotificationAccountRef | None = None
    created_at: dt.datetime
    read_at: dt.datetime | None = Field(None, description="When you marked it read; null while unread.")
    emailed_at: dt.datetime | None = Field(None, description="When it went out by email (alone or in a digest).")


class NotificationPage(Schema):
    count: int
    unread_count: int = Field(..., description="All your unread notifications, whatever the filter.")
    page: int
    page_size: int
    results: list[NotificationOut]


class NotificationQuery(PageQuery):
    unread: bool = Field(False, description="Only unread notifications.")


class MarkedOut(Schema):
    marked: int = Field(..., description="How many notifications this marked read.")


class NotificationSettingsOut(Schema):
    email_notifications: EmailNotifications = Field(
        ..., description="`immediate` (one email each), `digest` (once a day) or `none`."
    )


class NotificationSettingsIn(InputSchema):
    email_notifications: EmailNotifications


@router.get(
    "/",
    response={200: NotificationPage, **error_responses(401, 422)},
    summary="List your notifications",
    description="Your notifications, unread first then newest. `unread=true` lists only the unread ones.",
)
def notification_list(request: HttpRequest, params: Query[NotificationQuery]) -> dict[str, Any]:
    user = actor(request)
    qs = selectors.notification_list(user=user, unread_only=params.unread)
    return {
        **paginate(qs, page=params.page, page_size=params.page_size),
        "unread_count": selectors.unread_count(user=user),
    }


@router.post(
    "/read-all",
    response={200: MarkedOut, **error_responses(401)},
    summary="Mark all your notifications read",
)
def notification_read_all(request: HttpRequest) -> dict[str, int]:
    return {"marked": services.notification_mark_all_read(actor=actor(request))}


@router.get(
    "/settings",
    response={200: NotificationSettingsOut, **error_responses(401)},
    summary="Your email preference for notifications",
)
def notification_settings(request: HttpRequest) -> dict[str, str]:
    return {"email_notifications": actor(request).email_notifications}


@router.put(
    "/settings",
    response={200: NotificationSettingsOut, **error_responses(401, 422)},
    summary="Choose how notifications reach you by email",
    description="`immediate`: an email for each; `digest`: one email a day with what is unread; `none`.",
)
def notification_settings_update(request: HttpRequest, payload: NotificationSettingsIn) -> dict[str, str]:
    user = actor(request)
    services.user_set_email_notifications(actor=user, user=user, choice=payload.email_notifications.value, source="api")
    return {"email_notifications": user.email_notifications}


@router.get(
    "/{notification_id}",
    response={200: NotificationOut, **error_responses(401, 404, 422)},
    summary="Get one of your notifications",
)
def notification_detail(request: HttpRequest, notification_id: Id) -> Notification:
    return selectors.notification_for_user(actor(request), notification_id)


@router.post(
    "/{notification_id}/read",
    response={200: NotificationOut, **error_responses(401, 404, 422)},
    summary="Mark one of your notifications read",
    description="Marking a read notification again changes nothing.",
)
def notification_read(request: HttpRequest, notification_id: Id) -> Notification:
    user = actor(request)
    notification = selectors.notification_for_user(user, notification_id)
    services.notification_mark_read(actor=user, notification=notification)
    return notification
