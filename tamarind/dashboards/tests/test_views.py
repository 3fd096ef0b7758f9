"""The onboarding dashboard page and its inline assignment: the permission trio, behaviour, constant query counts."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tamarind.accounts.models import Account, LifecycleStage
from tamarind.assignment.models import Qualification
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

URL = "/dashboards/onboarding/"


def assign_url(account):
    return reverse("dashboards:onboarding_assign", args=[account.pk])


def days_ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


def record(region, tam, **dates):
    account = AccountFactory(region=region, tam=tam, lifecycle_stage=LifecycleStage.ONBOARDING)
    values = {"contract_start": days_ago(60), "onboarding_start": days_ago(40), **dates}
    return OnboardingFactory(account=account, tam=tam, **values)


def qualifying(region):
    account = AccountFactory(
        region=region, tam=None, name=f"Qualifier {Account.objects.count()}", lifecycle_stage=LifecycleStage.ONBOARDING
    )
    Qualification.objects.create(account=account, qualifies=True, rule_version=1, qualified_at=timezone.now())
    return account


def test_url_name():
    assert reverse("dashboards:onboarding") == URL


# --- the page ---------------------------------------------------------------------------------------------------


def test_page_shows_figures_lists_and_the_chart(book, client_for):
    late = record(book.east, book.tam, first_engagement=days_ago(35))  # first value 30 over, onboard not yet
    record(book.east, book.tam2, first_engagement=days_ago(38), first_value=days_ago(50))
    unassigned = record(book.east, None)
    to_staff = qualifying(book.east)
    body = client_for(book.manager).get(URL).content.decode()
    assert "Customer onboarding" in body and "AMER East" in body
    assert 'id="ttfv-chart"' in body and "vendor/chartjs/chart-4.6.1.umd.min.js" in body
    assert 'id="ttfv-data"' in body and "cdn" not in body.lower()
    assert f'id="unassigned-{unassigned.account_id}"' in body and f'id="unassigned-{to_staff.pk}"' in body
    assert f'data-onboarding="{late.pk}"' in body and "30 d over" in body
    assert "Tara Tam" in body and "Theo Tam" in body and "Olga Tam" not in body


def test_page_for_a_tam_shows_their_own_records_without_unassigned(book, client_for):
    mine = record(book.east, book.tam)
    theirs = record(book.east, book.tam2)
    record(book.east, None)
    body = client_for(book.tam).get(URL).content.decode()
    assert "Your onboarding records" in body and "Your figures" in body
    assert f'data-onboarding="{mine.pk}"' in body and f'data-onboarding="{theirs.pk}"' not in body
    assert 'id="dashboard-unassigned"' not in body and 'name="region"' not in body and 'name="tam"' not in body


def test_directors_filter_by_region(book, client_for):
    record(book.east, book.tam)
    west = record(book.west, book.other_tam)
    c = client_for(book.director)
    body = c.get(URL).content.decode()
    assert 'name="region"' in body and "AMER East" in body and "EMEA" in body
    body = c.get(URL, {"region": book.west.pk}).content.decode()
    assert f'data-onboarding="{west.pk}"' in body and f'data-line="region-{book.east.pk}"' not in body
    # A director reads but does not assign.
    qualifying(book.east)
    body = c.get(URL).content.decode()
    assert "The region's manager assigns" in body and "dash-assign" not in body


def test_bad_filters_are_reported_not_fatal(book, client_for):
    response = client_for(book.manager).get(URL, {"region": book.west.pk, "from": "yesterday", "period": "x"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "That region is not one you can filter by." in body and "from must be a date" in body


def test_sal_and_sa_are_refused_and_anonymous_sent_to_sign_in(book, client_for, client):
    for user in (book.sal, book.sa):
        assert client_for(user).get(URL).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_sidebar_entry_for_those_who_may_see_it(book, client_for):
    assert 'href="/dashboards/onboarding/"' in client_for(book.manager).get("/accounts/").content.decode()
    assert 'href="/dashboards/onboarding/"' not in client_for(book.sal).get("/accounts/").content.decode()


def grow(book, n):
    """``n`` of every kind of row the page draws, in both regions."""
    for region, tam in ((book.east, book.tam), (book.west, book.other_tam)):
        for i in range(n):
            record(region, tam if i % 3 else None, first_engagement=days_ago(30 - i % 20))
            record(region, tam, contract_start=days_ago(400 + i * 7), first_value=days_ago(390 + i * 7 - i % 45))
            qualifying(region)


@pytest.mark.parametrize("who", ["admin", "manager", "tam"])
def test_query_count_does_not_grow_with_the_book(book, client_for, who):
    c = client_for(getattr(book, who))
    grow(book, 2)
    with CaptureQueriesContext(connection) as small:
        assert c.get(URL).status_code == 200
    grow(book, 30)
    with CaptureQueriesContext(connection) as large:
        assert c.get(URL, {"period": "24m"}).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
    assert len(small) <= 17, len(small)  # 16, and the count caption (accounts.selectors.book_scope)


def many_tams(book, n, prefix="Zed Tam"):
    """``n`` TAMs in the east, each with an open record, named so they sort after the book's own."""
    from tamarind.people.models import Role
    from tamarind.testing.factories import UserFactory

    tams = [UserFactory(full_name=f"{prefix} {i:02d}", role=Role.TAM, region=book.east) for i in range(n)]
    for tam in tams:
        record(book.east, tam)
    return tams


def tam_labels(body):
    table = body[body.index('id="dashboard-tams"') : body.index('id="dashboard-chart"')]
    return re.findall(r'<tr data-line="tam-[^"]+">\s*<td>(?:<a [^>]*>)?(?:<span class="badge yellow">)?([^<]+)<', table)


def test_by_tam_table_is_paged_unassigned_first(book, client_for):
    record(book.east, None)
    record(book.east, book.tam)
    many_tams(book, 30)
    c = client_for(book.manager)
    first = c.get(URL).content.decode()
    assert tam_labels(first)[:3] == ["Unassigned", "Tara Tam", "Theo Tam"] and len(tam_labels(first)) == 25
    assert "1–25 of 33 lines" in first and "Page 1 of 2" in first and "tam_page=2" in first
    assert '<span class="value" data-figure="open">32</span>' in first  # the totals count every TAM's records
    second = c.get(URL, {"tam_page": "2"}).content.decode()
    assert tam_labels(second) == [f"Zed Tam {i:02d}" for i in range(22, 30)]
    assert "26–33 of 33 lines" in second and '<span class="value" data-figure="open">32</span>' in second
    assert tam_labels(c.get(URL, {"tam_page": "99"}).content.decode()) == tam_labels(second)  # past the end: last
    assert tam_labels(c.get(URL, {"tam_page": "two"}).content.decode()) == tam_labels(first)


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_query_count_does_not_grow_with_the_tams(book, client_for, who):
    c = client_for(getattr(book, who))
    many_tams(book, 3)
    with CaptureQueriesContext(connection) as small:
        assert c.get(URL).status_code == 200
    many_tams(book, 60, prefix="Yan Tam")
    with CaptureQueriesContext(connection) as large:
        body = c.get(URL, {"tam_page": "2"}).content.decode()
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
    assert len(tam_labels(body)) == 25


def test_tam_filter_lists_the_tams_and_keeps_the_choice(book, client_for):
    from tamarind.people.models import Role
    from tamarind.testing.factories import UserFactory

    UserFactory(full_name="Zoe <Z> Tam", role=Role.TAM, region=book.west)
    body = client_for(book.admin).get(URL, {"tam": book.tam2.pk}).content.decode()
    select = body[body.index('id="id_tam"') : body.index("</select>", body.index('id="id_tam"'))]
    assert f'<option value="{book.tam2.pk}" selected>Theo Tam</option>' in select
    assert f'<option value="{book.tam.pk}">Tara Tam</option>' in select and "Zoe &lt;Z&gt; Tam" in select
    select = client_for(book.manager).get(URL).content.decode().split('id="id_tam"')[1].split("</select>")[0]
    assert "Tara Tam" in select and "Olga Tam" not in select and "Zoe" not in select


def test_unassigned_pickers_share_their_regions_options(book, client_for):
    """A hundred unassigned rows of a region with hundreds of TAMs would repeat its options in every picker: the
    page writes them once per region and each picker names them."""
    from tamarind.people.models import Role
    from tamarind.testing.factories import UserFactory

    UserFactory.create_batch(40, role=Role.TAM, region=book.east)
    for _ in range(10):
        record(book.east, None)
        qualifying(book.east)
    body = client_for(book.admin).get(URL).content.decode()
    assert body.count(f'<template id="tam-options-{book.east.pk}">') == 1
    assert body.count(f'data-tam-options="tam-options-{book.east.pk}"') == 20
    template = body[body.index(f'<template id="tam-options-{book.east.pk}">') : body.index("</template>")]
    assert template.count("<option ") == 42  # Tara, Theo and the forty
    unassigned = body[body.index('id="dashboard-unassigned"') : body.index('id="dashboard-over-target"')]
    assert unassigned.count(f'<option value="{book.tam.pk}">Tara Tam</option>') == 1


# --- inline assignment ---------------------------------------------------------------------------------------------


def test_manager_assigns_an_unassigned_record_inline(book, client_for):
    unassigned = record(book.east, None)
    response = client_for(book.manager).post(
        assign_url(unassigned.account), {"tam": book.tam2.pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Assigned to Theo Tam" in body and "<html" not in body
    unassigned.refresh_from_db()
    assert unassigned.tam == book.tam2 and unassigned.account.tam == book.tam2


def test_manager_assigns_a_qualifying_account_and_onboarding_starts(book, client_for):
    account = qualifying(book.east)
    response = client_for(book.manager).post(assign_url(account), {"tam": book.tam.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Assigned to Tara Tam" in response.content.decode()
    account.refresh_from_db()
    assert account.tam == book.tam
    assert Onboarding.objects.filter(account=account, tam=book.tam).exclude(status="completed").count() == 1


def test_assign_without_a_tam_is_a_400_with_the_form_again(book, client_for):
    account = qualifying(book.east)
    response = client_for(book.manager).post(assign_url(account), {"tam": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Choose one of the region" in response.content.decode()
    response = client_for(book.manager).post(assign_url(account), {"tam": "nope"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.tam is None


def test_assign_without_htmx_redirects_with_a_message(book, client_for):
    account = qualifying(book.east)
    c = client_for(book.admin)
    response = c.post(assign_url(account), {"tam": book.tam.pk})
    assert response.status_code == 302 and response["Location"] == URL
    assert "TAM set to Tara Tam" in c.get(URL).content.decode()


def test_assign_permission_trio(book, client_for):
    account = qualifying(book.east)
    # Read-only readers get 403, outsiders 404, the TAM (may read, may not set the TAM) 403.
    assert client_for(book.director).post(assign_url(account), {"tam": book.tam.pk}).status_code == 403
    assert client_for(book.tam).post(assign_url(account), {"tam": book.tam.pk}).status_code == 403
    assert client_for(book.other_manager).post(assign_url(account), {"tam": book.tam.pk}).status_code == 404
    assert client_for(book.manager).get(assign_url(account)).status_code == 405
    account.refresh_from_db()
    assert account.tam is None


def test_assign_query_count_does_not_grow(book, client_for):
    c = client_for(book.manager)
    first, second = qualifying(book.east), qualifying(book.east)
    grow(book, 2)
    with CaptureQueriesContext(connection) as small:
        c.post(assign_url(first), {"tam": book.tam.pk}, HTTP_HX_REQUEST="true")
    grow(book, 20)
    with CaptureQueriesContext(connection) as large:
        c.post(assign_url(second), {"tam": book.tam.pk}, HTTP_HX_REQUEST="true")
    assert len(large) == len(small)
