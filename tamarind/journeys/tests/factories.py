"""Journey test helpers: a program with steps (through the services' checks, without audit noise)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tamarind.contacts.models import Persona
from tamarind.journeys.models import Program, Step
from tamarind.testing.factories import AccountFactory, ContactFactory

BODY = "Hello {{ contact.name }} of {{ account.name }}, see https://docs.example.com/start\n\n{{ tam.name }}"


def program(
    *,
    key: str = "test-program",
    personas: tuple[str, ...] = ("admin",),
    steps: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Program:
    """A program for ARR 5,000-20,000 (unless told) with ``steps`` (default: day 0 and day 7 emails)."""
    defaults: dict[str, Any] = {
        "name": key.replace("-", " ").title(),
        "min_arr": Decimal("5000"),
        "max_arr": Decimal("20000"),
    }
    item = Program.objects.create(key=key, **{**defaults, **fields})
    item.personas.set(Persona.objects.filter(key__in=personas))
    for position, spec in enumerate(steps if steps is not None else [{"day": 0}, {"day": 7}]):
        Step.objects.create(
            program=item,
            name=spec.get("name", f"Day {spec['day']}"),
            kind=spec.get("kind", "email"),
            day=spec["day"],
            repeat_days=spec.get("repeat_days"),
            repeat_months=spec.get("repeat_months"),
            subject=spec.get("subject", "Hello {{ contact.first_name }}"),
            body=spec.get("body", BODY),
            position=position,
        )
    return item


def small_account(since: dt.date = dt.date(2026, 1, 31), **fields: Any) -> Any:
    return AccountFactory(**{"arr": Decimal("12000"), "customer_since": since, "engagement_model": "digital", **fields})


def contact(account: Any, personas: tuple[str, ...] = ("admin",), **fields: Any) -> Any:
    return ContactFactory(account=account, personas=list(personas), **fields)


def only_programs(*keep: Program) -> None:
    """Remove the seeded default program (and any other) so a test's counts are its own."""
    Program.objects.exclude(pk__in=[p.pk for p in keep]).delete()
