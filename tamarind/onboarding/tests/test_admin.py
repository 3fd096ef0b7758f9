"""Onboarding and timeline in Django's admin: admins only; targets saved through the audited service."""

import pytest
from django.urls import reverse

from tamarind.audit.models import AuditEvent
from tamarind.onboarding.models import OnboardingTargets
from tamarind.onboarding.tests.factories import OnboardingFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["onboarding_onboarding", "onboarding_onboardingtargets", "timeline_timelineentry"])
def test_admins_see_the_changelists(book, client_for, name):
    OnboardingFactory(account=book.account, tam=book.tam)
    assert client_for(book.admin).get(reverse(f"admin:{name}_changelist")).status_code == 200


@pytest.mark.parametrize("who", ["director", "manager", "tam"])
def test_others_are_kept_out(book, client_for, who):
    response = client_for(getattr(book, who)).get(reverse("admin:onboarding_onboardingtargets_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_sets_targets_through_the_service(book, client_for):
    c = client_for(book.admin)
    response = c.post(
        reverse("admin:onboarding_onboardingtargets_add"),
        {"engage_days": "10", "first_value_days": "30", "onboard_days": "45"},
    )
    assert response.status_code == 302
    assert OnboardingTargets.objects.get().engage_days == 10
    event = AuditEvent.objects.for_object("onboarding.onboardingtargets", 1).get()
    assert event.source == "admin" and event.after == {"engage_days": 10}
    # The row exists now: no second add, and changes go through the service too.
    assert c.get(reverse("admin:onboarding_onboardingtargets_add")).status_code == 403
    response = c.post(
        reverse("admin:onboarding_onboardingtargets_change", args=[1]),
        {"engage_days": "10", "first_value_days": "25", "onboard_days": "45"},
    )
    assert response.status_code == 302 and OnboardingTargets.objects.get().first_value_days == 25
    assert AuditEvent.objects.for_object("onboarding.onboardingtargets", 1).count() == 2


def test_records_are_read_only_in_the_admin(book, client_for):
    record = OnboardingFactory(account=book.account, tam=book.tam)
    c = client_for(book.admin)
    response = c.post(reverse("admin:onboarding_onboarding_change", args=[record.pk]), {"status": "completed"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.status == "not_started"
