"""The access policy over accounts, role by role."""

import pytest

from tamarind import policy
from tamarind.accounts.models import Account


@pytest.mark.django_db
def test_visible_to_scopes_each_role(book):
    def names(user):
        return set(Account.objects.visible_to(user).values_list("name", flat=True))

    assert names(book.admin) == {"Acme Corp", "Globex"}
    assert names(book.director) == {"Acme Corp", "Globex"}
    assert names(book.manager) == {"Acme Corp"}
    assert names(book.other_manager) == {"Globex"}
    assert names(book.tam) == {"Acme Corp"}
    assert names(book.tam2) == {"Acme Corp"}  # same region: reads, does not write
    assert names(book.sal) == {"Acme Corp"}
    assert names(book.sa) == {"Acme Corp"}


@pytest.mark.django_db
def test_writable_fields(book):
    acc = book.account
    assert "tam" in policy.account_writable_fields(book.admin, acc)
    assert "region" in policy.account_writable_fields(book.admin, acc)
    assert "tam" in policy.account_writable_fields(book.manager, acc)
    assert "region" not in policy.account_writable_fields(book.manager, acc)
    assert policy.account_writable_fields(book.tam, acc) == policy.TAM_OWNED_FIELDS
    assert policy.account_writable_fields(book.tam2, acc) == frozenset()
    assert policy.account_writable_fields(book.director, acc) == frozenset()
    assert policy.account_writable_fields(book.sal, acc) == frozenset()
    assert policy.account_writable_fields(book.other_manager, acc) == frozenset()
    assert not policy.can_set_tam(book.tam, acc)
    assert policy.can_set_tam(book.manager, acc)


@pytest.mark.django_db
def test_inactive_user_sees_nothing(book):
    book.admin.is_active = False
    assert not Account.objects.visible_to(book.admin).exists()


@pytest.mark.django_db
def test_account_default_list_is_mine_for_tams_only(book):
    assert policy.account_default_list(book.tam) == "mine"
    for who in ("admin", "director", "manager", "sal", "sa"):
        assert policy.account_default_list(getattr(book, who)) == "all"


@pytest.mark.django_db
def test_tam_filter_scope_is_the_tams_owning_what_the_user_reads(book):
    from tamarind.people.models import Role, User
    from tamarind.testing.factories import AccountFactory, UserFactory

    idle_east = UserFactory(full_name="Ida Idle", role=Role.TAM, region=book.east)
    # A TAM of the west region who owns an east account: the east's readers see them.
    roaming = UserFactory(full_name="Rory Roaming", role=Role.TAM, region=book.west)
    AccountFactory(name="Roamed", region=book.east, tam=roaming)

    def tams(user):
        scope = policy.tam_filter_scope(user)
        qs = User.objects.filter(role=Role.TAM)
        return set((qs if scope is None else qs.filter(scope)).values_list("full_name", flat=True))

    everyone = {"Tara Tam", "Theo Tam", "Olga Tam", "Ida Idle", "Rory Roaming"}
    assert policy.tam_filter_scope(book.admin) is None and tams(book.director) == everyone
    assert tams(book.manager) == {"Tara Tam", "Rory Roaming"}
    assert tams(book.other_manager) == {"Olga Tam"}
    assert tams(book.tam2) == {"Tara Tam", "Rory Roaming", "Theo Tam"}  # their region's owners, and themselves
    assert tams(book.sal) == {"Tara Tam"}  # the TAMs of the accounts they are SAL/AE of
    assert idle_east.full_name not in tams(book.manager)
