"""People selectors: the directory with TAM books, gated fetches, regions, capacity and tokens."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tamarind.people import selectors, services
from tamarind.people.models import Role
from tamarind.testing.factories import AccountFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


def names(qs):
    return [p.full_name for p in qs]


def test_people_list_filters(book):
    everyone = names(selectors.people_list(user=book.sal))
    assert len(everyone) == 9 and everyone == sorted(everyone)
    assert names(selectors.people_list(user=book.sal, role=Role.TAM)) == ["Olga Tam", "Tara Tam", "Theo Tam"]
    assert names(selectors.people_list(user=book.sal, q="THEO")) == ["Theo Tam"]
    assert names(selectors.people_list(user=book.sal, q="omanager@")) == ["Otto Manager"]
    # A region filter finds its members and the manager who leads it.
    assert names(selectors.people_list(user=book.sal, region_id=book.west.pk)) == ["Olga Tam", "Otto Manager"]


def test_people_list_status_filter(book):
    services.user_update(actor=book.admin, user=book.tam2, changes={"is_active": False})
    assert "Theo Tam" not in names(selectors.people_list(user=book.admin, active=True))
    assert names(selectors.people_list(user=book.admin, active=False)) == ["Theo Tam"]


def test_people_list_empty_for_inactive_viewer(book):
    book.sal.is_active = False
    assert names(selectors.people_list(user=book.sal)) == []


def test_with_tam_book_sums_each_tams_accounts(book):
    AccountFactory(region=book.east, tam=book.tam, arr=Decimal("30000.50"))
    AccountFactory(region=book.west, tam=book.tam, arr=Decimal("1000"))  # a TAM may own outside their region
    people = {p.pk: p for p in selectors.with_tam_book(selectors.people_list(user=book.admin))}
    assert people[book.tam.pk].book_count == 3
    assert people[book.tam.pk].book_arr == Decimal("151000.50")
    assert people[book.tam2.pk].book_count == 0 and people[book.tam2.pk].book_arr == 0
    assert people[book.sal.pk].book_count == 0  # SAL-owned accounts are not a TAM book


def test_attach_capacity_only_for_tams(book):
    services.user_update(actor=book.admin, user=book.tam, changes={"capacity_arr": Decimal("100000")})
    people = list(selectors.with_tam_book(selectors.people_list(user=book.admin)))
    selectors.attach_capacity(people)
    by_pk = {p.pk: p for p in people}
    tam = by_pk[book.tam.pk].capacity
    assert (tam.count, tam.arr, tam.target, tam.pct, tam.bar_pct, tam.state) == (
        1,
        Decimal("120000.00"),
        Decimal("100000"),
        120,
        100,
        "over",
    )
    assert by_pk[book.tam2.pk].capacity.target == Decimal(3_600_000)  # the configured default
    assert by_pk[book.tam2.pk].capacity.state == "ok"
    assert by_pk[book.manager.pk].capacity is None


@pytest.mark.parametrize(
    ("arr", "target", "pct", "state", "room"),
    [
        ("0", "100", 0, "ok", "100"),
        ("89", "100", 89, "ok", "11"),
        ("90", "100", 90, "near", "10"),
        ("100", "100", 100, "near", "0"),
        ("101", "100", 101, "over", "0"),
        ("5", "0", 999, "over", "0"),
        ("0", "0", 0, "ok", "0"),
    ],
)
def test_capacity_states(arr, target, pct, state, room):
    cap = selectors.Capacity(count=1, arr=Decimal(arr), target=Decimal(target))
    assert (cap.pct, cap.state, cap.room) == (pct, state, Decimal(room))
    assert 0 <= cap.bar_pct <= 100


def test_person_capacity(book):
    cap = selectors.person_capacity(book.tam)
    assert cap.count == 1 and cap.arr == Decimal("120000.00")
    assert selectors.person_capacity(book.sal) is None


def test_person_for_user_gates(book):
    assert selectors.person_for_user(book.sal, book.tam.pk) == book.tam
    assert selectors.person_for_user(book.admin, str(book.tam.pk), write=True) == book.tam
    with pytest.raises(PermissionDenied):
        selectors.person_for_user(book.manager, book.tam.pk, write=True)
    with pytest.raises(Http404):
        selectors.person_for_user(book.admin, 999_999)
    with pytest.raises(Http404):
        selectors.person_for_user(book.admin, "abc")


def test_person_accounts_are_scoped_to_the_viewer(book):
    AccountFactory(name="West Deal", region=book.west, tam=book.other_tam, sal=book.sal)
    rows = selectors.person_accounts(viewer=book.admin, person=book.sal)
    assert [(r.account.name, r.roles) for r in rows] == [("Acme Corp", ("SAL / AE",)), ("West Deal", ("SAL / AE",))]
    # The east manager reads east accounts only: the SAL's west account is hidden from them.
    rows = selectors.person_accounts(viewer=book.manager, person=book.sal)
    assert [r.account.name for r in rows] == ["Acme Corp"]
    assert selectors.person_owned_count(book.sal) == 2


def test_person_accounts_lists_every_role_held(book):
    both = UserFactory(email="both@example.com", full_name="Bo Both", role=Role.TAM, region=book.east)
    AccountFactory(name="Dual", region=book.east, tam=both, sa=both, arr=Decimal("999999"))
    rows = selectors.person_accounts(viewer=book.admin, person=both)
    assert [(r.account.name, r.roles) for r in rows] == [("Dual", ("TAM", "SA"))]


def test_region_list_counts_and_sums(book):
    AccountFactory(region=book.east, tam=None, arr=Decimal("1000"))
    RegionFactory(name="APAC")
    regions = {r.name: r for r in selectors.region_list(user=book.sal)}
    assert list(regions) == ["AMER East", "APAC", "EMEA"]
    east = regions["AMER East"]
    assert (east.manager, east.tam_count, east.account_count, east.book_arr) == (
        book.manager,
        2,
        2,
        Decimal("121000.00"),
    )
    assert (regions["APAC"].tam_count, regions["APAC"].account_count, regions["APAC"].book_arr) == (None, 0, 0)


def test_region_for_user_gates(book):
    assert selectors.region_for_user(book.tam, book.east.pk) == book.east
    with pytest.raises(PermissionDenied):
        selectors.region_for_user(book.manager, book.east.pk, write=True)
    with pytest.raises(Http404):
        selectors.region_for_user(book.admin, 424242)


def test_region_tams_members_and_totals(book):
    AccountFactory(region=book.east, tam=None, arr=Decimal("500"))
    tams = selectors.region_tams(region=book.east)
    assert [(t.full_name, t.book_count) for t in tams] == [("Tara Tam", 1), ("Theo Tam", 0)]
    assert tams[0].capacity.arr == Decimal("120000.00")
    assert names(selectors.region_members(region=book.east)) == ["Sam Sal", "Sasha Sa"]
    totals = selectors.region_totals(region=book.east)
    assert (totals.account_count, totals.book_arr, totals.unassigned_count) == (2, Decimal("120500.00"), 1)


def test_manager_choices_are_active_tam_managers(book):
    assert names(selectors.manager_choices()) == ["Mia Manager", "Otto Manager"]
    services.user_update(actor=book.admin, user=book.other_manager, changes={"is_active": False})
    assert names(selectors.manager_choices()) == ["Mia Manager"]


def test_token_for_user(book):
    token, _ = services.token_create(actor=book.tam, user=book.tam, name="mine")
    assert selectors.token_for_user(book.tam, token.pk) == token
    assert selectors.token_for_user(book.admin, token.pk) == token
    with pytest.raises(Http404):
        selectors.token_for_user(book.tam2, token.pk)
    with pytest.raises(Http404):
        selectors.token_for_user(book.tam, "nope")
    assert selectors.tokens_for(user=book.tam) == [token]
    assert selectors.tokens_for(user=book.tam2) == []
