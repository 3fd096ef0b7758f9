import pytest
from django.db import IntegrityError

from tamarind.contacts.models import Contact
from tamarind.testing.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_personas_are_seeded_and_filter_once_per_contact() -> None:
    account = AccountFactory()
    admin = ContactFactory(account=account, personas=["admin", "security-lead"])
    ContactFactory(account=account, personas=["billing"])
    assert list(Contact.objects.with_persona("admin", "security-lead")) == [admin]


def test_email_is_unique_per_account() -> None:
    contact = ContactFactory()
    ContactFactory(email=contact.email)  # another account may know the same person
    with pytest.raises(IntegrityError):
        ContactFactory(account=contact.account, email=contact.email)
