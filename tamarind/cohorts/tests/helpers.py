"""Test helpers: a cohort made through the service, members and contacts, and the data the report reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tamarind.cohorts import services
from tamarind.cohorts.models import Cohort, CohortMember
from tamarind.health.models import HealthScore
from tamarind.onboarding.models import Onboarding
from tamarind.people.models import User
from tamarind.testing.factories import AccountFactory
from tamarind.usage.models import MetricKind, SupportTicket, UsageMetric, UsageMonthly


def make_cohort(actor: User, owners: list[User] | None = None, **kw: Any) -> Cohort:
    data: dict[str, Any] = {"name": "Pilot", "starts_on": dt.date(2026, 1, 1), "status": "running"}
    data.update(kw)
    return services.cohort_create(actor=actor, owner_ids=[o.pk for o in owners or []], **data)


def add(actor: User, cohort: Cohort, account: Any, joined: dt.date = dt.date(2026, 1, 5)) -> CohortMember:
    return services.member_add(actor=actor, cohort=cohort, account=account, joined_on=joined)


def account(region: Any, **kw: Any) -> Any:
    data: dict[str, Any] = {
        "region": region,
        "segment": "smb",
        "arr": Decimal("10000"),
        "customer_since": dt.date(2025, 12, 1),
        "tam": None,
    }
    data.update(kw)
    return AccountFactory(**data)


def onboarding(a: Any, start: dt.date, first_value: dt.date | None) -> Onboarding:
    return Onboarding.objects.create(account=a, contract_start=start, first_value=first_value)


def health(a: Any, score: int, color: str) -> HealthScore:
    return HealthScore.objects.create(account=a, score=score, color=color, model_version=1)


def use_case(key: str) -> UsageMetric:
    return UsageMetric.objects.create(key=key, label=key, kind=MetricKind.USE_CASE)


def usage(a: Any, metric: UsageMetric, month: dt.date, value: int) -> None:
    UsageMonthly.objects.create(
        account=a, month=month, metric=metric, last_value=value, last_day=month, max_value=value, days_reported=1
    )


_n = [0]


def ticket(a: Any, day: dt.date) -> None:
    _n[0] += 1
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    SupportTicket.objects.create(account=a, external_id=f"T-cohort-{_n[0]}", opened_at=at)
