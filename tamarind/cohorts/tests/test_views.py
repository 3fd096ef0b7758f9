"""Cohort pages: list, new, detail (htmx member and activity), CSV upload, report and compare; query counts
equal at small and large data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.cohorts.models import Cohort, CohortActivity, CohortMember
from tamarind.cohorts.tests.helpers import account, add, health, make_cohort, onboarding, ticket
from tamarind.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db
D = dt.date


def test_create_and_bad_link(book: Any, client_for: Any) -> None:
    client = client_for(book.manager)
    r = client.post("/cohorts/new/", {"name": "P", "starts_on": "2026-01-01", "space_url": "slack channel"})
    assert r.status_code == 400 and b"is not a link" in r.content and not Cohort.objects.exists()
    r = client.post(
        "/cohorts/new/",
        {"name": "P", "starts_on": "2026-01-01", "space_url": "https://x.example.com", "owner_ids": [book.tam.pk]},
    )
    assert r.status_code == 302
    cohort = Cohort.objects.get()
    assert cohort.region == book.east and list(cohort.owners.all()) == [book.tam]


def test_htmx_member_and_activity(book: Any, client_for: Any) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    client = client_for(book.tam)
    r = client.post(f"/cohorts/{cohort.pk}/members/", {"account": book.account.pk}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and b'id="cohort-members"' in r.content and b"Acme Corp" in r.content
    member = CohortMember.objects.get()
    r = client.post(
        f"/cohorts/{cohort.pk}/activity/",
        {"member": member.pk, "kind": "answer", "day": "2026-02-02", "count": "4"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and b"<strong>4</strong> answers" in r.content
    r = client.post(
        f"/cohorts/{cohort.pk}/activity/",
        {"member": member.pk, "kind": "answer", "day": "", "count": "x"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 400 and b"activity-error" in r.content
    assert CohortActivity.objects.get().count == 4


def test_csv_upload_page(book: Any, client_for: Any) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    add(book.admin, cohort, book.account)
    client = client_for(book.tam)
    good = f"Account ID,Kind,Date,Count\n{book.account.crm_id},post,2026-02-01,2\n".encode()
    r = client.post(f"/cohorts/{cohort.pk}/activity/import/", {"file": SimpleUploadedFile("a.csv", good)})
    assert r.status_code == 200 and b"1 new" in r.content
    bad = b"Account ID,Kind,Date,Count\nNOPE,post,2026-02-01,2\n"
    r = client.post(f"/cohorts/{cohort.pk}/activity/import/", {"file": SimpleUploadedFile("b.csv", bad)})
    assert r.status_code == 400 and b"line 2" in r.content
    assert CohortActivity.objects.count() == 1


def test_report_and_compare_pages(book: Any, client_for: Any) -> None:
    a = make_cohort(book.admin, name="Pilot A")
    b = make_cohort(book.admin, name="Pilot B")
    add(book.admin, a, account(book.east))
    client = client_for(book.director)
    r = client.get(f"/cohorts/{a.pk}/report/")
    assert r.status_code == 200 and b"Time to first value" in r.content and b"Similar non-members" in r.content
    r = client.get(f"/cohorts/compare/?a={a.pk}&b={b.pk}")
    assert r.status_code == 200 and b"Pilot A" in r.content and b"Pilot B" in r.content
    assert client.get("/cohorts/compare/?a=x").status_code == 400
    assert client.get(f"/cohorts/compare/?a={a.pk}&b=999999").status_code == 404


def _grow(book: Any, cohort: Cohort, n: int) -> None:
    for _ in range(n):
        acc = account(book.east)
        member = add(book.admin, cohort, acc)
        contact = ContactFactory(account=acc)
        from tamarind.cohorts import services

        services.contact_add(actor=book.admin, member=member, contact=contact)
        services.activity_record(actor=book.admin, member=member, kind="post", day=D(2026, 2, 1), contact=contact)
        onboarding(acc, D(2025, 12, 1), D(2025, 12, 30))
        health(acc, 80, "green")
        ticket(acc, D(2026, 2, 3))
        account(book.east)
    make_cohort(book.admin, name=f"Other {Cohort.objects.count()}", owners=[book.tam])


@pytest.mark.parametrize("page", ["list", "detail", "report", "compare"])
def test_query_counts_constant(book: Any, client_for: Any, django_assert_num_queries: Any, page: str) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    client = client_for(book.tam)
    url = {
        "list": "/cohorts/",
        "detail": f"/cohorts/{cohort.pk}/",
        "report": f"/cohorts/{cohort.pk}/report/",
        "compare": f"/cohorts/compare/?a={cohort.pk}&b={cohort.pk}",
    }[page]
    _grow(book, cohort, 1)
    client.get(url)  # warm caches (session, settings)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(book, cohort, 4)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
