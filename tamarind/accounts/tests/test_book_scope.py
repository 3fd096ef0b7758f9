"""Counts that agree between pages (issue 9): every count of accounts says what it leaves out, or includes it.

On the demo, *Accounts* and the region's page said 739 accounts and 554 without a TAM, the health dashboard 736 and
551 (will-churn accounts are out of health reporting, domain section 6), and a director saw 2,978 of 3,000 there.
One selector (``accounts.selectors.book_scope``) counts a book and what each page leaves out; the Accounts list,
the Regions pages, the onboarding dashboard and the health dashboard caption their counts with it.
"""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from tamarind.accounts.models import Account, LifecycleStage
from tamarind.accounts.selectors import book_scope, book_scope_for
from tamarind.dashboards import health_selectors
from tamarind.testing.factories import AccountFactory, evaluated

pytestmark = pytest.mark.django_db


@pytest.fixture
def churny(book):  # type: ignore[no-untyped-def]
    """East: Acme (the book's, TAM'd) + 3 more without a TAM (one will churn) + 1 will-churn with a TAM.
    West: Globex + 1 will-churn without a TAM."""
    made = [
        AccountFactory(name="East free 1", region=book.east),
        AccountFactory(name="East free 2", region=book.east),
        AccountFactory(name="East churn free", region=book.east, lifecycle_stage=LifecycleStage.WILL_CHURN),
        AccountFactory(
            name="East churn TAM", region=book.east, tam=book.tam, lifecycle_stage=LifecycleStage.WILL_CHURN
        ),
        AccountFactory(name="West churn", region=book.west, lifecycle_stage=LifecycleStage.WILL_CHURN),
    ]
    evaluated(*made)
    return book


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def caption(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'<p class="book-caption"[^>]*>(.*?)</p>', text(response))
    assert found, "no book caption on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_selector_counts_a_book_and_what_health_reporting_leaves_out(churny):
    east = book_scope(Account.objects.filter(region=churny.east))
    assert (east.accounts, east.without_tam, east.will_churn, east.will_churn_without_tam) == (5, 3, 2, 1)
    assert (east.in_health_reporting, east.in_health_reporting_without_tam) == (3, 2)
    everything = book_scope_for(churny.director)
    assert (everything.accounts, everything.will_churn) == (7, 3)


def test_one_query(churny, django_assert_num_queries):
    with django_assert_num_queries(1):
        book_scope(Account.objects.all())


def test_the_accounts_list_captions_its_count(churny, client_for):
    response = client_for(churny.manager).get(reverse("accounts:list"))
    assert caption(response) == (
        "AMER East's book: 5 accounts · 3 without a TAM · 2 will churn (out of health reporting)"
    )
    assert "of 5 accounts" in text(response)


def test_a_tams_accounts_list_says_whose_accounts_it_counts(churny, client_for):
    client = client_for(churny.tam)
    # A TAM lands on *My accounts*: the caption counts those; *All I can see* counts the region's book and theirs.
    assert caption(client.get(reverse("accounts:list"))).startswith("The accounts you own: ")
    assert caption(client.get(reverse("accounts:list"), {"scope": "all"})).startswith(
        "AMER East's book and the accounts you own elsewhere: 5 accounts"
    )


def test_the_region_page_agrees_with_the_accounts_list(churny, client_for):
    response = client_for(churny.manager).get(reverse("people:region_detail", args=[churny.east.pk]))
    assert caption(response) == "5 accounts · 3 without a TAM · 2 will churn (out of health reporting)"


def test_the_regions_page_says_what_its_total_is(churny, client_for):
    response = client_for(churny.director).get(reverse("people:regions"))
    assert caption(response) == (
        "The whole book: 7 accounts in 2 regions · 4 without a TAM · 3 will churn (out of health reporting)"
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (
            "manager",
            "AMER East's book: 3 accounts in health reporting · 2 without a TAM · "
            "2 will-churn accounts are out of health reporting (5 in this book)",
        ),
        (
            "director",
            "The whole book: 4 accounts in health reporting · 2 without a TAM · "
            "3 will-churn accounts are out of health reporting (7 in this book)",
        ),
        (
            "tam",
            "The accounts you own: 1 account in health reporting · 0 without a TAM · "
            "1 will-churn account is out of health reporting (2 in this book)",
        ),
    ],
)
def test_the_health_dashboard_says_what_it_leaves_out(churny, client_for, who, expected):
    user = getattr(churny, who)
    response = client_for(user).get(reverse("dashboards:health"))
    assert caption(response) == expected
    # The dashboard's own total is the caption's first figure: the counts agree with the list.
    regions = health_selectors.health_regions(user)
    filters = health_selectors.HealthFilters.from_params({}, user=user, regions=regions)
    dash = health_selectors.health_dashboard(user, filters, regions=regions)
    scope = health_selectors.health_scope(user, filters, regions=regions)
    assert dash.overview is not None and dash.overview.totals.accounts == scope.in_health_reporting
    assert scope.in_health_reporting + scope.will_churn == scope.accounts


def test_a_filtered_health_dashboard_captions_the_filtered_book(churny, client_for):
    response = client_for(churny.director).get(reverse("dashboards:health"), {"region": churny.west.pk})
    assert caption(response) == (
        "EMEA: 1 account in health reporting · 0 without a TAM · "
        "1 will-churn account is out of health reporting (2 in this book)"
    )


def test_the_onboarding_dashboard_says_how_many_accounts_without_a_tam_qualify(churny, client_for):
    response = client_for(churny.manager).get(reverse("dashboards:onboarding"))
    # The factory accounts qualify (enterprise, Premium, 120,000) but were evaluated without consequences; the will-
    # churn ones qualify too: staffing is about who needs a TAM, not health reporting.
    assert caption(response) == (
        "AMER East's book: 5 accounts · 3 without a TAM, 3 of them qualify for one (Accounts to staff)"
    )
