"""Fixtures shared by every app: one person of each role around two regions, and signed-in clients.

``book`` is the standard cast: region ``east`` (managed by ``manager``, with ``tam`` and ``tam2``) and
region ``west`` (managed by ``other_manager``, with ``other_tam``), plus ``admin``, ``director``, ``sal``, ``sa``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings

from tamarind.accounts.models import Account
from tamarind.people.models import Region, Role, User
from tamarind.testing.factories import AccountFactory, RegionFactory, UserFactory, evaluated

# Property tests check results, not speed: Hypothesis's 200 ms per-example deadline turned a busy CI machine's pause
# into a failure (seen on the attendee-report merge). Tests that set their own settings keep them.
hypothesis_settings.register_profile("tamarind", deadline=None)
hypothesis_settings.load_profile("tamarind")


@dataclass
class Book:
    east: Region
    west: Region
    admin: User
    director: User
    manager: User
    other_manager: User
    tam: User
    tam2: User
    other_tam: User
    sal: User
    sa: User
    account: Account  # east, owned by tam, sal, sa
    other_account: Account  # west, owned by other_tam

    def people(self) -> dict[str, User]:
        return {
            name: getattr(self, name)
            for name in (
                "admin",
                "director",
                "manager",
                "other_manager",
                "tam",
                "tam2",
                "other_tam",
                "sal",
                "sa",
            )
        }


@pytest.fixture
def book(db: None) -> Book:
    east = RegionFactory(name="AMER East")
    west = RegionFactory(name="EMEA")
    manager = UserFactory(email="manager@example.com", full_name="Mia Manager", role=Role.MANAGER)
    other_manager = UserFactory(email="omanager@example.com", full_name="Otto Manager", role=Role.MANAGER)
    east.manager = manager
    east.save(update_fields=["manager"])
    west.manager = other_manager
    west.save(update_fields=["manager"])
    tam = UserFactory(email="tam@example.com", full_name="Tara Tam", role=Role.TAM, region=east)
    tam2 = UserFactory(email="tam2@example.com", full_name="Theo Tam", role=Role.TAM, region=east)
    other_tam = UserFactory(email="otam@example.com", full_name="Olga Tam", role=Role.TAM, region=west)
    sal = UserFactory(email="sal@example.com", full_name="Sam Sal", role=Role.SAL, region=east)
    sa = UserFactory(email="sa@example.com", full_name="Sasha Sa", role=Role.SA, region=east)
    admin = UserFactory(email="admin@example.com", full_name="Ada Admin", role=Role.ADMIN)
    director = UserFactory(email="director@example.com", full_name="Dee Director", role=Role.DIRECTOR)
    account = AccountFactory(name="Acme Corp", region=east, tam=tam, sal=sal, sa=sa)
    other_account = AccountFactory(name="Globex", region=west, tam=other_tam)
    evaluated(account, other_account)
    # Re-read so every user carries its region and managed region like a signed-in request user does.
    people = {u.pk: u for u in User.objects.with_region()}
    return Book(
        east=east,
        west=west,
        admin=people[admin.pk],
        director=people[director.pk],
        manager=people[manager.pk],
        other_manager=people[other_manager.pk],
        tam=people[tam.pk],
        tam2=people[tam2.pk],
        other_tam=people[other_tam.pk],
        sal=people[sal.pk],
        sa=people[sa.pk],
        account=account,
        other_account=other_account,
    )


@pytest.fixture
def client_for(db: None):  # type: ignore[no-untyped-def]
    """``client_for(user)``: a test client signed in as ``user``."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_for(db: None):  # type: ignore[no-untyped-def]
    """``api_for(user)``: a test client that sends a fresh bearer token for ``user``."""
    from tamarind.people.services import token_create

    def make(user: User) -> Client:
        _, raw = token_create(actor=user, user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


# Browser fixtures (``browser``, ``page``) for tests marked ``browser``.
from tamarind.testing.browser import browser, page, seed_defaults  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _seeded_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Browser tests and ``django_db(transaction=True)`` tests end by emptying every table; give each the seeded
    defaults an earlier one's flush removed (which earlier test ran first depends on the order, so every one)."""
    db_marker = request.node.get_closest_marker("django_db")
    transactional = db_marker is not None and bool(db_marker.kwargs.get("transaction"))
    if request.node.get_closest_marker("browser") is not None or transactional:
        request.getfixturevalue("transactional_db")
        seed_defaults()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache: the public links' request budgets (``core.throttle``) count in it, and
    one test's requests must not spend another's."""
    from django.core.cache import cache

    cache.clear()
    yield
