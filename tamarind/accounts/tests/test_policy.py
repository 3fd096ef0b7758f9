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
