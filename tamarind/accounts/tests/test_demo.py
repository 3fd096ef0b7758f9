"""The demo book: deterministic, shaped like a real book, loaded through the import service."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from tamarind.accounts.demo import REGIONS, plan_accounts
from tamarind.accounts.models import Account
from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.assignment.models import Qualification
from tamarind.audit.models import AuditEvent
from tamarind.imports.models import ImportJob
from tamarind.onboarding.models import Onboarding, OnboardingStatus
from tamarind.people.models import Region, Role, User

TODAY = dt.date(2026, 11, 23)


def test_plan_is_deterministic_per_seed():
    a = plan_accounts(300, 5, TODAY)
    b = plan_accounts(300, 5, TODAY)
    c = plan_accounts(300, 6, TODAY)
    assert [(p.crm_id, p.name, p.arr) for p in a] == [(p.crm_id, p.name, p.arr) for p in b]
    assert [p.name for p in a] != [p.name for p in c]


def test_plan_shape():
    plans = plan_accounts(2000, 7, TODAY)
    assert len(plans) == 2000 and len({p.crm_id for p in plans}) == 2000
    arrs = sorted(p.arr for p in plans)
    median, top = arrs[len(arrs) // 2], arrs[-len(arrs) // 100]
    assert top > 8 * median  # log-normal: many small, few large
    assert {p.segment for p in plans} == {"SMB", "Mid-Market", "Enterprise"}
    assert {p.region for p in plans} == {r for r, _ in REGIONS}
    assert any(p.parent for p in plans)
    assert all(TODAY < p.renewal <= TODAY + dt.timedelta(days=6 * 91) for p in plans)
    assert {"Premium", "Silver"} <= {p.tier for p in plans}  # both names of one rung appear


@pytest.mark.django_db
def test_demo_command_loads_through_the_importer_and_sizes_tams():
    out = StringIO()
    call_command("demo", "--accounts", "400", "--seed", "3", stdout=out, stderr=StringIO())
    assert "Demo book loaded: 400 accounts" in out.getvalue()
    assert Account.objects.count() == 400
    job = ImportJob.objects.get()
    assert job.source == "demo" and job.created == 400
    assert AuditEvent.objects.filter(object_type="accounts.account", source="import").count() >= 400
    assert Region.objects.count() == 6 and all(r.manager_id for r in Region.objects.all())
    assert User.objects.filter(role=Role.ADMIN).count() == 1
    capacity = Decimal(3_600_000)
    for region in Region.objects.all():
        tams = User.objects.filter(role=Role.TAM, region=region).count()
        staffed = Account.objects.filter(region=region, tam__isnull=False).aggregate(s=Sum("arr"))["s"] or 0
        assert tams >= 1 and staffed <= tams * capacity * Decimal("1.2")
    # Owners resolved to real people of the right role.
    assert not Account.objects.exclude(tam=None).exclude(tam__role=Role.TAM).exists()


@pytest.mark.django_db
def test_demo_book_has_rules_consequences_and_onboarding_stories():
    """The import's rule evaluation staffs the book; the last year's customers get an onboarding story."""
    out = StringIO()
    call_command("demo", "--accounts", "600", "--seed", "3", stdout=out, stderr=StringIO())
    qualifying = Qualification.objects.filter(qualifies=True)
    assert qualifying.count() == Account.objects.filter(qualification__qualifies=True).count() > 0
    unstaffed = qualifying.filter(account__tam__isnull=True).count()
    assert Task.objects.filter(type=TaskType.ASSIGN_TAM, status=TaskStatus.OPEN).count() == unstaffed > 0
    records = Onboarding.objects.all()
    statuses = set(records.values_list("status", flat=True))
    assert OnboardingStatus.COMPLETED in statuses and OnboardingStatus.IN_PROGRESS in statuses
    done = records.filter(status=OnboardingStatus.COMPLETED)
    assert not done.filter(experience_score__isnull=True).exists()
    assert not done.filter(first_value__isnull=True).exists()
    assert f"{records.count()} onboarding records" in out.getvalue()


@pytest.mark.django_db
def test_demo_does_not_load_twice():
    call_command("demo", "--accounts", "50", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("demo", "--accounts", "50", "--if-empty", stdout=out, stderr=StringIO())
    assert "not loaded again" in out.getvalue()
    assert Account.objects.count() == 50
    with pytest.raises(CommandError, match="already has"):
        call_command("demo", "--accounts", "50", stdout=StringIO(), stderr=StringIO())


def test_a_large_cast_gets_unique_names_and_valid_emails():
    import random

    from django.core.validators import validate_email

    from tamarind.accounts.demo import _email, _person_name

    rng, used = random.Random(1), set()
    names = [_person_name(rng, used) for _ in range(6000)]  # more than first x last combinations
    assert len(set(names)) == 6000
    emails = {_email(n) for n in names}
    assert len(emails) == 6000
    for email in list(emails)[:500]:
        validate_email(email)


# --- The health story -------------------------------------------------------------------------------------------


def _story_snapshot() -> dict[str, tuple[int | None, str, bool]]:
    from tamarind.health.models import HealthScore

    return {
        crm: (score, color, stale)
        for crm, score, color, stale in HealthScore.objects.values_list("account__crm_id", "score", "color", "stale")
    }


@pytest.mark.django_db
def test_demo_tells_a_health_story():
    """Usage (daily, rolled up), tickets, reviews (some stale), calls, scores in three colors, color changes with
    their notifications, triage proposals and a board with cases in several columns and escalations."""
    from tamarind.health.models import HealthHistory, HealthRun, HealthScore, Sentiment
    from tamarind.health.services import health_recompute_all
    from tamarind.notifications.models import Notification
    from tamarind.timeline.models import EntryKind, TimelineEntry
    from tamarind.triage.models import CaseStatus, Escalation, TriageCase
    from tamarind.usage.models import IngestBatch, SupportTicket, UsageDaily, UsageMonthly

    out = StringIO()
    call_command("demo", "--accounts", "600", "--seed", "3", stdout=out, stderr=StringIO())
    assert "Health: " in out.getvalue()
    managed = Account.objects.filter(tam__isnull=False)
    # Usage through the ingest service: daily rows, monthly rollups for several months, audited batches.
    assert UsageDaily.objects.values("account").distinct().count() >= managed.count()
    assert UsageMonthly.objects.values("month").distinct().count() >= 3
    assert IngestBatch.objects.filter(source="demo").count() >= 3
    assert AuditEvent.objects.filter(object_type="usage.ingestbatch").count() == IngestBatch.objects.count()
    # Tickets, some urgent and still open.
    assert SupportTicket.objects.count() > managed.count()
    assert SupportTicket.objects.filter(priority="urgent", status__in=["open", "pending"]).exists()
    assert SupportTicket.objects.filter(status="closed").exists()
    # Reviews by the accounts' TAMs, logged on the timeline and audited; some stale.
    assert Sentiment.objects.count() >= managed.count()
    assert not Sentiment.objects.exclude(set_by_id__in=managed.values("tam_id")).exists()
    assert TimelineEntry.objects.filter(title__startswith="Health review").count() == Sentiment.objects.count()
    assert AuditEvent.objects.filter(object_type="health.sentiment").count() == Sentiment.objects.count()
    assert HealthScore.objects.filter(stale=True).exists()
    assert Task.objects.filter(type=TaskType.HEALTH_REVIEW, status=TaskStatus.OPEN).exists()
    # Calls and meetings: engagement is rated.
    assert TimelineEntry.objects.filter(kind__in=[EntryKind.CALL, EntryKind.MEETING]).count() >= managed.count()
    # Scores: mostly green, some yellow, a few red; history on two days; color changes notified.
    colors = list(HealthScore.objects.exclude(color="").values_list("color", flat=True))
    green, yellow, red = (colors.count(c) for c in ("green", "yellow", "red"))
    assert green > yellow > red > 0
    assert HealthScore.objects.filter(requires_triage=True, color="yellow").exists()
    # Two recompute days (yesterday's and today's), and the signals story's two years of monthly points before them.
    days = set(HealthHistory.objects.values_list("day", flat=True).distinct())
    assert len(days) > 2
    assert TimelineEntry.objects.filter(kind=EntryKind.SYSTEM, title__startswith="Health ").exists()
    assert Notification.objects.filter(title__contains="health").exists()
    assert HealthRun.objects.filter(kind="full", status="done").count() == 2
    # Triage: proposals, cases across the board (two of them overdue), escalations.
    assert Task.objects.filter(type=TaskType.TRIAGE_REVIEW, status=TaskStatus.OPEN).exists()
    statuses = set(TriageCase.objects.values_list("status", flat=True))
    assert {CaseStatus.NEW, CaseStatus.INVESTIGATING, CaseStatus.ACTION_PLAN, CaseStatus.CLOSED} <= statuses
    assert TriageCase.objects.filter(status=CaseStatus.CLOSED, outcome="won_back").exists()
    assert all(c.steps.exists() for c in TriageCase.objects.exclude(status=CaseStatus.NEW))
    from tamarind.triage.selectors import triage_settings

    settings_row = triage_settings()
    assert any(c.is_overdue(settings_row) for c in TriageCase.objects.open())
    assert Escalation.objects.filter(severity="critical").exists()
    # Idempotent: the hourly recompute after the demo changes nothing and tells no one.
    notified = Notification.objects.count()
    again = health_recompute_all(source="test")
    assert again.changed == 0 and again.notifications == 0
    assert Notification.objects.count() == notified


@pytest.mark.django_db
def test_demo_story_fires_early_warnings():
    """The Customer Health Dashboard's indicators have something to say about the demo book."""
    from django.utils import timezone

    from tamarind.dashboards import health_selectors, indicators
    from tamarind.health.selectors import live_version

    call_command("demo", "--accounts", "600", "--seed", "3", stdout=StringIO(), stderr=StringIO())
    accounts = list(Account.objects.filter(tam__isnull=False).select_related("health"))
    signals = health_selectors.account_signals(accounts)
    limits = health_selectors.thresholds(live_version().spec())
    fired = {f.key for a in accounts for f in indicators.evaluate(signals[a.pk], limits, today=timezone.localdate())}
    expected = {"low_utilization", "active_users_falling", "no_call", "ticket_spike", "open_urgent", "renewal_at_risk"}
    assert expected <= fired


@pytest.mark.django_db
def test_demo_without_health_story():
    from tamarind.health.models import HealthScore, Sentiment

    out = StringIO()
    call_command("demo", "--accounts", "100", "--no-health", stdout=out, stderr=StringIO())
    assert "Health: " not in out.getvalue()
    assert not Sentiment.objects.exists() and not HealthScore.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_demo_story_is_deterministic_per_seed():
    from tamarind.testing.browser import seed_defaults

    def load(seed: int) -> dict[str, tuple[int | None, str, bool]]:
        call_command("flush", interactive=False, verbosity=0)
        seed_defaults()
        call_command("demo", "--accounts", "300", "--seed", str(seed), stdout=StringIO(), stderr=StringIO())
        return _story_snapshot()

    first = load(5)
    assert len({color for _, color, _ in first.values() if color}) == 3
    assert load(5) == first
    assert load(6) != first


@pytest.mark.django_db
def test_demo_crm_file_is_written_through_the_shared_escape(tmp_path):
    """The demo's CRM export is an export like any other: a cell a spreadsheet would run is escaped."""
    import csv

    from tamarind.accounts.demo import PlannedAccount, write_csv

    plan = PlannedAccount(
        crm_id="-D-1",
        name="=HYPERLINK(1)",
        region="@Region",
        segment="Enterprise",
        arr=60_000,
        tier="Premium",
        tier_rung=2,
        licenses=10,
        customer_since=dt.date(2025, 1, 1),
        renewal=dt.date(2027, 1, 1),
    )
    path = write_csv([plan], tmp_path / "demo.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        _, row = list(csv.reader(fh))
    assert row[:2] == ["'-D-1", "'=HYPERLINK(1)"] and "'@Region" in row
