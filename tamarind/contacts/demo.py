"""Demo contacts: two to four people at every demo account, with realistic names, titles and personas; about nine
accounts in ten have an Admin (the rest show the *No Admin contact* flag), and a few people have opted out of
email. Written in bulk (contacts, their personas and one audit event each, ``source="demo"``) so a large demo
stays fast."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record_many, build_event
from tamarind.contacts.models import ADMIN, Contact, Persona
from tamarind.contacts.services import contact_snapshot

FIRST = (
    "Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "John", "Radia", "Tim",
    "Hedy", "Guido", "Katherine", "Bjarne", "Annie", "Vint", "Sophie", "Edsger", "Mary", "Donald", "Karen", "Niklaus",
    "Shafi", "Leslie", "Adele", "Yukihiro", "Joan", "Brian", "Priya", "Mateo", "Aiko", "Olusegun", "Ingrid", "Rahul",
)  # fmt: skip
LAST = (
    "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Backus",
    "Perlman", "Berners-Lee", "Lamarr", "van Rossum", "Johnson", "Stroustrup", "Easley", "Cerf", "Wilson", "Dijkstra",
    "Keller", "Knuth", "Jones", "Wirth", "Goldwasser", "Lamport", "Goldberg", "Matsumoto", "Clarke", "Kernighan",
    "Sharma", "Garcia", "Tanaka", "Adeyemi", "Larsen", "Mehta",
)  # fmt: skip
# (title, persona keys) of the people a TAM deals with at a customer.
ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Platform Administrator", ("admin",)),
    ("DevOps Lead", ("admin", "development-lead")),
    ("Director of Engineering", ("development-lead", "champion")),
    ("Head of Security", ("security-lead",)),
    ("CISO", ("security-lead", "executive-sponsor")),
    ("VP Engineering", ("executive-sponsor",)),
    ("CTO", ("executive-sponsor", "champion")),
    ("Procurement Manager", ("billing",)),
    ("Staff Engineer", ("development-lead",)),
    ("Engineering Manager", ("champion",)),
)
ADMIN_ROLES = tuple(r for r in ROLES if ADMIN in r[1])
OTHER_ROLES = tuple(r for r in ROLES if ADMIN not in r[1])
ADMIN_SHARE = 0.9
OPT_OUT_SHARE = 0.04


def seed_contacts_demo(*, seed: int, actor: Any = None) -> dict[str, int]:
    """Contacts for every account that has none yet; returns ``{"contacts", "accounts", "without_admin"}``."""
    rng = random.Random(seed + 41)
    personas = {p.key: p for p in Persona.objects.all()}
    now = timezone.now()
    accounts = list(
        Account.objects.exclude(pk__in=Contact.objects.values("account_id")).order_by("pk").values_list("pk", "name")
    )
    contacts: list[tuple[Contact, tuple[str, ...]]] = []
    without_admin = 0
    for account_id, name in accounts:
        domain = f"{slugify(name)[:40] or 'customer'}.example"
        count = rng.randint(2, 4)
        has_admin = rng.random() < ADMIN_SHARE
        without_admin += not has_admin
        roles = [rng.choice(ADMIN_ROLES)] if has_admin else []
        roles += rng.sample(OTHER_ROLES, count - len(roles))
        used: set[str] = set()
        for title, keys in roles:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{slugify(first)}.{slugify(last)}@{domain}"
            if email in used:
                email = f"{slugify(first)}.{slugify(last)}{len(used)}@{domain}"
            used.add(email)
            opted = rng.random() < OPT_OUT_SHARE
            contact = Contact(
                account_id=account_id, name=f"{first} {last}", email=email, title=title,
                opted_out=opted, opted_out_at=now if opted else None, crm_id=f"003{account_id:07d}{len(used)}",
                created_at=now, updated_at=now,
            )  # fmt: skip
            contacts.append((contact, keys))
    with transaction.atomic():
        Contact.objects.bulk_create([c for c, _ in contacts], batch_size=2000)
        through = Contact.personas.through
        through.objects.bulk_create(
            [
                through(contact_id=c.pk, persona_id=personas[k].pk)
                for c, keys in contacts
                for k in keys
                if k in personas
            ],
            batch_size=5000,
        )
        audit_record_many(
            [
                build_event(
                    actor=actor,
                    obj=c,
                    action=AuditAction.CREATE,
                    before=None,
                    after=contact_snapshot(c, keys),
                    source="demo",
                    at=now,
                )
                for c, keys in contacts
            ]
        )
    return {"contacts": len(contacts), "accounts": len(accounts), "without_admin": without_admin}
