"""Renewal pages: the review page's totals, paging and filters, constant query counts as the book grows, bad input
answers 400 naming the field, the retention page's empty window, the exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.conftest import Book
from tamarind.renewals.models import Renewal, RenewalStep
from tamarind.renewals.quarters import quarter_of
from tamarind.renewals.selectors import PAGE_SIZE, renewal_settings
from tamarind.renewals.tests.factories import RenewalFactory, snap
from tamarind.testing.factories import AccountFactory
from tamarind.triage.tests.factories import TriageCaseFactory


def _grow(book: Book, n: int, *, start: int = 0) -> None:
    today = timezone.localdate()
    for i in range(start, start + n):
        account = AccountFactory(region=book.east, tam=book.tam, sal=book.sal)
        r = RenewalFactory(
            account=account,
            renewal_date=today + dt.timedelta(days=(i * 67) % 300),
            tam=book.tam,
            owner=book.sal,
            forecast=["commit", "likely", "at_risk", "will_churn"][i % 4],
            arr=Decimal(1000 + i),
        )
        RenewalStep.objects.create(renewal=r, text=f"Step {i}", due_on=today - dt.timedelta(days=1))
        if i % 3 == 0:
            TriageCaseFactory(account=account, owner=book.tam)
        snap(account.pk, today.replace(day=1), 1000 + i)


@pytest.mark.parametrize("who", ["manager", "director"])
def test_review_page_queries_are_constant_as_the_book_grows(
    book: Book, client_for: Any, django_assert_num_queries: Any, who: str
) -> None:
    client = client_for(getattr(book, who))
    _grow(book, 5)
    client.get("/renewals/")  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get("/renewals/").status_code == 200
    _grow(book, 60, start=5)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/renewals/")
    assert response.status_code == 200


def test_review_page_totals_and_paging(book: Book, client_for: Any) -> None:
    _grow(book, PAGE_SIZE * 3)
    response = client_for(book.manager).get("/renewals/")
    page = response.context["page"]
    total = sum(b.count for b in page.quarters)
    assert (
        total
        == Renewal.objects.filter(
            renewal_date__gte=page.quarters[0].quarter.start, renewal_date__lte=page.quarters[-1].quarter.end
        ).count()
    )
    for block in page.quarters:
        assert len(block.rows) == min(block.count, PAGE_SIZE)
        assert block.up_for_renewal == sum(
            r.arr for r in Renewal.objects.filter(renewal_date__range=(block.quarter.start, block.quarter.end))
        )
    big = max(page.quarters, key=lambda b: b.count)
    if big.pages > 1:
        nxt = client_for(book.manager).get(f"/renewals/?{big.page_param}=2")
        again = next(b for b in nxt.context["page"].quarters if b.quarter == big.quarter)
        assert again.page == 2 and {r.pk for r in again.rows}.isdisjoint({r.pk for r in big.rows})
    row = page.quarters[0].rows[0]
    assert "next step past due" in row.changes
    assert b"review overdue" in response.content


def test_filters_and_bad_filters(book: Book, client_for: Any) -> None:
    _grow(book, 8)
    client = client_for(book.director)
    response = client.get("/renewals/?forecast=at_risk")
    rows = [r for b in response.context["page"].quarters for r in b.rows]
    assert rows and all(r.forecast == "at_risk" for r in rows)
    bad = client.get("/renewals/?forecast=maybe&region=abc")
    assert bad.status_code == 400 and b"forecast" in bad.content and b"region" in bad.content
    assert client.get("/renewals/export.csv?segment=nope").status_code == 400
    csv = b"".join(client.get("/renewals/export.csv").streaming_content)  # type: ignore[attr-defined]
    assert csv.count(b"\n") == 1 + Renewal.objects.count()


def test_the_quarter_label_follows_the_setting(book: Book, client_for: Any) -> None:
    response = client_for(book.manager).get("/renewals/")
    label = quarter_of(timezone.localdate(), renewal_settings().fiscal_start_month).label
    assert label.encode() in response.content


def test_bad_writes_answer_400_naming_the_field(book: Book, client_for: Any) -> None:
    r = RenewalFactory(account=book.account)
    client = client_for(book.tam)
    bad = client.post(f"/renewals/{r.pk}/", {"forecast": "perhaps"})
    assert bad.status_code == 400 and b"forecast" in bad.content
    bad = client.post(f"/renewals/{r.pk}/", {"arr": "-3"})
    assert bad.status_code == 400 and b"negative" in bad.content
    bad = client.post(f"/renewals/{r.pk}/close/", {"outcome": "expanded", "new_arr": ""})
    assert bad.status_code == 400 and b"new ARR" in bad.content
    bad = client.post(f"/renewals/new/{book.account.pk}/", {"renewal_date": "31/12/2027"})
    assert bad.status_code == 400 and b"renewal_date" in bad.content
    r.refresh_from_db()
    assert r.is_open and r.forecast == "likely"


def test_detail_queries_are_constant(book: Book, client_for: Any, django_assert_num_queries: Any) -> None:
    r = RenewalFactory(account=book.account)
    client = client_for(book.manager)
    client.get(f"/renewals/{r.pk}/")
    with CaptureQueriesContext(connection) as small:
        client.get(f"/renewals/{r.pk}/")
    for i in range(10):
        RenewalStep.objects.create(renewal=r, text=f"s{i}")
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(f"/renewals/{r.pk}/")


def test_retention_page_queries_constant_and_empty_window(
    book: Book, client_for: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(book.director)
    empty = client.get("/renewals/retention/?end=2020-01")
    assert empty.status_code == 200 and b"no retention to compute" in empty.content
    assert client.get("/renewals/retention/?end=nope").status_code == 400
    assert client.get("/renewals/retention/?by=planet").status_code == 400
    month = timezone.localdate().replace(day=1)
    start = month.replace(year=month.year - 1)
    for _ in range(3):
        a = AccountFactory(region=book.east)
        snap(a.pk, start, 100)
        snap(a.pk, month, 90)
    client.get("/renewals/retention/")
    with CaptureQueriesContext(connection) as small:
        assert client.get("/renewals/retention/?by=tam").status_code == 200
    for _ in range(10):
        a = AccountFactory(region=book.west)
        snap(a.pk, start, 100)
        snap(a.pk, month, 0)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/renewals/retention/?by=tam")
    assert response.context["book"].accounts == 13
    csv = b"".join(client.get("/renewals/retention/export.csv").streaming_content)  # type: ignore[attr-defined]
    assert b"churned" in csv


def test_review_recording_and_overdue(book: Book, client_for: Any) -> None:
    r = RenewalFactory(account=book.account, renewal_date=timezone.localdate() + dt.timedelta(days=10))
    client = client_for(book.manager)
    page = client.get("/renewals/reviews/")
    assert b"review overdue" in page.content
    bad = client.post("/renewals/reviews/", {"held_on": "2999-12-31", "region": book.east.pk})
    assert bad.status_code == 400
    ok = client.post(
        "/renewals/reviews/",
        {"held_on": timezone.localdate().isoformat(), "region": book.east.pk, f"decision-{r.pk}": "Push for commit"},
    )
    assert ok.status_code == 302
    assert b"on cadence" in client.get("/renewals/").content
    director_view = client_for(book.director).get("/renewals/")
    assert b"review overdue" in director_view.content  # the west region has never held one


@pytest.mark.parametrize(("url", "current"), [("/renewals/", "Renewals"), ("/renewals/retention/", "Retention")])
def test_navigation_marks_one_current_section(book: Book, client_for: Any, url: str, current: str) -> None:
    response = client_for(book.manager).get(url)
    active = [i["label"] for g in response.context["nav"] for i in g["items"] if i["active"]]
    assert active == [current]
