"""Customer cohorts (domain section 10, issue 14): groups of customers helping each other in a shared
collaboration space, with TAM owners who manage, monitor and report.

A cohort has its space and namespace links, a target size, engagement rules, a scope, start and end dates and a
status; an optional region (empty: company-wide). Members are accounts (one row per cohort and account, with the
days they joined and left); member contacts are the people at those accounts who take part. Activity is recorded
per member (posts, answers, sessions), by hand, from a CSV file or through the API. A CSV row is keyed on
(member, contact, kind, day): importing the same file again finds every row unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CohortStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    ENDED = "ended", "Ended"


class ActivityKind(models.TextChoices):
    POST = "post", "Post"
    ANSWER = "answer", "Answer"
    SESSION = "session", "Session"


class ActivitySource(models.TextChoices):
    MANUAL = "manual", "By hand"
    CSV = "csv", "CSV file"
    API = "api", "API"


class CohortQuerySet(models.QuerySet["Cohort"]):
    def for_list(self) -> CohortQuerySet:
        """What the list shows: the region and the owners, in a fixed number of queries."""
        return self.select_related("region").prefetch_related("owners")

    def running(self) -> CohortQuerySet:
        return self.filter(status=CohortStatus.RUNNING)


class Cohort(models.Model):
    """A cohort of customers (a pilot): its collaboration space, rules, scope, dates and TAM owners."""

    name = models.CharField(max_length=200, unique=True)
    space_url = models.URLField("collaboration space", max_length=500, blank=True)
    namespace_url = models.URLField("namespace", max_length=500, blank=True)
    target_size = models.PositiveIntegerField(null=True, blank=True, help_text="How many member accounts.")
    engagement_rules = models.TextField(blank=True)
    scope = models.TextField(blank=True, help_text="Who the cohort is for and what it covers.")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=CohortStatus.choices, default=CohortStatus.PLANNED)
    region = models.ForeignKey(
        "people.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cohorts",
        help_text="Empty: company-wide (every manager reads it).",
    )
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="owned_cohorts")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CohortQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["planned", "running", "ended"]), name="cohort_status_valid"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="cohort_ends_after_start",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="cohort_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class CohortMemberQuerySet(models.QuerySet["CohortMember"]):
    def current(self) -> CohortMemberQuerySet:
        return self.filter(left_on__isnull=True)


class CohortMember(models.Model):
    """An account in a cohort, from ``joined_on`` (until ``left_on``, when it left)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="members")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="cohort_memberships")
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    objects = CohortMemberQuerySet.as_manager()

    class Meta:
        ordering = ["cohort_id", "account__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "account"], name="cohort_member_unique"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="cohort_member_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cohort_id}: {self.account_id}"


class CohortContact(models.Model):
    """A contact of a member account who takes part in the cohort."""

    member = models.ForeignKey(CohortMember, on_delete=models.CASCADE, related_name="contacts")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="cohort_links")
    added_on = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["member_id", "contact__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["member", "contact"], name="cohort_contact_unique")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.contact_id}"


class CohortActivity(models.Model):
    """Activity of a member on one day: ``count`` posts, answers or sessions (optionally by one contact).

    Rows from a CSV file are unique on (member, contact, kind, day) (two partial constraints: with and without a
    contact), which is what makes a second import of the same file change nothing."""

    member = models.ForeignKey(CohortMember, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="cohort_activities"
    )
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    day = models.DateField()
    count = models.PositiveIntegerField(default=1)
    notes = models.CharField(max_length=2000, blank=True)
    source = models.CharField(max_length=10, choices=ActivitySource.choices, default=ActivitySource.MANUAL)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-day", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["post", "answer", "session"]), name="cohort_activity_kind"),
            models.CheckConstraint(condition=Q(source__in=["manual", "csv", "api"]), name="cohort_activity_source"),
            models.CheckConstraint(condition=Q(count__gte=1), name="cohort_activity_count_positive"),
            models.UniqueConstraint(
                fields=["member", "contact", "kind", "day"],
                condition=Q(source="csv", contact__isnull=False),
                name="cohort_activity_csv_unique_contact",
            ),
            models.UniqueConstraint(
                fields=["member", "kind", "day"],
                condition=Q(source="csv", contact__isnull=True),
                name="cohort_activity_csv_unique_account",
            ),
        ]
        indexes = [models.Index(fields=["member", "day"], name="cohort_activity_member_day")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.day}: {self.count}"
