"""The account timeline: calls, meetings, emails and notes logged against an account, and automatic entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from tamarind.people.models import User


class EntryKind(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"
    NOTE = "note", "Note"
    SYSTEM = "system", "System"


# What people log by hand; ``system`` entries are written by Tamarind itself.
LOGGED_KINDS: tuple[str, ...] = (EntryKind.CALL, EntryKind.MEETING, EntryKind.EMAIL, EntryKind.NOTE)
# Kinds that are an engagement with the customer when customer people attended.
ENGAGEMENT_KINDS: frozenset[str] = frozenset({EntryKind.CALL, EntryKind.MEETING})


class TimelineEntryQuerySet(models.QuerySet["TimelineEntry"]):
    def visible_to(self, user: User) -> TimelineEntryQuerySet:
        """Entries of the accounts ``user`` may read (see ``tamarind.policy.timeline_scope``)."""
        from tamarind import policy

        scope = policy.timeline_scope(user)
        return self if scope is None else self.filter(scope)

    def newest_first(self) -> TimelineEntryQuerySet:
        return self.order_by("-occurred_at", "-id")

    def with_people(self) -> TimelineEntryQuerySet:
        return self.select_related("author").prefetch_related("internal_attendees")


class TimelineEntry(models.Model):
    """Something that happened with a customer account: a call, a meeting, an email, a note.

    ``external_attendees`` is free text (the customer's people, as the TAM wrote them); ``internal_attendees``
    are Tamarind users. A call or meeting with customer attendees is an engagement: the first one on or after
    the start of the account's open onboarding sets its first engagement.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    title = models.CharField(max_length=200)
    internal_attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="timeline_entries_attended"
    )
    external_attendees = models.TextField("customer attendees", blank=True)
    notes = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="timeline_entries",
        help_text="Who logged it; empty for entries Tamarind wrote itself.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="timeline_entry_kind_valid"),
            models.CheckConstraint(condition=~Q(title=""), name="timeline_entry_title_not_blank"),
        ]
        indexes = [models.Index(fields=["account", "-occurred_at"], name="timeline_account_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_engagement(self) -> bool:
        return self.kind in ENGAGEMENT_KINDS and bool(self.external_attendees.strip())


ENTRY_FIELDS: tuple[str, ...] = ("account", "kind", "occurred_at", "title", "external_attendees", "notes", "author")
