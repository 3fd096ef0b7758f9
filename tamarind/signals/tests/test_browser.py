"""Signals in a real browser: the back-test page over a demo book (filters by htmx, the URL pushed), an
indicator's detail, an admin marking an indicator trusted when its evidence clears the thresholds and refused when
it does not, the health dashboard then listing the trusted indicator first, the back-test settings page (a bad
value refused, then saved and listed), and the account page's signals panel."""

from __future__ import annotations

import datetime as dt

import pytest

from tamarind.accounts.models import Segment
from tamarind.audit.models import AuditEvent
from tamarind.health.models import HealthHistory
from tamarind.signals.demo import seed_signals_demo
from tamarind.signals.models import BacktestSettings, Outcome, SignalInterval, SignalTrust
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ON = dt.date(2026, 3, 1)


def demo_book(book, n: int = 80) -> None:  # type: ignore[no-untyped-def]
    """``n`` accounts across two segments and both regions, then the demo's two years of signals and outcomes."""
    segments = [Segment.ENTERPRISE, Segment.SMB]
    for i in range(n):
        AccountFactory(
            name=f"Signalco {i:02d}",
            region=book.east if i % 4 else book.west,
            tam=book.tam,
            segment=segments[i % 2],
            customer_since=dt.date(2022, 1, 1),
        )
    seed_signals_demo(seed=7)


def known_book(book) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """120 accounts with an outcome on ``ON``, 36 churned or contracted (base rate 30%). "No call" fired before 30
    of the bad ones and 4 of the good ones (precision 88%, lift 2.9: trustworthy at the default lift above 2 with
    30 outcomes); "ticket spike" fired for every fifth account whatever happened (lift 1: not). Scores before the
    outcome follow it (a calibration to look at)."""
    accounts = [
        AccountFactory(name=f"Known {i:03d}", region=book.east, tam=book.tam, customer_since=dt.date(2022, 1, 1))
        for i in range(120)
    ]
    outcomes, intervals, points = [], [], []
    for i, account in enumerate(accounts):
        bad = i < 36
        kind = ("churned" if i % 3 == 0 else "contracted") if bad else "renewed_flat"
        outcomes.append(Outcome(account=account, kind=kind, on=ON, source="renewal"))
        if (bad and i < 30) or (not bad and i < 40):
            intervals.append(SignalInterval(account=account, key="no_call", started_on=ON - dt.timedelta(days=40 + i)))
        if i % 5 == 0:
            intervals.append(SignalInterval(account=account, key="ticket_spike", started_on=ON - dt.timedelta(days=60)))
        score = 30 + (i % 20) if bad else 55 + (i % 45)
        points.append(HealthHistory(account=account, day=ON - dt.timedelta(days=120), score=score, color="red"))
    Outcome.objects.bulk_create(outcomes)
    SignalInterval.objects.bulk_create(intervals)
    HealthHistory.objects.bulk_create(points)
    return {"churned": accounts[0].pk}


def test_signals_page_filters_and_an_indicators_detail(page, live_server, book):  # type: ignore[no-untyped-def]
    demo_book(book)
    judged_all = Outcome.objects.values("account").distinct().count()
    assert judged_all > 20
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/signals/")
    assert page.locator("h1").inner_text() == "Signals"
    assert page.locator("#signals-table tr[data-signal='no_call']").count() == 3  # one line per horizon
    summary = page.locator("#signals-summary").inner_text()
    assert "accounts with an outcome" in summary
    assert page.locator("#signals-calibration tbody tr").count() == 3
    screenshot(page, "signals-index")

    page.select_option("#id_segment", "smb")
    page.click("#signals-filters button[type=submit]")
    page.wait_for_url("**segment=smb**")
    page.wait_for_function("s => document.querySelector('#signals-summary').innerText !== s", arg=summary)
    filtered = page.locator("#signals-summary").inner_text()
    assert filtered != summary and "accounts with an outcome" in filtered
    # The links to a signal keep the filters.
    assert "segment=smb" in page.locator("#signals-table a").first.get_attribute("href")
    screenshot(page, "signals-index-smb")

    page.click("#signals-table tr[data-signal='no_call'] a")
    page.wait_for_url("**/signals/no_call/?segment=smb")
    assert "No call within cadence" in page.locator("h1").inner_text()
    assert page.locator("#signals-table tr[data-signal='no_call']").count() == 3
    assert page.locator("#signals-trust-form").is_visible()
    assert "Never labelled: unproven." in page.locator("#signals-trust").inner_text()
    screenshot(page, "signals-detail")


def test_admin_marks_a_trusted_indicator_refused_without_evidence(page, live_server, book):  # type: ignore[no-untyped-def]
    known_book(book)
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/signals/ticket_spike/")
    page.fill("#id_note", "Looks useful?")
    page.click("#signals-trust-form button[value='1']")
    page.wait_for_selector("ul.messages li.error")
    refusal = page.locator("ul.messages li.error").inner_text()
    assert "Lift 1.11 is not above 2.00." in refusal
    assert not SignalTrust.objects.exists()
    screenshot(page, "signals-trust-refused")

    page.goto(f"{live_server.url}/signals/no_call/")
    lift = page.locator("#signals-table tr[data-signal='no_call'][data-horizon='365']").inner_text()
    assert "2.94×" in lift
    page.fill("#id_note", "Cleared 2x lift with 36 outcomes")
    page.click("#signals-trust-form button[value='1']")
    page.wait_for_selector("ul.messages li.success")
    assert "Marked trusted." in page.locator("ul.messages").inner_text()
    assert "trusted" in page.locator("h1 .badge").inner_text()
    versions = page.locator("#signals-trust-versions tbody tr")
    assert versions.count() == 1 and "36 churned/contracted" in versions.first.inner_text()
    label = SignalTrust.objects.get()
    assert label.trusted and label.evidence["bad"] == 36 and label.decided_by == book.admin
    screenshot(page, "signals-trust-granted")

    # The dashboards list it first, the others as "unproven" with a link to their evidence.
    page.goto(f"{live_server.url}/dashboards/health/indicators/")
    first = page.locator("#health-indicator-totals tbody tr").first
    assert first.get_attribute("data-indicator-total") == "no_call"
    assert first.locator("[data-trust='trusted']").count() == 1
    unproven = page.locator("#health-indicator-totals tr[data-indicator-total='ticket_spike'] a[data-trust='unproven']")
    assert unproven.get_attribute("href") == "/signals/ticket_spike/"
    screenshot(page, "health-indicators-trusted-first")
    unproven.click()
    page.wait_for_url("**/signals/ticket_spike/")


def test_backtest_settings_page(page, live_server, book):  # type: ignore[no-untyped-def]
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/signals/")
    page.click("#signals-settings-link")
    page.wait_for_url("**/signals/settings/")
    assert page.locator("#id_horizons").input_value() == "90, 180, 365"
    page.fill("#id_horizons", "30, 0")
    page.click("#signals-settings-form button[type=submit]")
    page.wait_for_selector("#signals-settings-form .errorlist")
    assert "between 1 and 1095" in page.locator("#signals-settings-form .errorlist").inner_text()
    assert BacktestSettings.load().horizon_days == [90, 180, 365]
    screenshot(page, "signals-settings-refused")
    page.fill("#id_horizons", "60, 120, 365")
    page.fill("#id_trust_min_outcomes", "25")
    page.click("#signals-settings-form button[type=submit]")
    page.wait_for_selector("ul.messages li.success")
    assert "trust_min_outcomes" in page.locator("#signals-settings-changes").inner_text()
    row = BacktestSettings.load()
    assert row.horizon_days == [60, 120, 365] and row.trust_min_outcomes == 25
    assert AuditEvent.objects.filter(object_type="signals.backtestsettings").count() == 1
    screenshot(page, "signals-settings")
    page.goto(f"{live_server.url}/signals/")
    assert page.locator("#signals-table tr[data-signal='no_call'][data-horizon='60']").count() == 1


def test_account_page_signals_panel(page, live_server, book):  # type: ignore[no-untyped-def]
    ids = known_book(book)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/accounts/{ids['churned']}/")
    panel = page.locator("#signals-panel")
    panel.scroll_into_view_if_needed()
    text = panel.inner_text()
    assert "Churned or contracted on 2026-03-01" in text
    assert "No call within cadence: fired 40 days before" in text
    assert "Support ticket spike: fired 60 days before" in text
    screenshot(page, "signals-account-panel")
