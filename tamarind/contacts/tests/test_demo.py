"""Demo contacts: every account gets two to four, most have an Admin, a few opted out; running again adds none."""

from __future__ import annotations

import pytest

from tamarind.accounts.models import Account
from tamarind.contacts.demo import seed_contacts_demo
from tamarind.contacts.models import Contact
from tamarind.contacts.selectors import accounts_without_admin
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_demo_contacts_for_every_account() -> None:
    AccountFactory.create_batch(60)
    result = seed_contacts_demo(seed=7)
    assert result["accounts"] == 60
    per_account = [Account.objects.get(pk=a.pk).contacts.count() for a in Account.objects.all()]
    assert min(per_account) >= 2 and max(per_account) <= 4
    assert sum(per_account) == result["contacts"] == Contact.objects.count()
    missing = accounts_without_admin(Account.objects.all()).count()
    assert missing == result["without_admin"] and 0 < missing < 20
    assert all(c.email == c.email.lower() and c.personas.exists() for c in Contact.objects.all()[:50])
    assert seed_contacts_demo(seed=7)["contacts"] == 0
