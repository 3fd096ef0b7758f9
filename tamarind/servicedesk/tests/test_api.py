"""Service Desk API: the permission trio of every route, bad input (unknown ids 404, wrong types 422, 64-bit
bounds), writes audited with source ``api``, replies emailed, constant query counts as data grows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.servicedesk import services
from tamarind.servicedesk.models import InboundEmail, Pool, PoolMember, RequestLink, ServiceRequest
from tamarind.testing.factories import AccountFactory, UserFactory

API = "/api/v1/servicedesk"
BIG = 2**63
JSON = "application/json"


@pytest.fixture
def desk(book):  # type: ignore[no-untyped-def]
    pool = Pool.objects.create(name="Commercial pool", manager=book.manager)
    PoolMember.objects.create(pool=pool, tam=book.tam)
    account = AccountFactory(name="Small Co", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    other = AccountFactory(name="Other Co", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    return pool, account, other


def _req(account, n: int = 0) -> ServiceRequest:  # type: ignore[no-untyped-def]
    return services.request_create(
        actor=None, account=account, subject=f"Help {n}", body="Body", channel="link", requester_email="ann@s.example"
    )


def _api_events(model: type[Model], obj_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(source="api", object_type=model._meta.label_lower, object_id=str(obj_id)))


def test_pools_and_availability(book, desk, api_for) -> None:  # type: ignore[no-untyped-def]
    pool, _account, _other = desk
    assert api_for(book.sal).get(f"{API}/pools").status_code == 403
    rows = api_for(book.tam2).get(f"{API}/pools").json()
    assert rows[0]["name"] == "Commercial pool" and rows[0]["members"][0]["tam"]["id"] == book.tam.pk
    assert rows[0]["members"][0]["available_today"] is True
    assert api_for(book.director).get(f"{API}/pools/{pool.pk}").json()["manager"]["id"] == book.manager.pk
    assert api_for(book.tam).get(f"{API}/pools/{pool.pk + 1000}").status_code == 404
    assert api_for(book.tam).get(f"{API}/pools/{BIG}").status_code == 404
    assert api_for(book.tam).get(f"{API}/pools/abc").status_code == 422
    url = f"{API}/pools/{pool.pk}/members/{book.tam.pk}"
    body = {"available": True, "away_until": "2999-01-01"}
    assert api_for(book.tam2).put(url, body, content_type=JSON).status_code == 403
    assert api_for(book.director).put(url, body, content_type=JSON).status_code == 403
    assert api_for(book.tam).put(url, {"away_until": "soon"}, content_type=JSON).status_code == 422
    assert api_for(book.tam).put(url, {"colour": 1}, content_type=JSON).status_code == 422
    assert api_for(book.tam).put(f"{API}/pools/{pool.pk}/members/{BIG}", body, content_type=JSON).status_code == 404
    ok = api_for(book.tam).put(url, body, content_type=JSON)
    assert ok.status_code == 200 and ok.json()["available_today"] is False
    assert PoolMember.objects.get(tam=book.tam).away_until.isoformat() == "2999-01-01"
    assert len(_api_events(PoolMember, PoolMember.objects.get(tam=book.tam).pk)) == 1
    # The pool's manager adds a TAM; a non-TAM is refused.
    added = api_for(book.manager).put(f"{API}/pools/{pool.pk}/members/{book.tam2.pk}", {}, content_type=JSON)
    assert added.status_code == 200 and PoolMember.objects.filter(pool=pool, tam=book.tam2).exists()
    assert (
        api_for(book.admin).put(f"{API}/pools/{pool.pk}/members/{book.sal.pk}", {}, content_type=JSON).status_code
        == 422
    )


def test_request_list_filters_and_scope(book, desk, api_for) -> None:  # type: ignore[no-untyped-def]
    pool, account, other = desk
    first, second = _req(account), _req(other, 1)
    services.request_update(actor=book.tam, request=second, changes={"status": "closed"})
    assert api_for(book.sa).get(f"{API}/requests").status_code == 403
    assert api_for(book.other_tam).get(f"{API}/requests").json()["count"] == 0  # not in the pool
    page = api_for(book.tam).get(f"{API}/requests").json()
    assert page["count"] == 2 and [r["id"] for r in page["results"]] == [first.pk, second.pk]
    assert api_for(book.tam).get(f"{API}/requests", {"status": "closed"}).json()["results"][0]["id"] == second.pk
    assert api_for(book.tam).get(f"{API}/requests", {"account": other.pk}).json()["count"] == 1
    assert api_for(book.tam).get(f"{API}/requests", {"pool": pool.pk + 1}).json()["count"] == 0
    assert api_for(book.tam).get(f"{API}/requests", {"assignee": book.tam.pk}).json()["count"] == 2
    assert api_for(book.tam).get(f"{API}/requests", {"overdue": "true"}).json()["count"] == 0
    assert api_for(book.tam).get(f"{API}/requests", {"page_size": 1, "page": 2}).json()["results"][0]["id"] == (
        second.pk
    )
    for bad in ({"status": "nope"}, {"pool": "x"}, {"assignee": BIG}, {"account": 0}, {"page": 0}, {"overdue": "?"}):
        assert api_for(book.tam).get(f"{API}/requests", bad).status_code == 422, bad


def test_request_detail_reply_update_trio(book, desk, api_for, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _pool, account, _other = desk
    req = _req(account)
    url = f"{API}/requests/{req.pk}"
    assert api_for(book.other_tam).get(url).status_code == 404
    assert api_for(book.sal).get(url).status_code == 403
    assert api_for(book.tam).get(f"{API}/requests/{req.pk + 1000}").status_code == 404
    assert api_for(book.tam).get(f"{API}/requests/{BIG}").status_code == 404
    detail = api_for(book.director).get(url).json()
    assert detail["reference"] == f"SR-{req.pk}" and detail["thread"][0]["body"] == "Body"
    assert detail["can_work"] is False and detail["overdue"] is False
    # Reply: read-only 403, outsider 404, empty 422; then emailed and audited.
    assert api_for(book.director).post(f"{url}/reply", {"body": "x"}, content_type=JSON).status_code == 403
    assert api_for(book.other_tam).post(f"{url}/reply", {"body": "x"}, content_type=JSON).status_code == 404
    assert api_for(book.tam).post(f"{url}/reply", {"body": ""}, content_type=JSON).status_code == 422
    assert api_for(book.tam).post(f"{url}/reply", {"body": 5}, content_type=JSON).status_code == 422
    mail.outbox.clear()
    before = len(_api_events(ServiceRequest, req.pk))
    with django_capture_on_commit_callbacks(execute=True):
        reply = api_for(book.tam).post(f"{url}/reply", {"body": "Try this"}, content_type=JSON)
    assert reply.status_code == 201 and reply.json()["author"]["id"] == book.tam.pk
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ann@s.example"] and "Try this" in mail.outbox[0].body
    assert len(_api_events(ServiceRequest, req.pk)) == before + 1
    # Status change and reassignment.
    assert api_for(book.director).patch(url, {"status": "closed"}, content_type=JSON).status_code == 403
    assert api_for(book.tam).patch(url, {"status": "nope"}, content_type=JSON).status_code == 422
    assert api_for(book.tam).patch(url, {"status": None}, content_type=JSON).status_code == 422
    assert api_for(book.tam).patch(url, {"assignee_id": book.tam2.pk}, content_type=JSON).status_code == 422
    assert api_for(book.tam).patch(url, {"assignee_id": BIG}, content_type=JSON).status_code == 422
    PoolMember.objects.create(pool=req.pool, tam=book.tam2)
    moved = api_for(book.manager).patch(url, {"assignee_id": book.tam2.pk}, content_type=JSON)
    assert moved.status_code == 200 and moved.json()["assignee"]["id"] == book.tam2.pk
    closed = api_for(book.tam).patch(url, {"status": "closed"}, content_type=JSON).json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert api_for(book.tam).post(f"{url}/reply", {"body": "late"}, content_type=JSON).status_code == 422
    assert len(_api_events(ServiceRequest, req.pk)) == before + 3
    assert api_for(book.tam).post(f"{url}/rating", {"rating": 5}, content_type=JSON).status_code == 404  # link only


def test_entering_a_request(book, desk, api_for) -> None:  # type: ignore[no-untyped-def]
    _pool, account, _other = desk
    body = {"account_id": account.pk, "subject": "Upgrade", "body": "Please", "requester_email": "bo@s.example"}
    assert api_for(book.other_tam).post(f"{API}/requests", body, content_type=JSON).status_code == 404
    assert api_for(book.tam2).post(f"{API}/requests", body, content_type=JSON).status_code == 403
    assert api_for(book.director).post(f"{API}/requests", body, content_type=JSON).status_code == 403
    assert api_for(book.tam).post(f"{API}/requests", {**body, "account_id": BIG}, content_type=JSON).status_code == 422
    assert (
        api_for(book.tam).post(f"{API}/requests", {**body, "account_id": 10**9}, content_type=JSON).status_code == 404
    )
    assert api_for(book.tam).post(f"{API}/requests", {**body, "subject": ""}, content_type=JSON).status_code == 422
    assert (
        api_for(book.tam).post(f"{API}/requests", {**body, "requester_email": "x"}, content_type=JSON).status_code
        == 422
    )
    not_pooled = {**body, "account_id": book.account.pk}
    assert api_for(book.admin).post(f"{API}/requests", not_pooled, content_type=JSON).status_code == 422
    assert not ServiceRequest.objects.exists()
    made = api_for(book.tam).post(f"{API}/requests", body, content_type=JSON)
    assert made.status_code == 201
    out = made.json()
    assert out["channel"] == "api" and out["assignee"]["id"] == book.tam.pk and out["thread"][0]["body"] == "Please"
    assert [e.action for e in _api_events(ServiceRequest, out["id"])] == ["create"]


def test_inbound_email(book, desk, api_for) -> None:  # type: ignore[no-untyped-def]
    _pool, account, _other = desk
    inbound = services.inbound_email_receive(b"From: eve@x.example\r\nSubject: Hi\r\n\r\nHello\r\n")
    assert api_for(book.manager).get(f"{API}/inbound").status_code == 403
    page = api_for(book.admin).get(f"{API}/inbound").json()
    assert page["count"] == 1 and page["results"][0]["from_email"] == "eve@x.example"
    url = f"{API}/inbound/{inbound.pk}/match"
    assert api_for(book.manager).post(url, {"account_id": account.pk}, content_type=JSON).status_code == 403
    assert api_for(book.admin).post(f"{API}/inbound/{BIG}/match", {"account_id": 1}, content_type=JSON).status_code == (
        404
    )
    assert api_for(book.admin).post(url, {"account_id": "abc"}, content_type=JSON).status_code == 422
    assert api_for(book.admin).post(url, {"account_id": book.account.pk}, content_type=JSON).status_code == 422
    ok = api_for(book.admin).post(url, {"account_id": account.pk}, content_type=JSON)
    assert ok.status_code == 201 and ok.json()["requester_email"] == "eve@x.example"
    assert InboundEmail.objects.get(pk=inbound.pk).status == "matched"
    assert _api_events(InboundEmail, inbound.pk)
    assert api_for(book.admin).post(url, {"account_id": account.pk}, content_type=JSON).status_code == 422
    assert api_for(book.admin).get(f"{API}/inbound").json()["count"] == 0


def test_request_links(book, desk, api_for, client) -> None:  # type: ignore[no-untyped-def]
    _pool, account, _other = desk
    url = f"{API}/accounts/{account.pk}"
    assert api_for(book.other_tam).get(url).status_code == 404
    assert api_for(book.tam2).get(url).status_code == 403
    assert api_for(book.director).post(f"{url}/link").status_code == 403
    assert api_for(book.tam).get(f"{API}/accounts/{BIG}").status_code == 404
    assert api_for(book.tam).get(url).json()["live_link"] is None
    made = api_for(book.tam).post(f"{url}/link")
    assert made.status_code == 201
    link = made.json()
    assert RequestLink.objects.get(revoked_at__isnull=True).token_hash == services.token_hash(link["token"])
    page = client.get(link["url"].split("testserver", 1)[1])
    assert page.status_code == 200 and b"Small Co" in page.content and b"Other Co" not in page.content
    desk_view = api_for(book.manager).get(url).json()
    assert desk_view["live_link"]["created_by"]["id"] == book.tam.pk and desk_view["pool"]["name"] == "Commercial pool"
    assert "token" not in str(desk_view)
    assert api_for(book.tam2).delete(f"{url}/link").status_code == 403
    assert api_for(book.tam).delete(f"{url}/link").json() == {"revoked": 1}
    assert client.get(link["url"].split("testserver", 1)[1]).status_code == 404
    assert api_for(book.tam).delete(f"{url}/link").json() == {"revoked": 0}
    assert len(AuditEvent.objects.filter(source="api", object_type__icontains="requestlink")) == 2
    assert api_for(book.admin).post(f"{API}/accounts/{book.account.pk}/link").status_code == 422  # no pool


def test_metrics(book, desk, api_for) -> None:  # type: ignore[no-untyped-def]
    _pool, account, other = desk
    assert api_for(book.sal).get(f"{API}/metrics").status_code == 403
    empty = api_for(book.tam).get(f"{API}/metrics").json()
    assert empty["requests"] == 0 and empty["share_within"] is None and empty["per_customer"] is None
    first = _req(account)
    _req(other, 1)
    services.request_reply(actor=book.tam, request=first, body="ok")
    services.request_update(actor=book.tam, request=first, changes={"status": "closed"})
    services.request_rate(request=first, rating=4)
    m = api_for(book.tam).get(f"{API}/metrics").json()
    assert (m["requests"], m["answered"], m["within"], m["customers"], m["rated"]) == (2, 1, 1, 2, 1)
    assert m["share_within"] == 1.0 and m["per_customer"] == 1.0 and m["mean_satisfaction"] == 4.0
    assert api_for(book.other_tam).get(f"{API}/metrics").json()["requests"] == 0


def test_unauthenticated_is_401(desk, client) -> None:  # type: ignore[no-untyped-def]
    pool, account, _other = desk
    req = _req(account)
    for path in ("pools", f"pools/{pool.pk}", "requests", f"requests/{req.pk}", "metrics", "inbound"):
        assert client.get(f"{API}/{path}").status_code == 401
    assert client.post(f"{API}/requests/{req.pk}/reply", {"body": "x"}, content_type=JSON).status_code == 401
    assert client.delete(f"{API}/accounts/{account.pk}/link").status_code == 401


@pytest.mark.parametrize("who", ["tam", "admin", "director"])
def test_query_counts_are_constant(book, desk, api_for, who: str) -> None:  # type: ignore[no-untyped-def]
    pool, account, other = desk
    client = api_for(getattr(book, who))
    first = _req(account)
    services.inbound_email_receive(b"From: eve@y.example\r\nSubject: s\r\n\r\nb\r\n")  # a page with rows
    paths = ["pools", f"pools/{pool.pk}", "requests", f"requests/{first.pk}", "metrics"]
    if who == "admin":
        paths += ["inbound", f"accounts/{account.pk}"]

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{API}/{path}").status_code == 200, path
        return len(ctx.captured_queries)

    count("pools")  # the token's first use is recorded once
    small = {p: count(p) for p in paths}
    for i in range(6):
        r = _req(account if i % 2 else other, i)
        services.customer_message_add(request=first, body=f"more {i}")
        services.request_reply(actor=book.tam, request=r, body="ok")
        services.inbound_email_receive(f"From: x{i}@y.example\r\nSubject: s\r\n\r\nb\r\n".encode())
        PoolMember.objects.create(pool=pool, tam=UserFactory(role="tam", region=book.east))
    assert {p: count(p) for p in paths} == small
