"""factory_boy factories for the core models. Build data through these in tests, never by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from tamarind.accounts.models import Account, LifecycleStage, ProductTier, Segment
from tamarind.contacts.models import Contact, Persona
from tamarind.people.models import Region, Role, User

PASSWORD = "correct-horse-battery"


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Region {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.TAM
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):  # type: ignore[no-untyped-def]
        if create and results:
            instance.save(update_fields=["password"])


DEFAULT_RUNGS = {"Free": 0, "Starter": 1, "Bronze": 1, "Premium": 2, "Silver": 2, "Ultimate": 3, "Gold": 3}


def tier(name: str = "Premium") -> ProductTier:
    """A product tier by name: seeded by migration 0003, re-created after a transactional test's flush."""
    found, _ = ProductTier.objects.get_or_create(name=name, defaults={"rung": DEFAULT_RUNGS.get(name, 2)})
    return found


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    crm_id = factory.Sequence(lambda n: f"CRM-{n:06d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    region = factory.SubFactory(RegionFactory)
    segment = Segment.ENTERPRISE
    arr = Decimal("120000.00")
    currency = "USD"
    product_tier = factory.LazyFunction(lambda: tier("Premium"))
    licenses = 250
    priority = 1
    customer_since = dt.date(2025, 1, 15)
    next_renewal_date = dt.date(2027, 1, 15)
    lifecycle_stage = LifecycleStage.ADOPTION


class ContactFactory(DjangoModelFactory):
    """A contact at an account; ``personas=["admin"]`` gives it personas by key (seeded by migration)."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    title = "Platform lead"

    @factory.post_generation
    def personas(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.personas.set(Persona.objects.filter(key__in=extracted))


def evaluated(*accounts: Account) -> None:
    """Give factory-made accounts the standing the rules would have given them when they were created through
    the services, without the consequences (tasks, notifications, onboarding): accounts of long standing."""
    from django.utils import timezone

    from tamarind.assignment.models import Qualification
    from tamarind.assignment.rules import compile_rules
    from tamarind.assignment.selectors import facts_of, live_rules

    live = live_rules()
    qualifies = compile_rules(live.spec())
    now = timezone.now()
    Qualification.objects.bulk_create(
        [
            Qualification(
                account=a,
                qualifies=qualifies(facts_of(a)),
                rule_version=live.version,
                qualified_at=now if qualifies(facts_of(a)) else None,
                evaluated_at=now,
            )
            for a in accounts
        ]
    )
