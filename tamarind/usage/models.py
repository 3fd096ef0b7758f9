"""Product usage per account per day and support tickets, with the monthly rollups kept at ingest.

Raw data (``UsageDaily``, ``SupportTicket``) is written by ``usage.services`` only; the rollups
(``UsageMonthly``, ``TicketMonthly``) are refreshed in the same transaction for the (account, month) pairs a
batch touches, so readers such as the health score never aggregate raw history (``selectors.usage_facts``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class MetricKind(models.TextChoices):
    LICENSES = "licenses", "Licenses"
    BILLABLE = "billable", "Billable users"
    ACTIVE = "active", "Active users"
    USE_CASE = "use_case", "Use case"


class UsageMetric(models.Model):
    """A measure reported per account per day. The built-in ones (licenses, billable users, active users and
    the standard use cases) come with the app; admins add use-case metrics."""

    key = models.SlugField(max_length=50, unique=True, help_text="How files and the API name it, e.g. `ci_users`.")
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=MetricKind.choices, default=MetricKind.USE_CASE)
    builtin = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "key"]
        constraints = [
            models.CheckConstraint(condition=~Q(key=""), name="usage_metric_key_not_blank"),
            models.CheckConstraint(
                condition=Q(kind__in=["licenses", "billable", "active", "use_case"]), name="usage_metric_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class UsageDaily(models.Model):
    """One metric's value for one account on one day (as reported; a re-report of the day replaces it)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    metric = models.ForeignKey(UsageMetric, on_delete=models.PROTECT, related_name="+")
    value = models.PositiveIntegerField()

    class Meta:
        ordering = ["account_id", "day", "metric_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "metric"], name="usage_daily_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="usage_daily_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.metric_id}={self.value}"


class UsageMonthly(models.Model):
    """The rollup of one metric for one account in one month (``month`` is its first day).

    ``last_value`` is the value on ``last_day``, the latest day of the month with a report; ``max_value`` the
    month's highest; ``days_reported`` how many days had a report.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="usage_months")
    month = models.DateField()
    metric = models.ForeignKey(UsageMetric, on_delete=models.PROTECT, related_name="+")
    last_value = models.PositiveIntegerField()
    last_day = models.DateField()
    max_value = models.PositiveIntegerField()
    days_reported = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["account_id", "month", "metric_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month", "metric"], name="usage_monthly_unique"),
            models.CheckConstraint(condition=Q(max_value__gte=F("last_value")), name="usage_monthly_max_gte_last"),
        ]
        indexes = [models.Index(fields=["last_day"], name="usage_monthly_last_day_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.metric_id}"


class UsageState(models.Model):
    """Where one account's usage and ticket data stand: its latest usage month (and the calendar month before it),
    the last day reported, and when its tickets last changed.

    Kept by the ingest in the same transaction as the rollups, so the health score reads one row per account and
    two months of rollups, whatever the length of the history (``selectors.usage_facts``).
    """

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="usage_state"
    )
    latest_month = models.DateField(null=True, blank=True)
    previous_month = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    tickets_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_month__isnull=True) | Q(previous_month__lt=F("latest_month")),
                name="usage_state_previous_before_latest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.latest_month}"


class TicketPriority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING)


class SupportTicket(models.Model):
    """A support ticket of an account, as the support system reports it (``external_id`` is its id there)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="support_tickets")
    external_id = models.CharField(max_length=64, unique=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="usage_ticket_id_not_blank"),
            models.CheckConstraint(
                condition=Q(priority__in=["urgent", "high", "normal", "low"]), name="usage_ticket_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "pending", "solved", "closed"]), name="usage_ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="usage_ticket_closes_after_opening",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "opened_at"], name="usage_ticket_account_opened"),
            models.Index(
                fields=["account"],
                condition=Q(priority="urgent", status__in=["open", "pending"]),
                name="usage_ticket_open_urgent",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class TicketMonthly(models.Model):
    """Tickets an account opened in one month (``month`` is its first day), and how many of them were urgent."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="ticket_months")
    month = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    urgent_opened = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["account_id", "month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="usage_ticket_monthly_unique"),
            models.CheckConstraint(condition=Q(opened__gte=F("urgent_opened")), name="usage_ticket_monthly_urgent_le"),
        ]
        indexes = [models.Index(fields=["updated_at"], name="usage_ticket_monthly_upd_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}: {self.opened}"


class IngestKind(models.TextChoices):
    USAGE = "usage", "Usage"
    TICKETS = "tickets", "Support tickets"


class IngestBatch(models.Model):
    """One ingest that changed something (an API push, an import job): the audited record of raw telemetry.

    Raw usage rows are too many to audit one by one, so each batch is one audit event with its counts.
    """

    kind = models.CharField(max_length=10, choices=IngestKind.choices)
    source = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    accounts = models.PositiveIntegerField(default=0, help_text="Accounts whose data changed.")
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["usage", "tickets"]), name="usage_batch_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}: {self.created + self.updated} changed"
