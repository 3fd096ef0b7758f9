"""The cohorts API: CRUD, members, contacts, activity (create, list, CSV import), the report; bad input 422;
query counts equal at small and large data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.cohorts.models import Cohort, CohortActivity, CohortMember
from tamarind.cohorts.tests.helpers import account, add, make_cohort
from tamarind.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/cohorts/"


def test_crud(book: Any, api_for: Any) -> None:
    api = api_for(book.manager)
    body = {
        "name": "API pilot",
        "starts_on": "2026-01-01",
        "space_url": "https://c.example.com",
        "owner_ids": [book.tam.pk],
    }
    r = api.post(BASE, body, content_type="application/json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["region"]["id"] == book.east.pk and [o["id"] for o in data["owners"]] == [book.tam.pk]
    cid = data["id"]
    r = api.post(BASE, {**body, "name": "Other", "namespace_url": "not a url"}, content_type="application/json")
    assert r.status_code == 422 and "namespace_url" in r.json()["errors"]
    r = api.patch(f"{BASE}{cid}", {"status": "running", "scope": "SMB"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "running"
    assert api.patch(f"{BASE}{cid}", {"bogus": 1}, content_type="application/json").status_code == 422
    assert api.get(BASE).json()["count"] == 1
    assert api.delete(f"{BASE}{cid}").status_code == 204
    assert not Cohort.objects.exists()
    assert api.get(f"{BASE}{cid}").status_code == 404


def test_members_contacts_activity(book: Any, api_for: Any) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    api = api_for(book.tam)
    url = f"{BASE}{cohort.pk}"
    r = api.post(f"{url}/members", {"account_id": book.account.pk}, content_type="application/json")
    assert r.status_code == 201 and r.json()["account"]["crm_id"] == book.account.crm_id
    assert (
        api.post(f"{url}/members", {"account_id": book.other_account.pk}, content_type="application/json").status_code
        == 422
    )
    contact = ContactFactory(account=book.account, email="ana@acme.example")
    r = api.post(f"{url}/contacts", {"contact_id": contact.pk}, content_type="application/json")
    assert r.status_code == 201 and r.json()["email"] == "ana@acme.example"
    link_id = r.json()["id"]
    body = {"account_id": book.account.pk, "kind": "post", "day": "2026-02-01", "count": 3, "contact_id": contact.pk}
    r = api.post(f"{url}/activity", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["source"] == "api"
    assert api.post(f"{url}/activity", {**body, "kind": "tweet"}, content_type="application/json").status_code == 422
    assert api.post(f"{url}/activity", {**body, "count": 0}, content_type="application/json").status_code == 422
    csv = f"Account ID,Contact Email,Kind,Date,Count\n{book.account.crm_id},ana@acme.example,answer,2026-02-02,2\n"
    r = api.post(f"{url}/activity/import", {"file": SimpleUploadedFile("a.csv", csv.encode())})
    assert r.status_code == 200 and r.json() == {"rows": 1, "created": 1, "updated": 0, "unchanged": 0}
    r = api.post(f"{url}/activity/import", {"file": SimpleUploadedFile("a.csv", csv.encode())})
    assert r.json() == {"rows": 1, "created": 0, "updated": 0, "unchanged": 1}
    r = api.post(
        f"{url}/activity/import",
        {"file": SimpleUploadedFile("b.csv", b"Account ID,Kind,Date,Count\nX,post,2026-01-01,1\n")},
    )
    assert r.status_code == 422 and "line 2" in str(r.json()["errors"])
    assert api.get(f"{url}/activity").json()["count"] == 2
    members = api.get(f"{url}/members").json()
    assert members[0]["posts"] == 3 and members[0]["answers"] == 2 and members[0]["sessions"] == 0
    assert api.delete(f"{url}/contacts/{link_id}").status_code == 204
    r = api.post(f"{url}/members/{book.account.pk}/leave", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["left_on"] is not None
    assert CohortMember.objects.get().left_on is not None
    assert CohortActivity.objects.count() == 2


def test_report(book: Any, api_for: Any) -> None:
    cohort = make_cohort(book.admin)
    add(book.admin, cohort, account(book.east))
    account(book.east)
    r = api_for(book.director).get(f"{BASE}{cohort.pk}/report")
    assert r.status_code == 200
    data = r.json()
    assert data["members"] == 1 and data["similar_non_members"] == 1
    keys = [f["key"] for f in data["figures"]]
    assert keys == ["first_value_days", "use_cases", "health_green", "health_score", "tickets"]
    tickets = data["figures"][-1]
    assert tickets["members"]["n"] == 1 and tickets["difference"]["verdict"]


@pytest.mark.parametrize("path", ["", "/members", "/contacts", "/activity", "/report"])
def test_query_counts_constant(book: Any, api_for: Any, path: str) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    api = api_for(book.tam)
    url = BASE if path == "" else f"{BASE}{cohort.pk}{path}"

    def grow(n: int) -> None:
        from tamarind.cohorts import services

        for _ in range(n):
            acc = account(book.east)
            m = add(book.admin, cohort, acc)
            c = ContactFactory(account=acc)
            services.contact_add(actor=book.admin, member=m, contact=c)
            services.activity_record(actor=book.admin, member=m, kind="post", day=dt.date(2026, 2, 1), contact=c)
            make_cohort(book.admin, name=f"C{Cohort.objects.count()}", owners=[book.tam])

    grow(1)
    api.get(url)
    with CaptureQueriesContext(connection) as small:
        assert api.get(url).status_code == 200
    grow(4)
    with CaptureQueriesContext(connection) as large:
        assert api.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
