"""Writes of notifications: creating them (one at a time or in bulk), marking them read, emailing them.

Creation is idempotent per (recipient, dedupe_key) when the key is not empty, backed by a partial unique
constraint. Emails go out from the background worker after the creating transaction commits: creating
notifications schedules one sweep task per transaction (not one per row), and the sweep sends whatever is
pending, so a lost or failed task is made good by the next one (also run every few minutes, ``periodic.py``).

Notifications are not audited: they are consequences of changes that are (an account update, a task), and
reading one is personal state, not business data. The email preference is a change to a person, and is.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record
from tamarind.core.bulk import insert_instances
from tamarind.core.errors import ValidationFailed
from tamarind.notifications.models import Notification, NotificationKind
from tamarind.people.models import EmailNotifications, User

if TYPE_CHECKING:
    from tamarind.accounts.models import Account

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
TITLE_MAX = Notification._meta.get_field("title").max_length or 200
# Immediate emails go out within minutes; a notification older than this that never went out (its person chose
# "none" then, or the mail server was down all day) is not sent late as if it were news.
IMMEDIATE_WINDOW = timedelta(days=1)
# The digest covers what is still unread and was never emailed, from the last week at most (a digest that
# did not run for a few days catches up; switching to the digest does not mail a year of history).
DIGEST_WINDOW = timedelta(days=7)
# The most notifications one digest lists; the rest are counted ("and 12 more").
DIGEST_MAX_ITEMS = 50


@dataclass(frozen=True)
class NotificationDraft:
    """One notification to create in bulk with ``notify_many``: ``notify``'s fields plus the recipient's id."""

    recipient_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    account: Account | None = None
    account_id: int | None = None  # instead of ``account``, when only the id is at hand
    dedupe_key: str = ""

    def build(self, *, at: datetime) -> Notification:
        return _build(
            recipient_id=self.recipient_id,
            kind=self.kind,
            title=self.title,
            body=self.body,
            url=self.url,
            account_id=self.account.pk if self.account is not None else self.account_id,
            dedupe_key=self.dedupe_key,
            at=at,
        )


def _build(
    *,
    recipient_id: int,
    kind: str,
    title: str,
    body: str,
    url: str,
    account_id: int | None,
    dedupe_key: str,
    at: datetime,
) -> Notification:
    if kind not in NotificationKind.values:
        raise ValidationFailed({"kind": [f"Unknown notification kind {kind!r}."]})
    title = " ".join(title.split())[:TITLE_MAX]
    if not title:
        raise ValidationFailed({"title": ["A notification needs a title."]})
    # A link inside Tamarind only: a notification must not send people to another site.
    if url and (not url.startswith("/") or url.startswith("//") or len(url) > 500):
        raise ValidationFailed({"url": [f"{url[:80]!r} is not a path inside Tamarind."]})
    if len(dedupe_key) > 200:
        raise ValidationFailed({"dedupe_key": ["At most 200 characters."]})
    return Notification(
        recipient_id=recipient_id,
        kind=kind,
        title=title,
        body=body,
        url=url,
        account_id=account_id,
        dedupe_key=dedupe_key,
        created_at=at,
    )


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    account: Account | None = None,
    dedupe_key: str = "",
    actor: User | None = None,
) -> list[Notification]:
    """Notify each of ``recipients``; returns the notifications created.

    With a ``dedupe_key``, a recipient who already holds a notification with that key gets nothing new (not
    even when the earlier one was read), so calling this twice for the same event notifies once. ``actor`` is
    who made the change: they are never notified of their own change.
    """
    people = {r.pk: r for r in recipients if r is not None and (actor is None or r.pk != actor.pk)}
    if not people:
        return []
    at = timezone.now()
    rows = [
        _build(
            recipient_id=pk,
            kind=kind,
            title=title,
            body=body,
            url=url,
            account_id=account.pk if account is not None else None,
            dedupe_key=dedupe_key,
            at=at,
        )
        for pk in people
    ]
    if dedupe_key:
        held = set(
            Notification.objects.filter(recipient_id__in=people, dedupe_key=dedupe_key).values_list(
                "recipient_id", flat=True
            )
        )
        rows = [n for n in rows if n.recipient_id not in held]
        if not rows:
            return []
        # ignore_conflicts: a concurrent call with the same key loses quietly instead of failing the caller's
        # transaction. Such rows get no primary key, so read back the ones this call (at ``at``) created.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        created = list(
            Notification.objects.filter(
                recipient_id__in=[n.recipient_id for n in rows], dedupe_key=dedupe_key, created_at=at
            ).order_by("id")
        )
    else:
        created = Notification.objects.bulk_create(rows)
    if any(people[n.recipient_id].email_notifications == EmailNotifications.IMMEDIATE for n in created):
        schedule_email_sweep()
    return created


@transaction.atomic
def notify_many(items: Iterable[NotificationDraft], *, actor: User | int | None = None) -> int:
    """Create many notifications (imports, rules over a whole book): two queries per batch of 1,000.

    The same idempotency as ``notify``: drafts whose (recipient, dedupe_key) already exists, in the database
    or earlier in ``items``, are skipped. ``actor`` (a person or their id) made the change: drafts addressed to
    them are dropped, for nobody is notified of their own change. Returns how many were created.
    """
    at = timezone.now()
    created = 0
    batch: list[NotificationDraft] = []
    seen: set[tuple[int, str]] = set()
    actor_id = actor.pk if isinstance(actor, User) else actor
    for draft in items:
        if actor_id is not None and draft.recipient_id == actor_id:
            continue
        if draft.dedupe_key:
            pair = (draft.recipient_id, draft.dedupe_key)
            if pair in seen:
                continue
            seen.add(pair)
        batch.append(draft)
        if len(batch) >= BATCH_SIZE:
            created += _create_batch(batch, at=at)
            batch = []
    if batch:
        created += _create_batch(batch, at=at)
    if created:
        schedule_email_sweep()
    return created


def _create_batch(drafts: Sequence[NotificationDraft], *, at: datetime) -> int:
    rows = [d.build(at=at) for d in drafts]
    keyed = [n for n in rows if n.dedupe_key]
    if keyed:
        # One query over the batch's recipients and keys; a superset of the pairs, narrowed here.
        held = set(
            Notification.objects.filter(
                recipient_id__in={n.recipient_id for n in keyed}, dedupe_key__in={n.dedupe_key for n in keyed}
            ).values_list("recipient_id", "dedupe_key")
        )
        rows = [n for n in rows if not n.dedupe_key or (n.recipient_id, n.dedupe_key) not in held]
    # A race with another writer of the same (recipient, dedupe_key) is settled by the constraint: skipped.
    return insert_instances(rows, ignore_conflicts=True)


class _EmailSweep:
    """The on-commit callback that enqueues one email sweep. ``done`` tells a pending one from a spent one."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        from tamarind.notifications.tasks import send_notification_emails

        send_notification_emails.enqueue()


def schedule_email_sweep() -> None:
    """Enqueue the email sweep once the current transaction commits, once per transaction however many
    notifications it creates. Rolled back, nothing is enqueued (Django drops the callback)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        isinstance(func, _EmailSweep) and not func.done for _, func, _ in connection.run_on_commit
    ):
        return
    # robust: a queue that is down must not fail a request whose data is already committed; the periodic
    # sweep sends what this one would have.
    transaction.on_commit(_EmailSweep(), robust=True)


# --- Reading state ------------------------------------------------------------------------------------------


def notification_mark_read(*, actor: User, notification: Notification) -> bool:
    """Mark one of ``actor``'s notifications read; False when it already was."""
    if not policy.can_read_notification(actor, notification):
        raise PermissionDenied("That is not your notification.")
    if notification.read_at is not None:
        return False
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.read_at = now
    return bool(changed)


def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of ``actor`` read; returns how many."""
    return Notification.objects.visible_to(actor).unread().update(read_at=timezone.now())


@transaction.atomic
def user_set_email_notifications(*, actor: User, user: User, choice: str, source: str = "web") -> bool:
    """Set how ``user`` gets notifications by email (immediate, daily digest, none); audited. False: unchanged."""
    if not policy.can_set_email_notifications(actor, user):
        raise PermissionDenied("You choose your own email notifications.")
    if choice not in EmailNotifications.values:
        raise ValidationFailed({"email_notifications": [f"Choose one of {', '.join(EmailNotifications.values)}."]})
    before = user.email_notifications
    if before == choice:
        return False
    user.email_notifications = choice
    user.save(update_fields=["email_notifications"])
    audit_record(
        actor=actor,
        obj=user,
        action=AuditAction.UPDATE,
        before={"email_notifications": before},
        after={"email_notifications": choice},
        source=source,
    )
    return True


# --- Email ----------------------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    base = settings.TAMARIND_BASE_URL or "http://localhost:8000"
    return base.rstrip("/") + (path or reverse("notifications:list"))


def _claim(ids: list[int]) -> tuple[str, list[Notification]]:
    """Claim the still-unsent notifications among ``ids`` for one send: a compare-and-swap UPDATE, so two
    workers sweeping at once never email the same notification. Returns the claim token and the rows won."""
    if not ids:
        return "", []
    token = uuid.uuid4().hex
    Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(
        emailed_at=timezone.now(), email_batch=token
    )
    won = list(
        Notification.objects.filter(pk__in=ids, email_batch=token)
        .select_related("recipient", "account")
        .order_by("recipient_id", "-created_at", "-id")
    )
    return token, won


def _release(token: str, ids: Iterable[int]) -> None:
    """Give claimed notifications back after a failed send, so the next sweep tries again."""
    Notification.objects.filter(pk__in=list(ids), email_batch=token).update(emailed_at=None, email_batch="")


def _subject(text: str) -> str:
    return " ".join(f"[Tamarind] {text}".split())[:180]


def immediate_message(notification: Notification) -> EmailMessage:
    body = render_to_string(
        "notifications/email/immediate.txt",
        {
            "n": notification,
            "link": _absolute(notification.url),
            "settings_link": _absolute(reverse("notifications:settings")),
        },
    )
    return EmailMessage(
        subject=_subject(notification.title),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
    )


def notification_emails_send_pending(*, now: datetime | None = None, limit: int = 500) -> dict[str, Any]:
    """Send one email per notification of people who chose immediate emails: unread, never emailed, recent.

    The background task behind ``notify`` runs this after each creating commit, and the scheduler runs it
    every few minutes as a catch-up. A message the mail server refuses is released for the next sweep; a mail
    server that cannot be reached releases everything and raises, so the task or job run shows as failed.
    """
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            read_at__isnull=True,
            created_at__gte=now - IMMEDIATE_WINDOW,
            created_at__lte=now,
            recipient__is_active=True,
            recipient__email_notifications=EmailNotifications.IMMEDIATE,
        )
        .exclude(recipient__email="")
        .order_by("id")
    )
    sent = failed = 0
    ids = list(pending.values_list("id", flat=True)[:limit])
    if not ids:
        return {"sent": 0, "failed": 0}
    with get_connection() as connection:
        while ids:
            token, rows = _claim(ids)
            for notification in rows:
                if _send(connection, immediate_message(notification), token=token, ids=[notification.pk]):
                    sent += 1
                else:
                    failed += 1
            if failed or len(ids) < limit:
                break  # a refusing server is retried by the next sweep, not hammered by this one
            ids = list(pending.values_list("id", flat=True)[:limit])
    return {"sent": sent, "failed": failed}


def _send(connection: Any, message: EmailMessage, *, token: str, ids: list[int]) -> bool:
    """Send ``message``; on failure give its notifications back (claimed under ``token``) and say so."""
    try:
        connection.send_messages([message])
    except Exception:
        logger.warning("Email to %s failed; it stays pending.", ", ".join(message.to), exc_info=True)
        _release(token, ids)
        return False
    return True


def digest_message(user: User, notifications: list[Notification], *, total: int) -> EmailMessage:
    body = render_to_string(
        "notifications/email/digest.txt",
        {
            "user": user,
            "items": [(n, _absolute(n.url)) for n in notifications],
            "total": total,
            "more": total - len(notifications),
            "list_link": _absolute(reverse("notifications:list")),
            "settings_link": _absolute(reverse("notifications:settings")),
        },
    )
    noun = "notification" if total == 1 else "notifications"
    return EmailMessage(
        subject=_subject(f"Your daily digest: {total} unread {noun}"),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )


def notification_digest_send(*, now: datetime | None = None) -> dict[str, Any]:
    """The daily digest: one email per person who chose it, listing their unread notifications that were never
    emailed (from the last week), newest first. A person with nothing pending gets no email."""
    now = now or timezone.now()
    pending = Notification.objects.filter(
        emailed_at__isnull=True, read_at__isnull=True, created_at__gte=now - DIGEST_WINDOW, created_at__lte=now
    )
    people = list(
        User.objects.filter(
            is_active=True,
            email_notifications=EmailNotifications.DIGEST,
            pk__in=pending.values("recipient_id"),
        )
        .exclude(email="")
        .order_by("id")
    )
    emails = items = failed = 0
    if not people:
        return {"emails": 0, "notifications": 0, "failed": 0}
    with get_connection() as connection:
        for person in people:
            token, rows = _claim(list(pending.filter(recipient=person).values_list("id", flat=True)))
            if not rows:
                continue  # another run took them
            message = digest_message(person, rows[:DIGEST_MAX_ITEMS], total=len(rows))
            if _send(connection, message, token=token, ids=[n.pk for n in rows]):
                emails += 1
                items += len(rows)
            else:
                failed += 1
    return {"emails": emails, "notifications": items, "failed": failed}


# --- Hand-overs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    """Something handed to a person (a task, a triage case), for ``notify_handed_over``.

    ``noun`` names the thing in the body ("task", "triage case"); ``about`` is what it concerns (an account's
    name), empty when nothing. The caller builds it from what it already holds, so no query happens here.
    """

    recipient_id: int
    noun: str
    title: str
    url: str
    about: str = ""
    account_id: int | None = None
    dedupe_key: str = ""


def notify_handed_over(items: Iterable[Handover], *, actor: User | None, kind: str) -> int:
    """Tell each new owner that a thing is now theirs: "<actor> gave you this <noun> about <account>." (``actor``
    ``None``: "A rule ..."). The one notification of a reassignment for every app (tasks, triage cases); the
    change itself is audited by the caller's service. Returns how many notifications were created."""
    by = "A rule" if actor is None else str(actor)
    return notify_many(
        (
            NotificationDraft(
                recipient_id=item.recipient_id,
                kind=kind,
                title=item.title[:200],
                body=f"{by} gave you this {item.noun}" + (f" about {item.about}." if item.about else "."),
                url=item.url,
                account_id=item.account_id,
                dedupe_key=item.dedupe_key,
            )
            for item in items
        ),
        actor=actor,
    )
