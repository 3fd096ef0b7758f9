"""Contact reads: the gated fetch, the account panel, the list, and the accounts with no Admin contact."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tamarind.accounts.models import Account
from tamarind.conftest import Book
from tamarind.contacts import selectors
from tamarind.testing.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_contact_for_user_reads_by_account_policy(book: Book) -> None:
    contact = ContactFactory(account=book.account)
    for user in (book.admin, book.director, book.manager, book.tam, book.tam2, book.sal, book.sa):
        assert selectors.contact_for_user(user, contact.pk) == contact
    for user in (book.other_manager, book.other_tam):
        with pytest.raises(Http404):
            selectors.contact_for_user(user, contact.pk)
    for user in (book.admin, book.manager, book.tam):
        assert selectors.contact_for_user(user, contact.pk, write=True) == contact
    for user in (book.director, book.tam2, book.sal, book.sa):
        with pytest.raises(PermissionDenied):
            selectors.contact_for_user(user, contact.pk, write=True)
    with pytest.raises(Http404):
        selectors.contact_for_user(book.admin, "nope")
    with pytest.raises(Http404):
        selectors.contact_for_user(book.admin, contact.pk + 1000)


def test_the_admin_flag_and_accounts_without_admin(book: Book) -> None:
    ContactFactory(account=book.account, personas=["admin", "billing"])
    ContactFactory(account=book.account, personas=["admin"])  # two admins: the account appears once
    ContactFactory(account=book.other_account, personas=["billing"])
    bare = AccountFactory(region=book.east, name="Bare")
    flagged = set(selectors.accounts_without_admin(Account.objects.all()))
    assert book.account not in flagged and {book.other_account, bare} <= flagged
    flags = dict(selectors.with_admin_flag(Account.objects.all()).values_list("pk", "has_admin_contact"))
    assert flags[book.account.pk] is True and flags[bare.pk] is False
    # scoped by who reads: east's manager does not see west's account
    assert book.other_account not in set(selectors.missing_admin(book.manager))
    assert bare in set(selectors.missing_admin(book.manager))
    assert book.other_account in set(selectors.missing_admin(book.admin))


def test_account_panel_flags_no_admin_and_is_two_queries(book: Book, django_assert_num_queries: Any) -> None:
    ContactFactory(account=book.account, personas=["billing"])
    with django_assert_num_queries(2):
        panel = selectors.account_panel(user=book.tam, account=book.account)
    assert panel["contacts_no_admin"] and panel["contacts_can_write"]
    for _ in range(10):
        ContactFactory(account=book.account, personas=["admin", "champion"])
    with django_assert_num_queries(2):
        panel = selectors.account_panel(user=book.tam2, account=book.account)
        assert all(len(c.personas.all()) >= 1 for c in panel["contacts"])
    assert not panel["contacts_no_admin"] and not panel["contacts_can_write"]


def test_contact_list_is_scoped_and_filters(book: Book) -> None:
    ada = ContactFactory(account=book.account, email="ada@example.com", personas=["admin"])
    bob = ContactFactory(account=book.account, email="bob@example.com", personas=["billing"], opted_out=True)
    west = ContactFactory(account=book.other_account, email="ada@example.com")

    def ids(user: Any, **kw: Any) -> set[int]:
        return {c.pk for c in selectors.contact_list(user=user, filters=selectors.ContactFilters(**kw))}

    assert ids(book.admin) == {ada.pk, bob.pk, west.pk}
    assert ids(book.tam) == {ada.pk, bob.pk}
    assert ids(book.other_tam) == {west.pk}
    assert ids(book.admin, persona="admin") == {ada.pk}
    assert ids(book.admin, email="ADA@example.com") == {ada.pk, west.pk}
    assert ids(book.admin, account=book.account.pk, opted_out=True) == {bob.pk}
