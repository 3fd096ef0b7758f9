"""The Service Desk in a real browser: the request link as the customer sees it (no sign-in, only its own account;
a revoked link refused plainly), the queue with an overdue request highlighted, a request worked (reply, status,
reassignment), kept-aside email matched to an account, and the pools page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tamarind.servicedesk import services
from tamarind.servicedesk.models import InboundEmail, Pool, PoolMember, RequestLink, ServiceRequest
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _desk(book):  # type: ignore[no-untyped-def]
    pool = Pool.objects.create(name="Commercial pool", manager=book.manager, email_address="help@tamarind.example")
    PoolMember.objects.create(pool=pool, tam=book.tam)
    PoolMember.objects.create(pool=pool, tam=book.tam2)
    small = AccountFactory(name="Small Co", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    other = AccountFactory(name="Secret Other Co", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    return pool, small, other


def _request(account, subject: str, *, hours_ago: float = 1):  # type: ignore[no-untyped-def]
    return services.request_create(
        actor=None,
        account=account,
        subject=subject,
        body=f"{subject}: can someone help?",
        channel="link",
        requester_email=f"it-{account.pk}@customer.example",
        now=timezone.now() - dt.timedelta(hours=hours_ago),
    )


def test_the_request_link_as_the_customer_sees_it(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    _pool, small, other = _desk(book)
    _request(other, "Other customer's secret question")
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/servicedesk/accounts/{small.pk}/")
    page.click("#request-link button[value=link]")
    link = page.locator("#new-link").inner_text()
    screenshot(page, "servicedesk-account-link-created")
    assert RequestLink.objects.filter(account=small, revoked_at__isnull=True).count() == 1

    page.context.clear_cookies()  # the customer: nobody signed in
    page.goto(link)
    assert page.locator("h1").inner_text() == "Help for Small Co"
    assert page.locator(".sidebar").count() == 0
    page.fill("#id_name", "Ann Admin")
    page.fill("#id_email", "ann@small.example")
    page.fill("#id_subject", "Runner cannot register")
    page.fill("#id_body", "Behind our proxy the runner fails to register.")
    page.click("#new-request button[type=submit]")
    page.wait_for_selector("text=Runner cannot register")
    req = ServiceRequest.objects.get(account=small)
    assert req.channel == "link" and req.requester_email == "ann@small.example"
    thread = page.locator(f"#request-{req.pk}").inner_text()
    assert "Behind our proxy" in thread and "You" in thread
    content = page.content()
    assert "Secret Other Co" not in content and "secret question" not in content
    assert page.locator("main .panel[id^=request-]").count() == 1
    page.fill(f"#reply-{req.pk} textarea", "Here is the log.")
    page.click(f"#reply-{req.pk} button[type=submit]")
    page.wait_for_selector("text=Here is the log.")
    screenshot(page, "servicedesk-request-link")

    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/servicedesk/accounts/{small.pk}/")
    page.click("#request-link button[value=revoke]")
    page.wait_for_selector("text=The request link is revoked")
    page.context.clear_cookies()
    page.goto(link)
    assert page.locator("#link-refused h1").inner_text() == "This request link no longer works"
    assert "Small Co" not in page.content() and "Runner cannot register" not in page.content()
    screenshot(page, "servicedesk-request-link-revoked")


def test_queue_as_a_pool_tam_with_overdue_highlighted(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    _pool, small, other = _desk(book)
    late = _request(small, "Pipeline stuck for days", hours_ago=70)  # due after 48 hours: overdue
    fresh = _request(other, "How do approvals work?", hours_ago=2)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/")
    page.click(".sidebar a:has-text('Service Desk')")
    page.wait_for_selector("#desk-queue")
    overdue_row = page.locator(f"#request-{late.pk}")
    assert "triage-overdue-row" in (overdue_row.get_attribute("class") or "")
    assert overdue_row.locator(".badge.red").inner_text() == "overdue"
    assert "triage-overdue-row" not in (page.locator(f"#request-{fresh.pk}").get_attribute("class") or "")
    assert "2" in page.locator("#desk-metrics").inner_text()
    screenshot(page, "servicedesk-queue")
    page.check("#queue-filters input[name=overdue]")
    page.click("#queue-filters button[type=submit]")
    page.wait_for_url("**overdue=1**")
    assert page.locator("#desk-queue tbody tr").count() == 1
    screenshot(page, "servicedesk-queue-overdue-only")


def test_a_request_reply_status_and_reassign(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    _pool, small, _other = _desk(book)
    req = _request(small, "SAML sync misses new hires", hours_ago=50)
    worker = book.tam if req.assignee_id == book.tam.pk else book.tam2
    other_tam = book.tam2 if worker == book.tam else book.tam
    login(page, live_server, worker)
    page.goto(f"{live_server.url}/servicedesk/")
    page.click(f"#request-{req.pk} a")
    page.wait_for_selector("#thread")
    assert "overdue" in page.locator(".page-head").inner_text()
    page.fill("#reply-form textarea", "Thanks: which identity provider do you use?")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("#thread >> text=which identity provider")
    assert "First response given" in page.locator(".page-head").inner_text()
    page.select_option("#id_status", "waiting")
    page.click("#change-form button[type=submit]")
    page.wait_for_selector(".page-head >> text=Waiting on the customer")
    screenshot(page, "servicedesk-request")
    page.select_option("#id_assignee", str(other_tam.pk))
    page.click("#change-form button[type=submit]")
    page.wait_for_selector(".messages >> text=Saved")
    req.refresh_from_db()
    assert req.assignee_id == other_tam.pk and req.status == "waiting" and req.first_responded_at is not None
    assert page.locator("#id_assignee").input_value() == str(other_tam.pk)
    screenshot(page, "servicedesk-request-reassigned")


def test_unmatched_emails_are_matched_by_an_admin(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    _pool, small, _other = _desk(book)
    services.inbound_email_receive(
        b"From: someone@unknown.example\r\nSubject: Do you offer training?\r\n\r\nWe bought a few seats.\r\n"
    )
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/servicedesk/")
    page.click("text=Kept-aside email (1)")
    row = page.locator("#unmatched tbody tr")
    assert row.count() == 1 and "someone@unknown.example" in row.inner_text()
    screenshot(page, "servicedesk-unmatched")
    row.locator("input[name=account]").fill("999999")
    row.locator("button").click()
    assert page.locator("#error-page").count() == 1  # no such account: refused, nothing changed
    assert InboundEmail.objects.get().status == "unmatched"
    page.goto(f"{live_server.url}/servicedesk/unmatched/")
    page.locator("#unmatched input[name=account]").fill(str(small.pk))
    page.locator("#unmatched button").click()
    page.wait_for_selector(".messages >> text=Matched")
    assert page.locator("#unmatched").count() == 0 and "Nothing kept aside" in page.locator(".panel.flush").inner_text()
    req = ServiceRequest.objects.get(account=small)
    assert req.requester_email == "someone@unknown.example" and req.subject == "Do you offer training?"
    screenshot(page, "servicedesk-unmatched-matched")


def test_pools_page_and_availability(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    pool, _small, _other = _desk(book)
    login(page, live_server, book.tam)
    page.goto(f"{live_server.url}/servicedesk/pools/")
    panel = page.locator(f"#pool-{pool.pk}")
    assert "Commercial pool" in panel.inner_text() and "Mia Manager" in panel.inner_text()
    assert panel.locator("tbody tr").count() == 2
    screenshot(page, "servicedesk-pools")
    mine = panel.locator("tbody tr", has_text="Tara Tam")
    mine.locator("input[name=available]").uncheck()
    away = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    mine.locator("input[name=away_until]").fill(away)
    mine.locator("button").click()
    page.wait_for_selector(".messages >> text=Availability saved")
    member = PoolMember.objects.get(pool=pool, tam=book.tam)
    assert not member.available and member.away_until.isoformat() == away  # type: ignore[union-attr]
    mine = page.locator(f"#pool-{pool.pk} tbody tr", has_text="Tara Tam")
    assert not mine.locator("input[name=available]").is_checked()
    screenshot(page, "servicedesk-pools-away")


def test_an_admin_creates_a_pool_and_adds_a_tam(page, live_server, book) -> None:  # type: ignore[no-untyped-def]
    larger = {"match": "all", "conditions": [{"field": "arr", "op": "gte", "value": "20000"}]}
    services.pool_create(
        actor=book.admin, data={"name": "Larger pool", "engagement_model": "pooled", "criteria": larger}
    )
    login(page, live_server, book.admin)
    page.goto(f"{live_server.url}/servicedesk/pools/")
    page.click("#new-pool")
    page.fill("#id_name", "Small pooled customers")
    page.select_option("#id_engagement_model", "pooled")
    page.select_option("#id_manager_id", str(book.manager.pk))
    page.fill("#id_first_response_hours", "24")
    page.select_option("#id_c-0-field", "arr")
    page.select_option("#id_c-0-op", "lt")
    page.fill("#id_c-0-value", "20000")
    screenshot(page, "servicedesk-pool-new")
    page.click("#pool-save")
    page.wait_for_selector(".messages >> text=Saved Small pooled customers")
    pool = Pool.objects.get(name="Small pooled customers")
    assert pool.manager_id == book.manager.pk and pool.first_response_hours == 24
    assert pool.criteria == {"match": "all", "conditions": [{"field": "arr", "op": "lt", "value": "20000"}]}

    # Only the manager's region's TAMs are offered; adding one swaps the members panel in place (htmx).
    offered = page.locator("#id_add_tam option").all_inner_texts()
    assert any("Tara Tam" in o for o in offered) and not any("Olga Tam" in o for o in offered)
    page.select_option("#id_add_tam", str(book.tam.pk))
    page.click("#member-add button[type=submit]")
    page.wait_for_selector(f"#member-{book.tam.pk}")
    assert "Added Tara Tam" in page.locator("#pool-members").inner_text()
    assert PoolMember.objects.filter(pool=pool, tam=book.tam).exists()

    # Criteria overlapping the larger pool's are refused on the form, nothing saved; narrowed again, it saves.
    page.select_option("#id_c-0-op", "gt")
    page.fill("#id_c-0-value", "1000")
    page.fill("#id_first_response_hours", "12")
    page.click("#pool-save")
    page.wait_for_selector("#pool-errors >> text=overlap Larger pool")
    screenshot(page, "servicedesk-pool-overlap-refused")
    pool.refresh_from_db()
    assert pool.first_response_hours == 24 and pool.criteria["conditions"][0]["op"] == "lt"
    page.select_option("#id_c-0-op", "lt")
    page.fill("#id_c-0-value", "20000")
    page.click("#pool-save")
    page.wait_for_selector(".messages >> text=Saved Small pooled customers")
    pool.refresh_from_db()
    assert pool.first_response_hours == 12 and pool.criteria["conditions"][0]["op"] == "lt"
    assert page.locator(f"#member-{book.tam.pk}").count() == 1
    screenshot(page, "servicedesk-pool-saved")
