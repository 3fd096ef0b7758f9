"""Reads of notifications: a person's own, and nobody else's."""

from __future__ import annotations

from django.http import Http404

from tamarind import policy
from tamarind.notifications.models import Notification, NotificationQuerySet
from tamarind.people.models import User


def notification_list(*, user: User, unread_only: bool = False) -> NotificationQuerySet:
    """``user``'s notifications, unread first then newest, with their account (one query per page)."""
    qs = Notification.objects.visible_to(user).select_related("account")
    if unread_only:
        qs = qs.unread()
    return qs.unread_first()


def unread_count(*, user: User) -> int:
    """The number on the bell."""
    return Notification.objects.visible_to(user).unread().count()


def notification_for_user(user: User, notification_id: int | str) -> Notification:
    """The permission-gated fetch of a notification: your own, or it does not exist (404).

    Reading and marking read are the same right (it is yours), so there is no read-only case and no 403.
    """
    try:
        pk = int(notification_id)
    except (TypeError, ValueError):
        raise Http404("No such notification.") from None
    if not 0 < pk < 2**63:  # beyond the database's integers: no such row, not an overflow error
        raise Http404("No such notification.")
    notification = Notification.objects.select_related("account").filter(pk=pk).first()
    if notification is None or not policy.can_read_notification(user, notification):
        raise Http404("No such notification.")
    return notification
