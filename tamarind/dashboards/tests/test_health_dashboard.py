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
from tamarind.health.models import HealthExplanation, HealthMixSnapshot, HealthScore, Sentiment, SnapshotLevel
from tamarind.health.services import health_recompute_accounts, sentiment_set
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


def measure_columns(bands):
    """Each measure's score and color columns, as the recompute stores them beside the breakdown."""
    scores = {"green": 100, "yellow": 62, "red": 25}
    columns = {}
    for key in MEASURES:
        columns[f"{key}_color"] = bands.get(key) or ""
        columns[f"{key}_score"] = scores.get(bands.get(key))
    return columns


def scored(region, tam, color, score, *, arr=1000, segment=Segment.ENTERPRISE, priority=1, bands=None, drag="", **kw):
    account = AccountFactory(region=region, tam=tam, arr=Decimal(arr), segment=segment, priority=priority, **kw)
    bands = bands or {"sentiment": color}
    health = HealthScore.objects.create(
        account=account, score=score, color=color, drag=drag, model_version=1, **measure_columns(bands)
    )
    HealthExplanation.objects.create(health=health, breakdown=breakdown(bands))
    return account


def review(account, days, color="green"):
    """A TAM review ``days`` ago; the score keeps the day of the newest one, as the recompute stores it."""
    Sentiment.objects.create(account=account, color=color, reason="checked", set_at=days_ago(days))
    newest = Sentiment.objects.filter(account=account).order_by("-set_at").first()
    HealthScore.objects.filter(account=account).update(sentiment_on=timezone.localdate(newest.set_at))


def test_url_name():
    assert reverse("dashboards:health") == URL


# --- selectors ---------------------------------------------------------------------------------------------------


def overview(user, **params):
    regions = hs.health_regions(user)
    filters = hs.HealthFilters.from_params(params, user=user, regions=regions)
    assert not filters.errors, filters.errors
    return hs.health_dashboard(user, filters, regions=regions, tab="overview").overview


def lines(o, key):
    return {line.key: line for line in o.mix[key]}


def test_mix_counts_accounts_and_arr_per_color_and_group(book):
    scored(book.east, book.tam, "red", 30, arr=500)
    scored(book.east, book.tam2, "yellow", 60, arr=200, segment=Segment.SMB, priority=2)
    scored(book.west, book.other_tam, "green", 90, arr=100)
    AccountFactory(region=book.east, tam=book.tam, arr=Decimal(50))  # not scored
    AccountFactory(region=book.east, tam=book.tam, lifecycle_stage=LifecycleStage.WILL_CHURN)  # out of reporting
    o = overview(book.admin)
    total = o.totals
    # book.account and book.other_account exist unscored too.
    assert [total.cells[c].accounts for c in ("red", "yellow", "green", "none")] == [1, 1, 1, 3]
    assert total.cells["red"].arr == Decimal(500) and total.cells["green"].arr == Decimal(100)
    assert o.left_out == 1
    by_region = lines(o, "region")
    assert by_region[f"region-{book.east.pk}"].cells["red"].accounts == 1
    assert by_region[f"region-{book.west.pk}"].cells["green"].accounts == 1
    assert by_region[f"region-{book.east.pk}"].label == "AMER East"
    assert lines(o, "segment")[f"segment-{Segment.SMB}"].cells["yellow"].accounts == 1
    assert lines(o, "priority")["priority-2"].cells["yellow"].arr == Decimal(200)
    by_tam = lines(o, "tam")
    assert (
        by_tam[f"tam-{book.tam2.pk}"].cells["yellow"].accounts == 1
        and by_tam[f"tam-{book.tam2.pk}"].label == "Theo Tam"
    )
    # every grouping adds up to the totals
    for key in hs.GROUPS:
        assert sum(line.accounts for line in o.mix[key]) == total.accounts == 6
        assert sum((line.arr for line in o.mix[key]), Decimal(0)) == total.arr


def test_scope_manager_region_tam_own_accounts(book):
    scored(book.east, book.tam, "red", 30)
    scored(book.east, book.tam2, "red", 30)
    scored(book.west, book.other_tam, "red", 30)
    count = lambda user: overview(user).totals.cells["red"].accounts  # noqa: E731
    assert count(book.director) == 3
    assert count(book.manager) == 2
    assert count(book.tam) == 1


def test_filters_region_tam_segment(book):
    scored(book.east, book.tam, "red", 30, segment=Segment.SMB)
    scored(book.east, book.tam2, "red", 30)
    scored(book.west, book.other_tam, "red", 30)
    assert overview(book.admin, region=str(book.east.pk), segment="smb").totals.cells["red"].accounts == 1
    assert overview(book.admin, tam=str(book.tam2.pk)).totals.cells["red"].accounts == 1


def test_bad_filters_land_in_errors(book):
    regions = hs.health_regions(book.manager)
    f = hs.HealthFilters.from_params(
        {"region": str(book.west.pk), "segment": "galactic", "page": "x", "red_page": "0"},
        user=book.manager,
        regions=regions,
    )
    assert set(f.errors) == {"region", "segment", "page", "red_page"}
    f = hs.HealthFilters.from_params({"tam": str(book.tam2.pk)}, user=book.tam, regions=[])
    assert "tam" in f.errors and f.tam is None


def test_the_totals_say_what_they_leave_out(book):
    AccountFactory(region=book.east, tam=book.tam, lifecycle_stage=LifecycleStage.WILL_CHURN)
    AccountFactory(region=book.west, tam=book.other_tam, lifecycle_stage=LifecycleStage.WILL_CHURN)
    assert overview(book.admin).left_out == 2
    assert overview(book.manager).left_out == 1
    assert overview(book.admin, region=str(book.west.pk)).left_out == 1


def test_color_lists_lowest_first_with_review_age(book):
    low = scored(book.east, book.tam, "red", 10)
    high = scored(book.east, book.tam, "red", 40)
    review(low, 5)
    page = hs.widget_color_page(hs.health_accounts(book.admin, hs.HealthFilters()), "red", page=1)
    rows = list(page.object_list)
    assert [a.pk for a in rows] == [low.pk, high.pk] and page.paginator.count == 2
    today = timezone.localdate()
    assert hs.sentiment_age(rows[0], today) == 5 and hs.sentiment_age(rows[1], today) is None


def test_every_list_pages_with_an_exact_count(book):
    """A list longer than a page: each page holds the next accounts in order, the count is every account's."""
    reds = [scored(book.east, book.tam, "red", 10 + i) for i in range(hs.LIST_PAGE + 3)]
    accounts = hs.health_accounts(book.admin, hs.HealthFilters())
    first = hs.widget_color_page(accounts, "red", page=1)
    second = hs.widget_color_page(accounts, "red", page=2)
    assert first.paginator.count == len(reds) and first.paginator.num_pages == 2
    assert [a.pk for a in first.object_list] + [a.pk for a in second.object_list] == [a.pk for a in reds]
    assert hs.widget_color_page(accounts, "red", page=99).number == 2  # past the end: the last page
    HealthScore.objects.filter(account__in=reds).update(stale=True)
    for i, account in enumerate(reds):
        review(account, 200 - i)
    stale = hs.widget_stale_page(accounts, page=2)
    assert stale.paginator.count == len(reds) and [a.pk for a in stale.object_list] == [a.pk for a in reds[-3:]]


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
    assert [a.pk for a in hs.widget_stale_page(accounts, page=1).object_list] == [stale.pk]
    o = overview(book.admin)
    assert o.stale == 1 and o.never == 2  # book.account, book.other_account


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
    rows = list(hs.widget_stale_page(accounts, page=1).object_list)
    assert [a.pk for a in rows] == [older.pk, newer.pk]
    assert hs.sentiment_age(rows[0], timezone.localdate()) == 200
    o = overview(book.admin)
    assert (o.stale, o.never) == (2, 2)


def test_per_measure_bands_and_average(book):
    scored(book.east, book.tam, "red", 30, bands={"sentiment": "red", "support": "green"})
    scored(book.east, book.tam, "green", 90, bands={"sentiment": "green", "support": "yellow"})
    lines_ = {m.key: m for m in hs.widget_measures(hs.health_accounts(book.admin, hs.HealthFilters()))}
    assert lines_["sentiment"].counts == {"green": 1, "yellow": 0, "red": 1}
    assert lines_["sentiment"].average == 62.5
    assert lines_["support"].counts == {"green": 1, "yellow": 1, "red": 0} and lines_["support"].average == 81.0
    assert lines_["engagement"].rated == 0 and lines_["engagement"].average is None


def test_measures_read_what_the_recompute_stores(book):
    """The per-measure view agrees with the scores' breakdowns once the recompute has written them."""
    sentiment_set(actor=book.tam, account=book.account, color="yellow", reason="Slower")
    TimelineEntry.objects.create(account=book.account, kind="call", title="Call", occurred_at=days_ago(50))
    health_recompute_accounts(account_ids=[book.account.pk], source="test")
    lines_ = {m.key: m for m in hs.widget_measures(hs.health_accounts(book.admin, hs.HealthFilters()))}
    assert lines_["sentiment"].counts["yellow"] == 1 and lines_["sentiment"].average == 62.0
    assert lines_["engagement"].counts["yellow"] == 1  # 50 days, priority 1


def test_indicators_for_a_page_worst_first(book):
    red = scored(book.east, book.tam, "red", 20, next_renewal_date=timezone.localdate() + dt.timedelta(days=30))
    TriageCase.objects.create(account=red, health_color="red", last_update_at=days_ago(20))
    green = scored(book.east, book.tam, "green", 95)
    dash = hs.health_dashboard(book.admin, hs.HealthFilters(), regions=hs.health_regions(book.admin), tab="indicators")
    assert dash.indicators[0].account.pk == red.pk
    fired = {f.key for f in dash.indicators[0].fired}
    assert {"renewal_at_risk", "stalled_triage"} <= fired
    assert dash.indicators[-1].account.pk == green.pk
    assert dash.overview is None and dash.red is None  # one tab: the others' queries are not run


# --- the trend ----------------------------------------------------------------------------------------------------


def snapshot(day, level, region=0, tam=0, segment="", **counts):
    return HealthMixSnapshot.objects.create(
        day=day, level=level, region_id=region, tam_id=tam, segment=segment, **counts
    )


def test_the_trend_reads_the_snapshots_of_the_slice_shown(book):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    snapshot(yesterday, SnapshotLevel.BOOK, green=5, red=1, red_arr=Decimal(10))
    snapshot(today, SnapshotLevel.BOOK, green=6)
    snapshot(today - dt.timedelta(days=hs.TREND_DAYS), SnapshotLevel.BOOK, green=99)  # too old
    snapshot(yesterday, SnapshotLevel.REGION, region=book.east.pk, green=3)
    snapshot(yesterday, SnapshotLevel.REGION, region=book.west.pk, green=2)
    snapshot(yesterday, SnapshotLevel.REGION_SEGMENT, region=book.east.pk, segment="smb", yellow=1)
    snapshot(yesterday, SnapshotLevel.TAM, region=book.east.pk, tam=book.tam.pk, red=2)
    snapshot(yesterday, SnapshotLevel.TAM, region=book.west.pk, tam=book.tam.pk, red=1)  # her account elsewhere
    snapshot(yesterday, SnapshotLevel.TAM, region=book.east.pk, tam=book.tam2.pk, red=7)

    def trend(user, **params):
        regions = hs.health_regions(user)
        filters = hs.HealthFilters.from_params(params, user=user, regions=regions)
        return [(p.day, p.accounts) for p in hs.widget_trend(user, filters, today=today)]

    admin = trend(book.admin)
    assert [d for d, _ in admin] == [yesterday, today]
    assert admin[0][1] == {"green": 5, "yellow": 0, "red": 1, "none": 0}
    assert trend(book.manager) == [(yesterday, {"green": 3, "yellow": 0, "red": 0, "none": 0})]
    assert trend(book.admin, region=str(book.west.pk))[0][1]["green"] == 2
    assert trend(book.manager, segment="smb")[0][1]["yellow"] == 1
    assert trend(book.tam)[0][1]["red"] == 3  # a TAM: her accounts in every region
    assert trend(book.manager, tam=str(book.tam2.pk))[0][1]["red"] == 7
    regions = hs.health_regions(book.admin)
    points = hs.widget_trend(
        book.admin, hs.HealthFilters.from_params({}, user=book.admin, regions=regions), today=today
    )
    assert points[0].arr["red"] == Decimal(10)


def test_a_full_recompute_feeds_the_trend(book):
    sentiment_set(actor=book.tam, account=book.account, color="red", reason="Outage")
    from tamarind.health.services import health_recompute_all

    today = timezone.localdate()
    health_recompute_all(source="test", today=today)
    regions = hs.health_regions(book.manager)
    filters = hs.HealthFilters.from_params({}, user=book.manager, regions=regions)
    (point,) = hs.widget_trend(book.manager, filters, today=today)
    live = overview(book.manager).totals
    assert point.accounts == {c: live.cells[c].accounts for c in hs.COLUMNS}


# --- the page -----------------------------------------------------------------------------------------------------

TABS = {
    "overview": (URL, ["health-totals", "health-mix", "health-trend", "health-figures"]),
    "lists": ("/dashboards/health/red-yellow/", ["health-red", "health-yellow"]),
    "stale": ("/dashboards/health/stale/", ["health-stale"]),
    "measures": ("/dashboards/health/measures/", ["health-measures"]),
    "indicators": ("/dashboards/health/indicators/", ["health-indicator-totals", "health-indicators"]),
}


@pytest.mark.parametrize("tab", list(TABS))
def test_each_tab_has_its_own_url_and_widgets(book, client_for, tab):
    path, parts = TABS[tab]
    red = scored(book.east, book.tam, "red", 20, drag="engagement")
    review(red, 200, color="red")
    HealthScore.objects.filter(account=red).update(stale=True)
    scored(book.east, book.tam2, "yellow", 60)
    response = client_for(book.manager).get(path)
    body = response.content.decode()
    assert response.status_code == 200
    for part in parts:
        assert f'id="{part}"' in body, part
    for other, (_, other_parts) in TABS.items():
        if other != tab:
            assert all(f'id="{p}"' not in body for p in other_parts if p not in parts), other
    assert f'data-tab="{tab}" class="active" aria-current="page"' in body
    assert 'hx-sync="this:replace"' in body and 'hx-push-url="true"' in body
    if tab in ("lists", "stale"):
        assert red.name in body and "Engagement" in body and "200 d" in body


def test_the_tab_links_and_the_filters_keep_each_other(book, client_for):
    body = client_for(book.admin).get("/dashboards/health/stale/", {"segment": "smb"}).content.decode()
    assert 'href="/dashboards/health/indicators/?segment=smb"' in body
    assert 'action="/dashboards/health/stale/"' in body  # a filter change reloads the tab it is on


def test_the_overview_says_what_its_total_leaves_out(book, client_for):
    AccountFactory(region=book.east, tam=book.tam, lifecycle_stage=LifecycleStage.WILL_CHURN)
    body = client_for(book.manager).get(URL).content.decode()
    # The caption above every tab (dashboards/_health_scope.html) says it; the overview's total is its first figure.
    assert "1 will-churn account is out of health reporting" in body


def test_the_charts_draw_what_the_api_returns(book, client_for, api_for):
    """The Overview's charts read the figures embedded in the page; they are the API's ``totals``, ``mix`` and
    ``trend`` for the same user and filters."""
    import json

    scored(book.east, book.tam, "red", 20, arr=700)
    scored(book.east, book.tam2, "yellow", 60, segment=Segment.SMB)
    snapshot(timezone.localdate() - dt.timedelta(days=3), SnapshotLevel.REGION, region=book.east.pk, green=4)
    body = client_for(book.manager).get(URL, {"segment": "enterprise"}).content.decode()
    start = body.index('<script id="health-figures" type="application/json">') + len(
        '<script id="health-figures" type="application/json">'
    )
    figures = json.loads(body[start : body.index("</script>", start)])
    api = api_for(book.manager).get("/api/v1/dashboards/health", {"segment": "enterprise", "tab": "overview"}).json()
    assert figures["totals"] == api["totals"] and figures["mix"] == api["mix"] and figures["trend"] == api["trend"]
    assert [d["key"] for d in figures["dimensions"]] == ["tam", "segment", "priority"]  # a manager: one region


def test_htmx_answers_the_body_only(book, client_for):
    scored(book.east, book.tam, "red", 20, segment=Segment.SMB)
    for path, _ in TABS.values():
        response = client_for(book.admin).get(path, {"segment": "smb"}, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200 and 'id="health-tabs"' in body and "<html" not in body


def test_a_tam_sees_their_own_accounts_only(book, client_for):
    mine = scored(book.east, book.tam, "red", 20)
    theirs = scored(book.east, book.tam2, "red", 20)
    body = client_for(book.tam).get(TABS["lists"][0]).content.decode()
    assert mine.name in body and theirs.name not in body
    assert 'id="id_tam"' not in body and 'id="id_region"' not in body


def test_bad_filter_shown_not_fatal(book, client_for):
    response = client_for(book.manager).get(URL, {"segment": "nope"})
    assert response.status_code == 200 and "Unknown segment" in response.content.decode()


@pytest.mark.parametrize("tab", list(TABS))
def test_permission_trio(book, client_for, client, tab):
    """Every tab: viewers 200 (each their scope), SAL/AE and SA 403, anonymous to sign in; GET only."""
    path = TABS[tab][0]
    for who in ("admin", "director", "manager", "tam"):
        assert client_for(getattr(book, who)).get(path).status_code == 200, who
    assert client_for(book.sal).get(path).status_code == 403
    assert client_for(book.sa).get(path).status_code == 403
    assert client.get(path).status_code == 302
    assert client_for(book.admin).post(path).status_code == 405


def test_sidebar_entry(book, client_for):
    assert f'href="{URL}"' in client_for(book.manager).get("/accounts/").content.decode()
    assert f'href="{URL}"' not in client_for(book.sal).get("/accounts/").content.decode()


def grow(book, n):
    for i in range(n):
        a = scored(book.east, book.tam if i % 2 else book.tam2, ["red", "yellow", "green"][i % 3], 10 + i)
        review(a, i * 7)
        if i % 4 == 0:
            HealthScore.objects.filter(account=a).update(stale=True)
    for i in range(n // 3):  # a day of history per three accounts, in east and across the book
        for level, region in ((SnapshotLevel.REGION, book.east.pk), (SnapshotLevel.BOOK, 0)):
            HealthMixSnapshot.objects.update_or_create(
                day=timezone.localdate() - dt.timedelta(days=i), level=level, region_id=region, defaults={"green": i}
            )


@pytest.mark.parametrize("who", ["admin", "manager", "tam"])
@pytest.mark.parametrize("tab", list(TABS))
def test_query_count_does_not_grow_with_the_book(book, client_for, who, tab):
    c = client_for(getattr(book, who))
    path = TABS[tab][0]
    grow(book, 6)  # each TAM's accounts hold every color: no list is empty (an empty page runs no query)
    with CaptureQueriesContext(connection) as small:
        assert c.get(path, {"page": "1", "red_page": "1"}).status_code == 200
    grow(book, 60)
    with CaptureQueriesContext(connection) as large:
        assert c.get(path, {"page": "2", "red_page": "2"}).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


@pytest.mark.parametrize("query", ["", "?indicator=no_call", "?indicator=ticket_spike&segment=enterprise&page=2"])
def test_query_count_does_not_grow_with_the_indicators_facts(book, client_for, query):
    """The indicator totals and the list cut to one indicator stay a fixed number of queries as the book's
    usage, tickets, calls, onboarding and triage cases grow."""
    from tamarind.dashboards.tests.test_indicator_sql import seed_book

    c = client_for(book.manager)
    path = TABS["indicators"][0]
    seed_book(book, 7, timezone.now(), count=3, prefix="s")
    with CaptureQueriesContext(connection) as small:
        assert c.get(path + query).status_code == 200
    seed_book(book, 8, timezone.now(), count=40, prefix="l")
    with CaptureQueriesContext(connection) as large:
        assert c.get(path + query).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_indicator_totals_and_the_list_cut_to_one(book, client_for):
    today = timezone.localdate()
    c = client_for(book.manager)
    path = TABS["indicators"][0]

    def totals(**params):
        return {t.key: t for t in c.get(path, params).context["dash"].indicator_totals}

    before = totals()  # book.account (east) may fire already: count what the new accounts add
    quiet = scored(book.east, book.tam, "green", 90, priority=1, customer_since=today - dt.timedelta(days=400), arr=700)
    TimelineEntry.objects.create(account=quiet, kind="call", title="Cadence call", occurred_at=days_ago(40))
    renewing = scored(
        book.east, book.tam, "red", 20, priority=3, arr=300, next_renewal_date=today + dt.timedelta(days=20)
    )
    scored(book.west, book.other_tam, "red", 20, priority=1, customer_since=today - dt.timedelta(days=400))  # elsewhere
    body = c.get(path).content.decode()
    assert 'data-indicator-total="no_call"' in body and 'data-indicator-total="any"' in body
    after = totals()
    added = {k: (after[k].accounts - before[k].accounts, after[k].arr - before[k].arr) for k in after}
    assert added["no_call"] == (1, Decimal(700)) and added["renewal_at_risk"] == (1, Decimal(300))
    assert added["any"] == (2, Decimal(1000)) and added["ticket_spike"] == (0, Decimal(0))
    response = c.get(path, {"indicator": "no_call"})
    assert response.status_code == 200
    listed = [row.account.pk for row in response.context["dash"].indicators]
    assert quiet.pk in listed and renewing.pk not in listed and len(listed) == after["no_call"].accounts
    assert all("no_call" in {f.key for f in row.fired} for row in response.context["dash"].indicators)
    assert "Early-warning indicators: No call within cadence" in response.content.decode()
    assert totals(indicator="no_call")["renewal_at_risk"].accounts == after["renewal_at_risk"].accounts  # the book's
    fragment = c.get(path, {"indicator": "renewal_at_risk"}, headers={"HX-Request": "true"})
    assert renewing.pk in [row.account.pk for row in fragment.context["dash"].indicators]
    assert "<html" not in fragment.content.decode()


def test_unknown_indicator_is_shown_and_ignored(book, client_for):
    response = client_for(book.manager).get(TABS["indicators"][0], {"indicator": "gremlins"})
    assert response.status_code == 200
    assert "Unknown indicator" in response.content.decode()
    assert response.context["dash"].filters.indicator is None
