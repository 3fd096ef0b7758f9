"""Engagement in a real browser: the models page and editing a model's criteria (a refused overlap says why), the
capacity page, the what-if planner (a draft moves accounts and ARR, nothing is written), two iterations compared
with their intervals ("within the noise" where it is), and placing an account by hand with a reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.engagement import services
from tamarind.engagement.models import EngagementModel, Placement
from tamarind.health.models import HealthHistory
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import TimelineEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _book(book) -> None:  # type: ignore[no-untyped-def]
    """East: tam carries three high-touch (1M each) and four named (200k) accounts besides Acme (low touch),
    tam2 five low-touch (80k); four pooled accounts (30k) have no TAM. Placed by the live rules."""
    for i in range(3):
        AccountFactory(name=f"Big {i}", region=book.east, tam=book.tam, arr=Decimal("1000000"))
    for i in range(4):
        AccountFactory(name=f"Mid {i}", region=book.east, tam=book.tam, arr=Decimal("200000"))
    for i in range(5):
        AccountFactory(name=f"Low {i}", region=book.east, tam=book.tam2, arr=Decimal("80000"))
    for i in range(4):
        AccountFactory(name=f"Small {i}", region=book.east, arr=Decimal("30000"))
    services.placements_apply_rules(actor=book.admin)


def _cell(page, metric: str, column: int) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f"#comparison tr[data-metric={metric}] td").nth(column).inner_text()


def test_models_page_and_editing_criteria_with_a_refused_overlap(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/engagement/")
    assert "Engagement models" in page.locator("h1").inner_text()
    assert page.locator("#engagement-models tbody tr").count() == 5
    assert "ARR is greater than 500000" in page.locator("#model-high_touch").inner_text()
    screenshot(page, "engagement-models")

    page.click("#model-digital a")
    page.wait_for_selector("#model-form")
    # Widening the digital program into the pooled range without a precedence: refused, saying what overlaps.
    page.fill("#id_precedence", "")
    page.fill(
        "#id_criteria",
        '{"match": "all", "conditions": [{"field": "arr", "op": "gte", "value": "5000"},'
        ' {"field": "arr", "op": "lte", "value": "30000"}]}',
    )
    page.click("#model-form button[type=submit]")
    error = page.locator("#model-error").inner_text()
    assert "overlap Pooled (service desk)" in error and "precedence" in error
    assert "30000" in page.locator("#id_criteria").input_value()  # what was typed is kept
    screenshot(page, "engagement-model-edit-overlap-refused")
    assert EngagementModel.objects.get(key="digital").precedence == 50

    # With its precedence back (lower wins) the same criteria are saved.
    page.fill("#id_precedence", "50")
    page.click("#model-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/engagement/")
    assert "Saved Digital program" in page.locator(".messages").inner_text()
    assert "30000" in page.locator("#model-digital").inner_text()
    screenshot(page, "engagement-model-edited")
    assert EngagementModel.objects.get(key="digital").criteria["conditions"][1]["value"] == "30000"


def test_capacity_page(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    _book(book)
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/engagement/capacity/")
    assert "Capacity" in page.locator("h1").inner_text()
    tara = page.locator(f"#tam-{book.tam.pk}")
    assert "Tara Tam" in tara.inner_text() and "3,920,000" in tara.inner_text()  # over the default 3.6M
    assert tara.locator(".badge.red").count() == 1
    assert page.locator(f"#tam-{book.tam2.pk} .badge.red").count() == 0
    screenshot(page, "engagement-capacity")
    page.fill("#id_target_arr", "300000")
    page.click("#capacity-form button[type=submit]")
    page.wait_for_selector(".messages >> text=Capacity targets saved")
    assert "300,000" in page.locator(".page-head p").inner_text()
    assert page.locator(f"#tam-{book.tam2.pk} .badge.red").count() == 1  # 400k now over
    screenshot(page, "engagement-capacity-lower-target")
    # A manager reads their own region only.
    page.context.clear_cookies()
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/engagement/capacity/")
    assert page.locator(f"#tam-{book.other_tam.pk}").count() == 0 and page.locator(f"#tam-{book.tam.pk}").count()


def test_whatif_planner_moves_accounts_and_writes_nothing(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    _book(book)
    services.capacity_settings_update(actor=book.admin, changes={"target_arr_per_tam": "2000000"})
    models_before = list(EngagementModel.objects.order_by("key").values_list("key", "criteria", "precedence"))
    placed_before = dict(Account.objects.values_list("pk", "engagement_model"))
    moves_before = Placement.objects.count()

    login(page, live_server, book.director)
    page.goto(f"{live_server.url}/engagement/whatif/")
    assert "0 of 18 accounts" in page.locator("#whatif-summary").inner_text()
    # Low touch down to 20k ARR: the four pooled 30k accounts would become low touch (TAM-managed).
    page.fill(
        "#draft_low_touch",
        '{"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "20000"},'
        ' {"field": "segment", "op": "in", "value": ["enterprise", "mid_market"]},'
        ' {"field": "tier", "op": "gte", "value": 2}]}',
    )
    page.click("#whatif-form button[type=submit]")
    page.wait_for_url("**draft_low_touch=**")
    summary = page.locator("#whatif-summary").inner_text()
    assert "4 of 18 accounts" in summary and "120,000" in summary
    move = page.locator("#whatif-moves tbody tr").first.inner_text()
    assert "Pooled (service desk)" in move and "Low touch" in move and "120,000" in move
    assert page.locator("label[for=draft_low_touch] .badge").inner_text() == "draft"
    east = page.locator("#whatif-regions tbody tr", has_text="AMER East").inner_text()
    # 4,440,000 TAM-managed ARR at 2,000,000 each: 3 TAMs needed, 2 there.
    assert "4,440,000" in east and "+1" in east
    assert "Tara Tam" in page.locator("#whatif-over").inner_text()
    screenshot(page, "engagement-whatif")

    assert list(EngagementModel.objects.order_by("key").values_list("key", "criteria", "precedence")) == models_before
    assert dict(Account.objects.values_list("pk", "engagement_model")) == placed_before
    assert Placement.objects.count() == moves_before

    page.fill("#draft_low_touch", "{nope")
    page.click("#whatif-form button[type=submit]")
    assert "not valid JSON" in page.locator("#whatif-error").inner_text()
    screenshot(page, "engagement-whatif-bad-draft")


def test_iterations_compared_with_intervals(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    """24 named accounts in both iterations: all red at the first's end and all green at the second's (beyond the
    noise); half of them with a call in each (the same share: within the noise)."""
    today = timezone.localdate()
    accounts = [AccountFactory(name=f"Named {i:02d}", region=book.east, tam=book.tam) for i in range(24)]
    for a in accounts:
        services.account_place(
            actor=book.admin, account=a, model_key="named", reason="Pilot", on=today - dt.timedelta(days=300)
        )
    starts = [today - dt.timedelta(days=200), today - dt.timedelta(days=110)]
    ends = [today - dt.timedelta(days=111), today - dt.timedelta(days=21)]
    for name, start, end in zip(("FY-Q1", "FY-Q2"), starts, ends, strict=True):
        services.iteration_create(actor=book.admin, data={"name": name, "starts_on": start, "ends_on": end})
    for i, a in enumerate(accounts):
        for k, color in enumerate(("red", "green")):
            HealthHistory.objects.create(account=a, day=ends[k] - dt.timedelta(days=3), score=50, color=color)
            if (i + k) % 2 == 0:
                at = timezone.make_aware(dt.datetime.combine(starts[k] + dt.timedelta(days=10), dt.time(12)))
                TimelineEntry.objects.create(account=a, kind="call", occurred_at=at, title="Cadence call")

    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/engagement/iterations/")
    assert page.locator("#iterations tbody tr").count() == 2
    assert "24" in page.locator("#iterations tbody tr").first.inner_text()
    screenshot(page, "engagement-iterations")

    page.goto(f"{live_server.url}/engagement/compare/")
    headers = page.locator("#comparison thead th").all_text_contents()
    labels = page.eval_on_selector_all("#comparison thead th", "els => els.map(e => e.firstChild.textContent.trim())")
    assert labels[1:] == [
        "FY-Q1: every model",
        "FY-Q1: Named",
        "FY-Q2: every model",
        "FY-Q2: Named",
    ]
    assert "24 accounts" in headers[2]
    # Figures with their n and 95% interval; the first iteration is the baseline (no verdict in its columns).
    q1_green = _cell(page, "green", 1)
    assert "0%" in q1_green and "n=24" in q1_green and "95%: 0% to 14%" in q1_green
    assert "noise" not in _cell(page, "green", 0) and "noise" not in q1_green
    q2_green = _cell(page, "green", 3)
    assert "100%" in q2_green and "+100 pts" in q2_green and "beyond the noise" in q2_green
    assert "within the noise" not in q2_green
    q2_calls = _cell(page, "calls", 3)
    assert "0.5" in q2_calls and "95%:" in q2_calls and "within the noise (0.0)" in q2_calls
    assert "noise" not in _cell(page, "calls", 1)
    # Renewals are installed, so retention is measured: no ARR snapshots were seeded here, so no cohort (n=0).
    retention = page.locator("#comparison tr[data-metric=gross_retention]").inner_text()
    assert "not measured yet" not in retention and "n=0" in retention
    screenshot(page, "engagement-compare")

    # Choosing one iteration: no comparison, so no verdict anywhere.
    page.uncheck("#compare-form input[name=it] >> nth=1")
    page.click("#compare-form button[type=submit]")
    page.wait_for_url("**it=**")
    assert page.locator("#comparison thead th").count() == 3
    assert "noise" not in page.locator("#comparison").inner_text()


def test_placing_an_account_by_hand_with_a_reason(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    services.placements_apply_rules(actor=book.admin)
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/accounts/{book.account.pk}/")
    page.click("#engagement-model-link")
    page.wait_for_selector("#placement-form")
    assert "Acme Corp: Low touch" in page.locator("h1").inner_text()
    page.select_option("#id_model", "named")
    page.fill("#id_reason", "Pilot: a named TAM for the renewal")
    screenshot(page, "engagement-place-by-hand")
    page.click("#placement-form button.primary")
    page.wait_for_selector(".messages >> text=Placement saved")
    assert "Acme Corp: Named" in page.locator("h1").inner_text()
    assert "Placed by hand" in page.locator(".page-head").inner_text()
    newest = page.locator("#placement-history tbody tr").first.inner_text()
    assert "low_touch" in newest and "named" in newest and "By hand" in newest
    assert "Pilot: a named TAM for the renewal" in newest and "Mia Manager" in newest
    screenshot(page, "engagement-placement-history")
    assert Account.objects.get(pk=book.account.pk).engagement_model == "named"

    page.click("#placement-form button[name=release]")
    page.wait_for_selector(".messages >> text=Placement saved")
    assert "Acme Corp: Low touch" in page.locator("h1").inner_text()
    assert page.locator("#placement-history tbody tr").count() == 3
    assert "Released to the rules" in page.locator("#placement-history tbody tr").first.inner_text()
    screenshot(page, "engagement-placement-released")
