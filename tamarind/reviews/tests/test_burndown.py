"""The burn-down: each exception's count equals its list, per TAM and region; the daily job keeps one row per cell."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.health.models import HealthScore
from tamarind.onboarding.models import Onboarding
from tamarind.reviews import burndown, cockpit
from tamarind.reviews.models import BurndownCount
from tamarind.testing.factories import AccountFactory
from tamarind.triage.models import TriageCase


@pytest.fixture
def exceptions(book):
    today = timezone.localdate()
    a = {}
    a["late_engage"] = AccountFactory(name="Late Engage", region=book.east, tam=book.tam)
    Onboarding.objects.create(account=a["late_engage"], tam=book.tam, onboarding_start=today - dt.timedelta(days=20))
    a["late_all"] = AccountFactory(name="Late All", region=book.east, tam=book.tam2)
    Onboarding.objects.create(
        account=a["late_all"],
        tam=book.tam2,
        contract_start=today - dt.timedelta(days=60),
        onboarding_start=today - dt.timedelta(days=50),
    )
    a["fresh"] = AccountFactory(name="Fresh", region=book.east, tam=book.tam)
    Onboarding.objects.create(account=a["fresh"], tam=book.tam, onboarding_start=today - dt.timedelta(days=3))
    a["p1_quiet"] = AccountFactory(name="P1 Quiet", region=book.east, tam=book.tam, priority=1)
    HealthScore.objects.create(
        account=a["p1_quiet"],
        score=80,
        color="green",
        model_version=1,
        engaged_on=today - dt.timedelta(days=31),
        sentiment_on=today - dt.timedelta(days=91),
    )
    a["p1_ok"] = AccountFactory(name="P1 Ok", region=book.east, tam=book.tam, priority=1)
    HealthScore.objects.create(
        account=a["p1_ok"],
        score=80,
        color="green",
        model_version=1,
        engaged_on=today - dt.timedelta(days=30),
        sentiment_on=today - dt.timedelta(days=90),
    )
    a["p2_quiet"] = AccountFactory(name="P2 Quiet", region=book.west, tam=book.other_tam, priority=2)
    HealthScore.objects.create(
        account=a["p2_quiet"],
        score=80,
        color="green",
        model_version=1,
        engaged_on=today - dt.timedelta(days=61),
        sentiment_on=today,
    )
    a["at_risk"] = AccountFactory(name="At Risk", region=book.east, tam=None)
    TriageCase.objects.create(
        account=a["at_risk"], health_color="red", last_update_at=timezone.now() - dt.timedelta(days=36)
    )
    return a


def test_each_exception_lists_exactly_the_rows_over_its_threshold(book, exceptions):
    i = burndown.inputs()
    names = {e.key: set() for e in burndown.EXCEPTIONS}
    for exc in burndown.EXCEPTIONS:
        qs = burndown.rows(exc, i)
        if qs is None:
            names[exc.key] = None
            continue
        p = exc.prefix()
        names[exc.key] = set(qs.values_list(f"{p}name" if p == "" else "account__name", flat=True))
    assert names["first_engagement"] == {"Late Engage", "Late All"}
    assert names["onboarding"] == {"Late All"}
    assert names["first_value"] == {"Late All"}
    assert "P1 Quiet" in names["p1_no_call"] and "P1 Ok" not in names["p1_no_call"]
    assert names["p2_no_call"] == {"P2 Quiet"}
    assert "P1 Quiet" in names["sentiment"] and "P1 Ok" not in names["sentiment"]
    assert names["at_risk"] == {"At Risk"}
    # Success plans are installed: priority 1 accounts with no plan and no EBR are in both, priority 2 in neither.
    assert {"P1 Quiet", "P1 Ok"} <= names["p1_no_green_plan"] and "P2 Quiet" not in names["p1_no_green_plan"]
    assert {"P1 Quiet", "P1 Ok"} <= names["p1_no_ebr"] and "P2 Quiet" not in names["p1_no_ebr"]


def test_counts_equal_the_lists_per_tam_and_region_and_on_the_pages(book, exceptions, client_for):
    i = burndown.inputs()
    cells = burndown.counts(i)
    for exc in burndown.EXCEPTIONS:
        if cells[exc.key] is None:
            continue
        for (rid, tid), n in cells[exc.key].items():
            assert burndown.rows(exc, i, region_ids=[rid], tam_id=tid).count() == n
    # The figure page behind each line shows the same count as the line.
    context = cockpit.burndown_page(book.director, {}, today=timezone.localdate())
    client = client_for(book.director)
    for line in context["lines"]:
        if not line["available"]:
            assert "available once success plans are installed" in line["notice"].lower()
            continue
        page = client.get(line["link"]).content.decode()
        assert f'<p id="figure-count">{line["total"]}</p>' in page, line["key"]


def test_a_manager_sees_their_region_and_a_tam_their_own(book, exceptions):
    today = timezone.localdate()
    manager = {ln["key"]: ln["total"] for ln in cockpit.burndown_page(book.manager, {}, today=today)["lines"]}
    assert manager["p2_no_call"] == 0  # P2 Quiet is in the west
    tam = {ln["key"]: ln["total"] for ln in cockpit.burndown_page(book.tam, {}, today=today)["lines"]}
    assert tam["first_engagement"] == 1 and tam["at_risk"] == 0


def test_daily_snapshot_is_idempotent_and_feeds_week_on_week_movement(book, exceptions):
    today = timezone.localdate()
    burndown.burndown_snapshot(today=today)
    n = BurndownCount.objects.count()
    burndown.burndown_snapshot(today=today)
    assert BurndownCount.objects.count() == n
    assert BurndownCount.objects.filter(day=today, exception="first_engagement").values_list("count", flat=True)
    # A week ago there were 5 late first engagements in the east: today's 2 is a movement of -3.
    BurndownCount.objects.create(
        day=today - dt.timedelta(days=7),
        exception="first_engagement",
        region_id=book.east.pk,
        tam_id=book.tam.pk,
        count=5,
    )
    lines = {ln["key"]: ln for ln in cockpit.burndown_page(book.manager, {}, today=today)["lines"]}
    assert lines["first_engagement"]["last_week"] == 5 and lines["first_engagement"]["delta"] == -3
    assert len(lines["first_engagement"]["series"]) == 2


def test_grouped_counts_equal_each_exception_counted_alone(book, exceptions):
    """``counts`` counts every exception of a table in one grouped query: the same cells as each exception's own
    rows grouped alone, for every scope the pages use."""
    i = burndown.inputs()
    for scope in ({}, {"region_ids": [book.east.pk]}, {"region_ids": [book.west.pk]}, {"tam_id": book.tam.pk}):
        cells = burndown.counts(i, **scope)
        assert list(cells) == [exc.key for exc in burndown.EXCEPTIONS]
        for exc in burndown.EXCEPTIONS:
            assert cells[exc.key] == burndown.counts_one(exc, i, **scope), (scope, exc.key)
    assert any(burndown.counts(i)[exc.key] for exc in burndown.EXCEPTIONS)


def test_totals_equal_the_grouped_counts_added_up(book, exceptions):
    """My week's headline counts each exception over the scope in one ungrouped row per table: the sum of the
    per (region, TAM) cells the burn-down page shows, and ``None`` where an exception is not available."""
    i = burndown.inputs()
    for scope in ({}, {"region_ids": [book.east.pk]}, {"region_ids": [book.west.pk]}, {"tam_id": book.tam.pk}):
        cells = burndown.counts(i, **scope)
        totals = burndown.totals(i, **scope)
        assert list(totals) == [exc.key for exc in burndown.EXCEPTIONS]
        for exc in burndown.EXCEPTIONS:
            expected = None if cells[exc.key] is None else sum(cells[exc.key].values())
            assert totals[exc.key] == expected, (scope, exc.key)
    assert any(burndown.totals(i).values())


def test_my_week_headline_equals_the_burndown_page(book, exceptions):
    today = timezone.localdate()
    burndown.burndown_snapshot(today=today - dt.timedelta(days=7))
    for user in (book.manager, book.director, book.tam):
        week = cockpit.my_week(user, today=today)["lines"]
        page = cockpit.burndown_page(user, {}, today=today, weeks=2)["lines"]
        assert week == page
