"""The onboarding and timeline sections of the access policy: scopes agree with the per-object checks."""

import pytest

from tamarind import policy
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa"]


@pytest.fixture
def records(book):
    east = OnboardingFactory(account=book.account, tam=book.tam)
    west = OnboardingFactory(account=book.other_account, tam=book.other_tam)
    # A west account owned by an east TAM: readable by that TAM through ownership, not region.
    lent = OnboardingFactory(account=AccountFactory(region=book.west, tam=book.tam), tam=book.tam)
    return [east, west, lent]


@pytest.mark.parametrize("who", ROLES)
def test_scope_matches_the_per_record_check(book, records, who):
    user = getattr(book, who)
    listed = set(Onboarding.objects.visible_to(user).values_list("pk", flat=True))
    readable = {o.pk for o in records if policy.can_read_onboarding(user, o)}
    assert listed == readable


def test_scopes_by_role(book, records):
    east, west, lent = records

    def seen(who):
        return set(Onboarding.objects.visible_to(getattr(book, who)))

    assert seen("admin") == seen("director") == {east, west, lent}
    assert seen("manager") == {east}
    assert seen("tam") == {east, lent}
    assert seen("other_tam") == {west, lent}  # lent sits in west, the other TAM's region
    assert seen("sal") == {east} and seen("sa") == {east}


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("admin", True),
        ("manager", True),
        ("tam", True),
        ("director", False),
        ("tam2", False),
        ("sal", False),
        ("sa", False),
        ("other_manager", False),
        ("other_tam", False),
    ],
)
def test_who_writes_an_onboarding(book, records, who, allowed):
    assert policy.can_write_onboarding(getattr(book, who), records[0]) is allowed


def test_the_record_tam_writes_even_if_the_account_tam_differs(book):
    record = OnboardingFactory(account=book.account, tam=book.tam2)
    assert policy.can_write_onboarding(book.tam2, record)
    assert policy.can_write_onboarding(book.tam, record)  # the account's TAM


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("admin", True),
        ("manager", True),
        ("tam", True),
        ("sal", True),
        ("sa", True),
        ("director", False),
        ("tam2", False),
        ("other_manager", False),
        ("other_tam", False),
    ],
)
def test_who_logs_timeline_entries(book, who, allowed):
    assert policy.can_log_timeline(getattr(book, who), book.account) is allowed


def test_inactive_people_read_and_write_nothing(book, records):
    book.manager.is_active = False
    assert not Onboarding.objects.visible_to(book.manager).exists()
    assert not policy.can_write_onboarding(book.manager, records[0])
    assert not policy.can_log_timeline(book.manager, book.account)


def test_onboarding_targets_are_for_admins(book):
    assert policy.can_edit_onboarding_targets(book.admin)
    assert not any(policy.can_edit_onboarding_targets(getattr(book, w)) for w in ROLES if w != "admin")


def test_default_list(book):
    assert policy.onboarding_default_list(book.tam) == "mine"
    assert policy.onboarding_default_list(book.manager) == "all"
    assert policy.onboarding_default_list(book.sal) == "all"
