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
