"""The pooled Service Desk (domain section 10): pools of TAMs who answer the requests of pooled customers.

A pool serves the accounts of its engagement model that meet its criteria. Customers ask through a per-account
request link (a secret token, stored only as its hash, revocable), by email (an SMTP listener or .eml files),
through the API, or a pool TAM enters a request for them. Requests are assigned round robin among the pool's
available TAMs and must get a first response within the pool's hours (48 by default).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Pool(models.Model):
    """A Service Desk pool: its TAMs (``PoolMember``), its manager (told of overdue requests), the engagement
    model it serves and criteria narrowing it (written like the models' criteria; empty: the whole model).

    Two active pools of one model whose criteria overlap must carry distinct precedences (lower wins), as the
    engagement models do; a pool with a manager who leads a region takes only that region's TAMs."""

    name = models.CharField(max_length=120, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_pools"
    )
    engagement_model = models.CharField(max_length=40, default="pooled")
    criteria = models.JSONField(default=dict, blank=True)
    precedence = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Settles which of two overlapping pools serves an account (lower wins)."
    )
    first_response_hours = models.PositiveSmallIntegerField(default=48)
    email_address = models.EmailField(blank=True, help_text="Where customers write to this pool.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_hours__gte=1, first_response_hours__lte=720),
                name="servicedesk_pool_hours_1_720",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PoolMember(models.Model):
    """A TAM in a pool. ``available`` off, or ``away_until`` on or after today, keeps them out of the round
    robin; ``last_assigned_at`` is the round robin's turn (the longest-waiting available TAM gets the next)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="members")
    tam = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pool_memberships")
    available = models.BooleanField(default=True)
    away_until = models.DateField(null=True, blank=True, help_text="Out of office up to and including this day.")
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pool", "tam"]
        constraints = [models.UniqueConstraint(fields=["pool", "tam"], name="servicedesk_member_once")]

    def __str__(self) -> str:
        return f"{self.tam_id} in {self.pool_id}"

    def is_available(self, today: dt.date) -> bool:
        return self.available and (self.away_until is None or self.away_until < today)


class RequestLink(models.Model):
    """An account's request link: the token is shown once and stored as its SHA-256. One live link per account;
    revoking it makes the link answer 404 (and nothing else) from then on."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="request_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(revoked_at__isnull=True), name="servicedesk_one_live_link"
            )
        ]

    def __str__(self) -> str:
        return f"link of {self.account_id}"


class Contact(models.Model):
    """A customer's email address known to belong to an account: inbound email from it becomes that account's
    request. Learned from the request link, from a person matching an unknown sender, or entered by a TAM."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="desk_contacts")
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.email


class RequestStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING = "waiting", "Waiting on the customer"
    CLOSED = "closed", "Closed"


class Channel(models.TextChoices):
    LINK = "link", "Request link"
    EMAIL = "email", "Email"
    API = "api", "API"
    TAM = "tam", "Entered by a TAM"


class ServiceRequest(models.Model):
    """A customer's request to the pool: who asked, the assigned TAM, the first-response clock, the status and,
    after closing, the customer's satisfaction (1-5)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="requests")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="service_requests")
    requester_email = models.EmailField(blank=True)
    requester_name = models.CharField(max_length=150, blank=True)
    subject = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=12, choices=RequestStatus.choices, default=RequestStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_requests"
    )
    created_at = models.DateTimeField(default=timezone.now)
    first_response_due_at = models.DateTimeField()
    first_responded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)
    satisfaction_comment = models.CharField(max_length=1000, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="servicedesk_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="servicedesk_channel_valid"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5, status="closed"),
                name="servicedesk_rating_1_5_after_closing",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="servicedesk_closed_iff_closed_at",
            ),
            models.CheckConstraint(
                condition=Q(first_response_due_at__gt=F("created_at")), name="servicedesk_due_after_created"
            ),
        ]
        indexes = [
            models.Index(fields=["pool", "status"], name="servicedesk_pool_status_idx"),
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(first_responded_at__isnull=True),
                name="servicedesk_awaiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"SR-{self.pk}: {self.subject}"

    @property
    def reference(self) -> str:
        return f"SR-{self.pk}"

    def is_overdue(self, now: dt.datetime) -> bool:
        """No first response yet and past its due time (closed requests are never overdue)."""
        return (
            self.first_responded_at is None and self.status != RequestStatus.CLOSED and now > self.first_response_due_at
        )


class RequestMessage(models.Model):
    """One message of a request's thread: from the customer (``author`` empty) or a TAM (emailed to the
    requester). Bodies are plain text: HTML mail is reduced to its text, never rendered."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_email = models.EmailField(blank=True)
    body = models.TextField()
    truncated = models.BooleanField(
        default=False,
        help_text="The body was cut to the display limit; the whole message is kept in its inbound email.",
    )
    inbound = models.ForeignKey("InboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "created_at", "id"]

    def __str__(self) -> str:
        return f"message {self.pk} of {self.request_id}"


class InboundStatus(models.TextChoices):
    MATCHED = "matched", "Matched to a request"
    UNMATCHED = "unmatched", "Kept aside: unknown sender"
    DISMISSED = "dismissed", "Dismissed by a person"


class InboundEmail(models.Model):
    """Every email received, whole (``raw``), whatever became of it: an unknown sender's mail is kept aside for a
    person to match to an account (never lost, never answered)."""

    message_id = models.CharField(max_length=998, blank=True)
    from_email = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    raw = models.TextField(help_text="The message as received (decoded as UTF-8 with replacement).")
    status = models.CharField(max_length=10, choices=InboundStatus.choices)
    request = models.ForeignKey(ServiceRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=InboundStatus.values), name="servicedesk_inbound_status")
        ]

    def __str__(self) -> str:
        return f"{self.from_email}: {self.subject}"
