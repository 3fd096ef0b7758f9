"""Service Desk pages: the permission trio, the request link as a customer uses it (only its own account),
bad input answered 400, constant query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tamarind.servicedesk import services
from tamarind.servicedesk.models import Pool, PoolMember, ServiceRequest
from tamarind.testing.factories import AccountFactory


@pytest.fixture
def desk(book):  # type: ignore[no-untyped-def]
    pool = Pool.objects.create(name="Commercial pool", manager=book.manager)
    PoolMember.objects.create(pool=pool, tam=book.tam)
    account = AccountFactory(name="Small Co", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    other = AccountFactory(name="Secret Other Co", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    return pool, account, other


def _req(account, n: int = 0) -> ServiceRequest:  # type: ignore[no-untyped-def]
    return services.request_create(
        actor=None,
        account=account,
        subject=f"Help {n}",
        body="Body",
        channel="link",
        requester_email="ann@small.example",
    )


def test_queue_and_request_trio(book, desk, client_for) -> None:  # type: ignore[no-untyped-def]
    _pool, account, _other = desk
    req = _req(account)
    url = f"/servicedesk/{req.pk}/"
    assert client_for(book.tam).get("/servicedesk/").status_code == 200
    assert client_for(book.sal).get("/servicedesk/").status_code == 403
    assert client_for(book.other_tam).get(url).status_code == 404
    assert client_for(book.director).get(url).status_code == 200
    assert client_for(book.director).post(url, {"body": "hi"}).status_code == 403
    assert client_for(book.tam).post(url, {"body": ""}).status_code == 400
    assert client_for(book.tam).post(url, {"status": "nope"}).status_code == 400
    assert client_for(book.tam).post(url, {"assignee": "x"}).status_code == 400
    assert client_for(book.tam).post(url, {"body": "Answer"}).status_code == 302
    assert client_for(book.manager).post(url, {"status": "closed"}).status_code == 302
    assert client_for(book.tam).get("/servicedesk/?status=closed").context["requests"][0].pk == req.pk


def test_the_request_link_as_the_customer_uses_it(book, desk, client_for) -> None:  # type: ignore[no-untyped-def]
    _pool, account, other = desk
    page = client_for(book.tam).post(f"/servicedesk/accounts/{account.pk}/", {"action": "link"})
    link = page.context["new_link"]
    path = link.split("testserver", 1)[1]
    customer = Client(enforce_csrf_checks=False)
    _req(other)  # another account's request: never shown on this link
    view = customer.get(path)
    assert view.status_code == 200 and b"Small Co" in view.content and b"Secret Other Co" not in view.content
    assert (
        customer.post(path, {"action": "new", "email": "not-an-email", "subject": "s", "body": "b"}).status_code == 400
    )
    assert (
        customer.post(
            path, {"action": "new", "email": "ann@small.example", "subject": "Stuck", "body": "CI"}
        ).status_code
        == 303
    )
    req = ServiceRequest.objects.get(account=account)
    assert req.channel == "link" and req.assignee_id == book.tam.pk
    other_req = ServiceRequest.objects.get(account=other)
    assert customer.post(path, {"action": "reply", "request": other_req.pk, "body": "x"}).status_code == 404
    assert customer.post(path, {"action": "rate", "request": req.pk, "rating": "5"}).status_code == 400  # open
    services.request_update(actor=book.tam, request=req, changes={"status": "closed"})
    assert customer.post(path, {"action": "rate", "request": req.pk, "rating": "5"}).status_code == 303
    assert client_for(book.tam).post(f"/servicedesk/accounts/{account.pk}/", {"action": "revoke"}).status_code == 302
    gone = customer.get(path)
    assert gone.status_code == 404 and b"This request link no longer works" in gone.content
    assert b"Small Co" not in gone.content and b"Stuck" not in gone.content
    assert (
        customer.post(path, {"action": "new", "email": "a@b.example", "subject": "s", "body": "b"}).status_code == 404
    )
    assert b"no longer works" in customer.get("/desk/unknown-token/").content
    assert customer.get(path).status_code == 404
    assert customer.get("/desk/not-a-token/").status_code == 404


def test_account_desk_and_entry(book, desk, client_for) -> None:  # type: ignore[no-untyped-def]
    _pool, account, _other = desk
    url = f"/servicedesk/accounts/{account.pk}/"
    assert client_for(book.other_tam).get(url).status_code == 404
    assert client_for(book.sal).get(url).status_code == 403
    assert client_for(book.tam2).get(url).status_code == 403  # reads the account, not in the pool
    assert client_for(book.tam).post(url, {"action": "new", "subject": "", "body": "x"}).status_code == 400
    assert client_for(book.tam).post(url, {"action": "new", "subject": "Upgrade", "body": "x"}).status_code == 302
    assert ServiceRequest.objects.get(account=account).channel == "tam"


def test_pools_and_unmatched(book, desk, client_for) -> None:  # type: ignore[no-untyped-def]
    pool, account, _other = desk
    assert client_for(book.tam).post("/servicedesk/pools/", {"pool": pool.pk, "tam": book.tam.pk}).status_code == 302
    assert not PoolMember.objects.get(tam=book.tam).available
    assert client_for(book.tam2).post("/servicedesk/pools/", {"pool": pool.pk, "tam": book.tam.pk}).status_code == 403
    assert client_for(book.tam).post("/servicedesk/pools/", {"pool": "x", "tam": book.tam.pk}).status_code == 404
    assert (
        client_for(book.tam)
        .post("/servicedesk/pools/", {"pool": pool.pk, "tam": book.tam.pk, "away_until": "soon"})
        .status_code
        == 400
    )
    assert client_for(book.manager).get("/servicedesk/unmatched/").status_code == 403
    inbound = services.inbound_email_receive(b"From: eve@x.example\r\nSubject: Hi\r\n\r\nHello\r\n")
    assert (
        client_for(book.admin).post("/servicedesk/unmatched/", {"inbound": inbound.pk, "account": "abc"}).status_code
        == 404
    )
    assert (
        client_for(book.admin)
        .post("/servicedesk/unmatched/", {"inbound": inbound.pk, "account": book.account.pk})
        .status_code
        == 400
    )
    assert (
        client_for(book.admin)
        .post("/servicedesk/unmatched/", {"inbound": inbound.pk, "account": account.pk})
        .status_code
        == 302
    )


def _count(client, path: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["tam", "admin"])
def test_query_counts_are_constant(book, desk, client_for, who: str) -> None:  # type: ignore[no-untyped-def]
    _pool, account, other = desk
    client = client_for(getattr(book, who))
    first = _req(account)
    link_page = client_for(book.tam).post(f"/servicedesk/accounts/{account.pk}/", {"action": "link"})
    link = link_page.context["new_link"].split("testserver", 1)[1]
    paths = ["/servicedesk/", f"/servicedesk/{first.pk}/", "/servicedesk/pools/", link]
    if who == "admin":
        paths.append("/servicedesk/unmatched/")
    small = {p: _count(client, p) for p in paths}
    for i in range(6):
        r = _req(account if i % 2 else other, i)
        services.customer_message_add(request=first, body=f"more {i}")
        services.request_reply(actor=book.tam, request=r, body="ok")
        services.inbound_email_receive(f"From: x{i}@y.example\r\nSubject: s\r\n\r\nb\r\n".encode())
    assert {p: _count(client, p) for p in paths} == small
