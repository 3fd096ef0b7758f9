"""The Customer Health Dashboard: its widgets (selectors), the page and its filters, the permission trio and
constant query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tamarind.accounts.models import LifecycleStage, Segment
from tamarind.dashboards import health_selectors as hs
from tamarind.health.models import HealthScore, Sentiment
from tamarind.health.services import health_recompute_accounts
from tamarind.health.spec import MEASURES
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import TimelineEntry
from tamarind.triage.models import TriageCase

pytestmark = pytest.mark.django_db

URL = "/dashboards/health/"


def days_ago(n):
    return timezone.now() - dt.timedelta(days=n)


def breakdown(bands):
    """A stored breakdown with ``bands`` (measure -> color or None) in model order."""
    scores = {"green": 100, "yellow": 62, "red": 25}
    return {
        "measures": [
            {"key": k, "value": "", "score": scores.get(bands.get(k)), "band": bands.get(k)} for k in MEASURES
        ],
        "drag": None,
        "red_override": False,
    }


def scored(region, tam, color, score, *, arr=1000, segment=Segment.ENTERPRISE, priority=1, bands=None, drag="", **kw):
    account = AccountFactory(region=region, tam=tam, arr=Decimal(arr), segment=segment, priority=priority, **kw)
    HealthScore.objects.create(
        account=account,
        score=score,
        color=color,
        drag=drag,
        breakdown=breakdown(bands or {"sentiment": color}),
        model_version=1,
    )
    return account


def review(account, days, color="green"):
    Sentiment.objects.create(account=account, color=color, reason="checked", set_at=days_ago(days))


def test_url_name():
    assert reverse("dashboards:health") == URL


# --- selectors --------------------------------------------------------------------------------------------------


def test_mix_counts_accounts_and_arr_per_color_and_group(book):
    scored(book.east, book.tam, "red", 30, arr=500)
    scored(book.east, book.tam2, "yellow", 60, arr=200, segment=Segment.SMB, priority=2)
    scored(book.west, book.other_tam, "green", 90, arr=100)
    AccountFactory(region=book.east, tam=book.tam, arr=Decimal(50))  # not scored
    AccountFactory(region=book.east, tam=book.tam, lifecycle_stage=LifecycleStage.WILL_CHURN)  # out of reporting
    accounts = hs.health_accounts(book.admin, hs.HealthFilters())
    total = hs.widget_mix(accounts)[0]
    # book.account and book.other_account exist unscored too.
    assert (total["red_accounts"], total["yellow_accounts"], total["green_accounts"]) == (1, 1, 1)
    assert total["none_accounts"] == 3
    assert total["red_arr"] == Decimal(500) and total["green_arr"] == Decimal(100)
    by_region = {r["region_id"]: r for r in hs.widget_mix(accounts, by="region")}
    assert by_region[book.east.pk]["red_accounts"] == 1 and by_region[book.west.pk]["green_accounts"] == 1
    by_segment = {r["segment"]: r for r in hs.widget_mix(accounts, by="segment")}
    assert by_segment[Segment.SMB]["yellow_accounts"] == 1
    by_priority = {r["priority"]: r for r in hs.widget_mix(accounts, by="priority")}
    assert by_priority[2]["yellow_arr"] == Decimal(200)
    by_tam = {r["tam_id"]: r for r in hs.widget_mix(accounts, by="tam")}
    assert by_tam[book.tam2.pk]["yellow_accounts"] == 1


def test_scope_manager_region_tam_own_accounts(book):
    scored(book.east, book.tam, "red", 30)
    scored(book.east, book.tam2, "red", 30)
    scored(book.west, book.other_tam, "red", 30)
    count = lambda user: hs.widget_mix(hs.health_accounts(user, hs.HealthFilters()))[0]["red_accounts"]  # noqa: E731
    assert count(book.director) == 3
    assert count(book.manager) == 2
    assert count(book.tam) == 1
    assert count(book.sal) == 0


def test_filters_region_tam_segment(book):
    scored(book.east, book.tam, "red", 30, segment=Segment.SMB)
    scored(book.east, book.tam2, "red", 30)
    scored(book.west, book.other_tam, "red", 30)
    regions = hs.health_regions(book.admin)
    f = hs.HealthFilters.from_params({"region": str(book.east.pk), "segment": "smb"}, user=book.admin, regions=regions)
    assert not f.errors
    assert hs.widget_mix(hs.health_accounts(book.admin, f))[0]["red_accounts"] == 1
    f = hs.HealthFilters.from_params({"tam": str(book.tam2.pk)}, user=book.admin, regions=regions)
    assert hs.widget_mix(hs.health_accounts(book.admin, f))[0]["red_accounts"] == 1


def test_bad_filters_land_in_errors(book):
    regions = hs.health_regions(book.manager)
    f = hs.HealthFilters.from_params(
        {"region": str(book.west.pk), "segment": "galactic", "page": "x"}, user=book.manager, regions=regions
    )
    assert set(f.errors) == {"region", "segment", "page"}
    f = hs.HealthFilters.from_params({"tam": str(book.tam2.pk)}, user=book.tam, regions=[])
    assert "tam" in f.errors and f.tam is None


def test_color_lists_lowest_first_with_review_age(book):
    low = scored(book.east, book.tam, "red", 10)
    high = scored(book.east, book.tam, "red", 40)
    review(low, 5)
    rows = hs.widget_color_list(hs.health_accounts(book.admin, hs.HealthFilters()), "red")
    assert [a.pk for a in rows] == [low.pk, high.pk]
    today = timezone.localdate()
    assert hs.sentiment_age(rows[0], today) == 5 and hs.sentiment_age(rows[1], today) is None


def test_stale_at_the_boundary(book):
    """The widgets read the flag the recompute stores: a review exactly the staleness days old is fresh, one day
    older is stale, and only an account's newest review counts."""
    spec = hs.live_version().spec()
    fresh = scored(book.east, book.tam, "green", 90)
    stale = scored(book.east, book.tam, "green", 90)
    review(fresh, spec.staleness_days)
    review(stale, spec.staleness_days + 1)
    review(stale, spec.staleness_days + 50)  # the newest one counts
    health_recompute_accounts(account_ids=[fresh.pk, stale.pk], source="test")
    accounts = hs.health_accounts(book.admin, hs.HealthFilters())
    assert [a.pk for a in hs.widget_stale_list(accounts)] == [stale.pk]
    counts = hs.widget_stale_counts(accounts)
    assert counts["stale"] == 1 and counts["never"] == 2  # book.account, book.other_account


def test_stale_list_oldest_review_first_and_flag_only(book):
    older = scored(book.east, book.tam, "green", 90)
    newer = scored(book.east, book.tam, "green", 90)
    unflagged = scored(book.east, book.tam, "green", 90)
    review(older, 300)
    review(older, 200)
    review(newer, 150)
    review(unflagged, 400)  # old, but the stored score says fresh (not recomputed yet): the flag decides
    HealthScore.objects.filter(account__in=[older, newer]).update(stale=True)
    accounts = hs.health_accounts(book.admin, hs.HealthFilters())
    rows = hs.widget_stale_list(accounts)
    assert [a.pk for a in rows] == [older.pk, newer.pk]
    assert hs.sentiment_age(rows[0], timezone.localdate()) == 200
    assert hs.widget_stale_counts(accounts) == {"stale": 2, "never": 2}


def test_per_measure_bands_and_average(book):
    scored(book.east, book.tam, "red", 30, bands={"sentiment": "red", "support": "green"})
    scored(book.east, book.tam, "green", 90, bands={"sentiment": "green", "support": "yellow"})
    lines = {m.key: m for m in hs.measure_lines(hs.widget_measures(hs.health_accounts(book.admin, hs.HealthFilters())))}
    assert lines["sentiment"].counts == {"green": 1, "yellow": 0, "red": 1}
    assert lines["sentiment"].average == 62.5
    assert lines["support"].counts == {"green": 1, "yellow": 1, "red": 0} and lines["support"].average == 81.0
    assert lines["engagement"].rated == 0 and lines["engagement"].average is None


def test_indicators_for_a_page_worst_first(book):
    red = scored(book.east, book.tam, "red", 20, next_renewal_date=timezone.localdate() + dt.timedelta(days=30))
    TriageCase.objects.create(account=red, health_color="red", last_update_at=days_ago(20))
    green = scored(book.east, book.tam, "green", 95)
    dash = hs.health_dashboard(book.admin, hs.HealthFilters(), regions=hs.health_regions(book.admin))
    assert dash.indicators[0].account.pk == red.pk
    fired = {f.key for f in dash.indicators[0].fired}
    assert {"renewal_at_risk", "stalled_triage"} <= fired
    assert dash.indicators[-1].account.pk == green.pk


# --- the page ---------------------------------------------------------------------------------------------------


def test_page_shows_every_widget(book, client_for):
    red = scored(book.east, book.tam, "red", 20, drag="engagement")
    review(red, 200, color="red")
    scored(book.east, book.tam2, "yellow", 60)
    body = client_for(book.manager).get(URL).content.decode()
    for part in (
        "health-totals",
        "health-mix",
        "health-measures",
        "health-red",
        "health-yellow",
        "health-stale",
        "health-indicators",
    ):
        assert f'id="{part}"' in body
    assert red.name in body and "Engagement" in body and "200 d" in body
    assert 'hx-sync="this:replace"' in body


def test_htmx_filter_answers_the_body_only(book, client_for):
    scored(book.east, book.tam, "red", 20, segment=Segment.SMB)
    response = client_for(book.admin).get(URL, {"segment": "smb"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="health-totals"' in body and "<html" not in body


def test_a_tam_sees_their_own_accounts_only(book, client_for):
    mine = scored(book.east, book.tam, "red", 20)
    theirs = scored(book.east, book.tam2, "red", 20)
    body = client_for(book.tam).get(URL).content.decode()
    assert mine.name in body and theirs.name not in body
    assert 'id="id_tam"' not in body and 'id="id_region"' not in body


def test_bad_filter_shown_not_fatal(book, client_for):
    response = client_for(book.manager).get(URL, {"segment": "nope"})
    assert response.status_code == 200 and "Unknown segment" in response.content.decode()


def test_sal_sa_refused_anonymous_to_sign_in(book, client_for, client):
    assert client_for(book.sal).get(URL).status_code == 403
    assert client_for(book.sa).get(URL).status_code == 403
    assert client.get(URL).status_code == 302


def test_sidebar_entry(book, client_for):
    assert f'href="{URL}"' in client_for(book.manager).get("/accounts/").content.decode()
    assert f'href="{URL}"' not in client_for(book.sal).get("/accounts/").content.decode()


def grow(book, n):
    for i in range(n):
        a = scored(book.east, book.tam if i % 2 else book.tam2, ["red", "yellow", "green"][i % 3], 10 + i)
        review(a, i * 7)


@pytest.mark.parametrize("who", ["admin", "manager", "tam"])
def test_query_count_does_not_grow_with_the_book(book, client_for, who):
    c = client_for(getattr(book, who))
    grow(book, 3)
    with CaptureQueriesContext(connection) as small:
        assert c.get(URL).status_code == 200
    grow(book, 40)
    with CaptureQueriesContext(connection) as large:
        assert c.get(URL).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


@pytest.mark.parametrize("query", ["", "?indicator=no_call", "?indicator=ticket_spike&segment=enterprise&page=2"])
def test_query_count_does_not_grow_with_the_indicators_facts(book, client_for, query):
    """The indicator totals and the list cut to one indicator stay a fixed number of queries as the book's
    usage, tickets, calls, onboarding and triage cases grow."""
    from tamarind.dashboards.tests.test_indicator_sql import seed_book

    c = client_for(book.manager)
    seed_book(book, 7, timezone.now(), count=3, prefix="s")
    with CaptureQueriesContext(connection) as small:
        assert c.get(URL + query).status_code == 200
    seed_book(book, 8, timezone.now(), count=40, prefix="l")
    with CaptureQueriesContext(connection) as large:
        assert c.get(URL + query).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_indicator_totals_and_the_list_cut_to_one(book, client_for):
    today = timezone.localdate()
    c = client_for(book.manager)

    def totals(**params):
        return {t.key: t for t in c.get(URL, params).context["dash"].indicator_totals}

    before = totals()  # book.account (east) may fire already: count what the new accounts add
    quiet = scored(book.east, book.tam, "green", 90, priority=1, customer_since=today - dt.timedelta(days=400), arr=700)
    TimelineEntry.objects.create(account=quiet, kind="call", title="Cadence call", occurred_at=days_ago(40))
    renewing = scored(
        book.east, book.tam, "red", 20, priority=3, arr=300, next_renewal_date=today + dt.timedelta(days=20)
    )
    scored(book.west, book.other_tam, "red", 20, priority=1, customer_since=today - dt.timedelta(days=400))  # elsewhere
    body = c.get(URL).content.decode()
    assert 'data-indicator-total="no_call"' in body and 'data-indicator-total="any"' in body
    after = totals()
    added = {k: (after[k].accounts - before[k].accounts, after[k].arr - before[k].arr) for k in after}
    assert added["no_call"] == (1, Decimal(700)) and added["renewal_at_risk"] == (1, Decimal(300))
    assert added["any"] == (2, Decimal(1000)) and added["ticket_spike"] == (0, Decimal(0))
    response = c.get(URL, {"indicator": "no_call"})
    assert response.status_code == 200
    listed = [row.account.pk for row in response.context["dash"].indicators]
    assert quiet.pk in listed and renewing.pk not in listed and len(listed) == after["no_call"].accounts
    assert all("no_call" in {f.key for f in row.fired} for row in response.context["dash"].indicators)
    assert "Early-warning indicators: No call within cadence" in response.content.decode()
    assert totals(indicator="no_call")["renewal_at_risk"].accounts == after["renewal_at_risk"].accounts  # the book's
    fragment = c.get(URL, {"indicator": "renewal_at_risk"}, headers={"HX-Request": "true"})
    assert renewing.pk in [row.account.pk for row in fragment.context["dash"].indicators]
    assert "<html" not in fragment.content.decode()


def test_unknown_indicator_is_shown_and_ignored(book, client_for):
    response = client_for(book.manager).get(URL, {"indicator": "gremlins"})
    assert response.status_code == 200
    assert "Unknown indicator" in response.content.decode()
    assert response.context["dash"].filters.indicator is None
