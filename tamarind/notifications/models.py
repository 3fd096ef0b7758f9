"""In-app notifications: one row per person per thing they should know about, read or not, emailed or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from tamarind.people.models import User


class NotificationKind(models.TextChoices):
    ACCOUNT_QUALIFIED = "account_qualified", "Account qualified"
    ACCOUNT_DISQUALIFIED = "account_disqualified", "Account no longer qualifies"
    TAM_ASSIGNED = "tam_assigned", "TAM assigned"
    TASK_ASSIGNED = "task_assigned", "Task assigned"
    ONBOARDING_OVERDUE = "onboarding_overdue", "Onboarding overdue"
    GENERAL = "general", "General"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def visible_to(self, user: User) -> NotificationQuerySet:
        """The one list scope: a person sees their own notifications, nobody else's (admins included)."""
        from tamarind import policy

        return self.filter(policy.notification_scope(user))

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def unread_first(self) -> NotificationQuerySet:
        """Unread ones on top, then newest first (``id`` breaks ties between rows created in one batch)."""
        unread = models.ExpressionWrapper(Q(read_at__isnull=True), output_field=models.BooleanField())
        return self.order_by(unread.desc(), "-created_at", "-id")


class Notification(models.Model):
    """Something one person should know about: an account that qualified, a task for them, a TAM assignment.

    ``dedupe_key`` makes creation idempotent: while it is not empty, a person holds at most one notification
    with that key (a partial unique constraint), so a re-import or a repeated edit cannot notify twice.
    ``emailed_at`` is set when the notification went out by email, on its own or in a daily digest. Setting it
    (with ``email_batch``, the claiming send's token) is also the claim that stops two workers from emailing
    the same notification twice; a send that fails clears both again so a later sweep retries.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices, default=NotificationKind.GENERAL)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="A path inside Tamarind the notification is about.")
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    dedupe_key = models.CharField(
        max_length=200, blank=True, help_text="Non-empty: at most one notification per person with this key."
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_batch = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="The send that claimed it (an immediate email or a digest).",
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notifications_one_per_recipient_and_key",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notifications_notification_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="notifications_notification_title_not_blank"),
        ]
        indexes = [
            # The list page and the API: one person's notifications, newest first.
            models.Index(fields=["recipient", "-created_at"], name="notifications_recipient_idx"),
            # The bell: one person's unread count.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notifications_unread_idx"),
            # The email sweeps: what has not gone out yet.
            models.Index(fields=["created_at"], condition=Q(emailed_at__isnull=True), name="notifications_unsent_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
