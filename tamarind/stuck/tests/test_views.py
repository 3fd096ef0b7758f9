"""The queue and a case page, and the API: filters, why, the htmx claim, outreach and resolve, the permission
trio and query counts that stay constant as cases grow."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.people.services import token_create
from tamarind.stuck.models import CaseStatus, StuckCase
from tamarind.stuck.tests.factories import case_of, pool_of, pooled
from tamarind.timeline.models import TimelineEntry

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def api_for(user: Any) -> Client:
    _, raw = token_create(actor=user, user=user, name="t")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_queue_shows_why_and_filters(book: Any) -> None:
    pool = pool_of(book)
    a = case_of(pooled(book, name="Stuck Alpha"), pool)
    reasons = [{"rule": "ticket-spike", "name": "Support ticket spike", "kind": "ticket_spike", "why": "9 tickets"}]
    case_of(pooled(book, name="Stuck Beta"), pool, reasons=reasons)
    body = client_for(book.tam).get("/stuck/").content.decode()
    assert "Stuck Alpha" in body and "Stuck Beta" in body and "9 tickets" in body and "40 days" in body
    body = client_for(book.tam).get("/stuck/?rule=ticket-spike").content.decode()
    assert "Stuck Beta" in body and "Stuck Alpha" not in body
    body = client_for(book.tam).get(f"/stuck/?status=claimed&pool={pool.pk}").content.decode()
    assert "No stuck customers" in body
    # Bad filter values are ignored, never a 500.
    assert client_for(book.tam).get("/stuck/?status=zzz&pool=99999999999999999999&rule=%22").status_code == 200
    assert a.pk


def test_queue_hidden_from_outsiders(book: Any) -> None:
    case_of(pooled(book, name="Stuck Alpha"), pool_of(book))
    assert "Stuck Alpha" not in client_for(book.other_tam).get("/stuck/").content.decode()
    assert "Stuck Alpha" not in client_for(book.tam2).get("/stuck/").content.decode()
    assert "Stuck Alpha" in client_for(book.manager).get("/stuck/").content.decode()
    assert client_for(book.sal).get("/stuck/").status_code == 403


def test_htmx_claim_returns_the_row(book: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    response = client_for(book.tam).post(f"/stuck/{case.pk}/claim/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="stuck-case-{case.pk}"' in response.content.decode() and book.tam.full_name in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.CLAIMED


def test_case_page_outreach_and_resolve(book: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    c = client_for(book.tam)
    assert "40 days" in c.get(f"/stuck/{case.pk}/").content.decode()
    r = c.post(f"/stuck/{case.pk}/", {"action": "outreach", "kind": "call", "title": "Kick-off again", "notes": "ok"})
    assert r.status_code == 302
    assert TimelineEntry.objects.filter(account=case.account, title="Kick-off again").exists()
    assert "Kick-off again" in c.get(f"/stuck/{case.pk}/").content.decode()
    r = c.post(f"/stuck/{case.pk}/", {"action": "resolve", "outcome": "bogus"})
    assert r.status_code == 400 and "Choose one of" in r.content.decode()
    r = c.post(f"/stuck/{case.pk}/", {"action": "resolve", "outcome": "unstuck", "notes": "Using CI now"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.outcome == "unstuck"


def test_permission_trio_on_the_case(book: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    assert client_for(book.tam).get(f"/stuck/{case.pk}/").status_code == 200
    assert client_for(book.director).post(f"/stuck/{case.pk}/", {"action": "claim"}).status_code == 403
    assert client_for(book.other_tam).get(f"/stuck/{case.pk}/").status_code == 404
    assert client_for(book.tam).get("/stuck/999999/").status_code == 404


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/stuck/", "/api/v1/stuck/cases"])
def test_queries_constant_as_cases_grow(book: Any, url: str) -> None:
    pool = pool_of(book, "Pool A")
    other = pool_of(book, "Pool B")
    case_of(pooled(book), pool)
    c = api_for(book.tam) if url.startswith("/api") else client_for(book.tam)
    c.get(url)  # warm-up: the token's first use is recorded once
    small = _count(c, url)
    for i in range(8):
        made = case_of(pooled(book), pool if i % 2 else other)
        if i % 3 == 0:
            StuckCase.objects.filter(pk=made.pk).update(
                status="claimed", claimed_by=book.tam, claimed_at=made.opened_at
            )
    assert _count(c, url) == small


def test_case_page_queries_bounded(book: Any, django_assert_max_num_queries: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    c = client_for(book.tam)
    with django_assert_max_num_queries(15):
        c.get(f"/stuck/{case.pk}/")


def test_api_list_detail_and_writes_audited(book: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    c = api_for(book.tam)
    body = c.get("/api/v1/stuck/cases?status=unresolved").json()
    assert body["count"] == 1 and body["results"][0]["reasons"][0]["why"] == "40 days"
    assert c.get(f"/api/v1/stuck/cases/{case.pk}").json()["status"] == "open"
    before = AuditEvent.objects.count()
    assert c.post(f"/api/v1/stuck/cases/{case.pk}/claim").json()["status"] == "claimed"
    r = c.post(
        f"/api/v1/stuck/cases/{case.pk}/outreach",
        data=json.dumps({"kind": "email", "notes": "Sent a guide"}),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    r = c.post(
        f"/api/v1/stuck/cases/{case.pk}/resolve",
        data=json.dumps({"outcome": "handed_over"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["outcome"] == "handed_over"
    # claim, its task, timeline entry, outreach count, resolve, the task closed
    assert AuditEvent.objects.count() - before == 6
    r = c.post(f"/api/v1/stuck/cases/{case.pk}/claim")
    assert r.status_code == 422
    rules = c.get("/api/v1/stuck/rules").json()
    assert len(rules) == 6 and all("params" in r for r in rules)


def test_api_bad_input(book: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    c = api_for(book.tam)
    for payload in ({"kind": "fax"}, {"kind": "call", "extra": 1}, {}):
        r = c.post(f"/api/v1/stuck/cases/{case.pk}/outreach", data=json.dumps(payload), content_type="application/json")
        assert r.status_code == 422, payload
    r = c.post(
        f"/api/v1/stuck/cases/{case.pk}/resolve", data=json.dumps({"outcome": "x"}), content_type="application/json"
    )
    assert r.status_code == 422
    assert c.get("/api/v1/stuck/cases/99999999").status_code == 404
    assert api_for(book.other_tam).get(f"/api/v1/stuck/cases/{case.pk}").status_code == 404
    assert api_for(book.sal).get("/api/v1/stuck/cases").status_code == 403
    assert AuditEvent.objects.for_object("stuck.stuckcase", case.pk).count() == 0


# --- The rules page and its API --------------------------------------------------------------------------------


def _no_activity() -> Any:
    from tamarind.stuck.models import StuckRule

    return StuckRule.objects.get(key="no-activity")


def test_rules_page_reads_for_the_queue_and_edits_for_admins(book: Any) -> None:
    page = client_for(book.tam).get("/stuck/rules/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "No activity in 30 days" in html
        and "Admins change these." in html
        and "/stuck/rules/" not in html.split("<h1>")[1]
    )
    assert 'name="days"' in client_for(book.admin).get("/stuck/rules/").content.decode()
    assert client_for(book.sal).get("/stuck/rules/").status_code == 403


def test_admin_changes_a_rule_by_htmx_and_it_is_audited(book: Any) -> None:
    rule = _no_activity()
    c = client_for(book.admin)
    r = c.post(f"/stuck/rules/{rule.pk}/", {"days": "21"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Saved." in r.content.decode()
    rule.refresh_from_db()
    assert rule.params == {"days": 21} and rule.enabled is False  # the box was not ticked
    event = AuditEvent.objects.filter(object_type="stuck.stuckrule", object_id=str(rule.pk)).latest("at")
    assert event.before == {"enabled": True, "params": {"days": 30}}
    assert event.after == {"enabled": False, "params": {"days": 21}}


@pytest.mark.parametrize("value", ["0", "731", "ten", ""])
def test_a_threshold_out_of_range_is_refused_and_nothing_changes(book: Any, value: str) -> None:
    rule = _no_activity()
    r = client_for(book.admin).post(
        f"/stuck/rules/{rule.pk}/", {"days": value, "enabled": "on"}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200  # htmx swaps only 2xx: the card comes back with the error
    assert "days must be a whole number from 1 to 730" in r.content.decode() and "Saved." not in r.content.decode()
    rule.refresh_from_db()
    assert rule.params == {"days": 30} and rule.enabled


def test_rule_edit_permission_trio(book: Any) -> None:
    rule = _no_activity()
    assert client_for(book.admin).post(f"/stuck/rules/{rule.pk}/", {"days": "20", "enabled": "on"}).status_code == 302
    assert client_for(book.manager).post(f"/stuck/rules/{rule.pk}/", {"days": "5"}).status_code == 403
    assert client_for(book.admin).post("/stuck/rules/999999/", {"days": "5"}).status_code == 404
    rule.refresh_from_db()
    assert rule.params == {"days": 20}


def test_rules_page_queries_constant_as_rules_grow(book: Any) -> None:
    from tamarind.stuck.models import StuckRule

    c = client_for(book.admin)
    small = _count(c, "/stuck/rules/")
    for i in range(6):
        StuckRule.objects.create(key=f"extra-{i}", name=f"Extra {i}", kind="no_activity", params={"days": 40 + i})
    assert _count(c, "/stuck/rules/") == small


def test_api_rule_update(book: Any) -> None:
    rule = _no_activity()
    url = f"/api/v1/stuck/rules/{rule.pk}"
    admin = api_for(book.admin)
    r = admin.patch(url, data=json.dumps({"enabled": False}), content_type="application/json")
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["params"] == {"days": 30}
    r = admin.patch(url, data=json.dumps({"params": {"days": 45}}), content_type="application/json")
    assert r.status_code == 200 and r.json()["params"] == {"days": 45} and r.json()["enabled"] is False
    for bad in ({"params": {"days": 0}}, {"params": {"weeks": 2}}, {"params": {"days": "x"}}, {"extra": 1}):
        assert admin.patch(url, data=json.dumps(bad), content_type="application/json").status_code == 422, bad
    tam = api_for(book.tam)
    assert tam.patch(url, data=json.dumps({"enabled": True}), content_type="application/json").status_code == 403
    missing = admin.patch("/api/v1/stuck/rules/99999999", data="{}", content_type="application/json")
    assert missing.status_code == 404
    rule.refresh_from_db()
    assert rule.params == {"days": 45} and rule.enabled is False
