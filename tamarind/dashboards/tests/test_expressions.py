"""DaysBetween and Median give the same answers as Python on whichever database runs the suite."""

import datetime as dt
import random
import statistics

import pytest
from django.db.models import Count, F, Q

from tamarind.dashboards.expressions import DaysBetween, Median
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

START = dt.date(2024, 12, 30)


def record(book, start, end, **extra):
    return OnboardingFactory(
        account=AccountFactory(region=book.east), onboarding_start=start, first_engagement=end, **extra
    )


def test_days_between_counts_whole_days_across_months_years_and_leap_days(book):
    pairs = [
        (START, START),
        (START, START + dt.timedelta(days=1)),
        (dt.date(2024, 2, 28), dt.date(2024, 3, 1)),  # leap year
        (dt.date(2023, 2, 28), dt.date(2023, 3, 1)),
        (dt.date(2024, 12, 31), dt.date(2025, 1, 1)),
        (dt.date(2025, 3, 30), dt.date(2025, 3, 31)),  # a DST change in many zones: dates have none
        (dt.date(2025, 5, 10), dt.date(2025, 5, 1)),  # reversed: negative
    ]
    made = {record(book, s, e).pk: (e - s).days for s, e in pairs}
    got = dict(
        Onboarding.objects.filter(pk__in=made)
        .annotate(days=DaysBetween(F("onboarding_start"), F("first_engagement")))
        .values_list("pk", "days")
    )
    assert got == made


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10])
def test_median_matches_statistics_median(book, n):
    rng = random.Random(n)
    spans = [rng.randint(0, 90) for _ in range(n)]
    for d in spans:
        record(book, START, START + dt.timedelta(days=d))
    got = Onboarding.objects.aggregate(m=Median(DaysBetween(F("onboarding_start"), F("first_engagement"))))["m"]
    assert got == pytest.approx(statistics.median(spans))
    assert isinstance(got, float)


def test_median_of_nothing_is_none_and_nulls_are_ignored(book):
    days = DaysBetween(F("onboarding_start"), F("first_engagement"))
    assert Onboarding.objects.aggregate(m=Median(days))["m"] is None
    record(book, START, None)
    record(book, START, START + dt.timedelta(days=4))
    record(book, START, START + dt.timedelta(days=10))
    assert Onboarding.objects.aggregate(m=Median(days))["m"] == pytest.approx(7.0)


def test_median_honours_its_filter_and_groups(book):
    days = DaysBetween(F("onboarding_start"), F("first_engagement"))
    for d in (1, 2, 3):
        record(book, START, START + dt.timedelta(days=d), status="in_progress")
    for d in (10, 20):
        record(book, START, START + dt.timedelta(days=d), status="scheduled")
    got = Onboarding.objects.aggregate(
        small=Median(days, filter=Q(status="in_progress")), big=Median(days, filter=Q(status="scheduled"))
    )
    assert got == {"small": pytest.approx(2.0), "big": pytest.approx(15.0)}
    rows = dict(Onboarding.objects.values("status").annotate(m=Median(days), n=Count("pk")).values_list("status", "m"))
    assert rows == {"in_progress": pytest.approx(2.0), "scheduled": pytest.approx(15.0)}
