from __future__ import annotations

import pytest

from tamarind import policy
from tamarind.triage.models import TriageCase
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = pytest.mark.django_db


def test_case_read_and_write(book):
    case = TriageCaseFactory(account=book.account)
    readers = {"admin", "director", "manager", "tam", "tam2", "sal", "sa"}
    writers = {"admin", "manager", "tam"}
    for name, user in book.people().items():
        assert policy.can_read_triage_case(user, case) == (name in readers), name
        assert policy.can_write_triage_case(user, case) == (name in writers), name
        assert policy.can_open_triage_case(user, book.account) == (name in writers), name
        visible = TriageCase.objects.visible_to(user).filter(pk=case.pk).exists()
        assert visible == (name in readers), name


def test_case_owner_tam_writes(book):
    case = TriageCaseFactory(account=book.account, owner=book.tam2)
    assert policy.can_write_triage_case(book.tam2, case)


def test_settings_admin_only(book):
    assert [n for n, u in book.people().items() if policy.can_edit_triage_settings(u)] == ["admin"]
