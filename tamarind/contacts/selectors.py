"""Reads of contacts: the gated fetch, an account's contacts, the API list, and which accounts have no Admin.

Every list is a fixed number of queries whatever its length (personas prefetched, the account joined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.contacts.models import ADMIN, Contact, ContactQuerySet, Persona
from tamarind.people.models import User


def _rows(qs: ContactQuerySet) -> ContactQuerySet:
    return qs.select_related("account").prefetch_related(
        Prefetch("personas", queryset=Persona.objects.order_by("position", "key"))
    )


def contact_for_user(user: User, contact_id: int | str, *, write: bool = False) -> Contact:
    """The one permission-gated fetch: 404 when its account is out of scope, 403 when ``write`` and the user may
    read the account but not write it."""
    try:
        pk = int(contact_id)
    except (TypeError, ValueError):
        raise Http404("No such contact.") from None
    contact = _rows(Contact.objects.filter(pk=pk)).select_related("account__region").first()
    if contact is None or not policy.can_read_contacts(user, contact.account):
        raise Http404("No such contact.")
    if write and not policy.can_write_contacts(user, contact.account):
        raise PermissionDenied("You may read this account's contacts but not change them.")
    return contact


def contacts_of(account: Account) -> ContactQuerySet:
    """``account``'s contacts by name, personas prefetched (two queries)."""
    return _rows(Contact.objects.filter(account=account)).order_by("name", "pk")


def has_admin_contact() -> Exists:
    """An expression for annotating accounts: whether the account has a contact with the Admin persona."""
    through = Contact.personas.through
    return Exists(through.objects.filter(contact__account_id=OuterRef("pk"), persona__key=ADMIN))


def with_admin_flag(qs: QuerySet[Account]) -> QuerySet[Account]:
    """``qs`` annotated with ``has_admin_contact``."""
    return qs.annotate(has_admin_contact=has_admin_contact())


def accounts_without_admin(qs: QuerySet[Account]) -> QuerySet[Account]:
    """The accounts of ``qs`` with no Admin contact (flagged on the account page)."""
    return qs.filter(~has_admin_contact())


def missing_admin(user: User) -> QuerySet[Account]:
    """The accounts ``user`` may read that have no Admin contact, by name, with their TAM and region."""
    return (
        accounts_without_admin(Account.objects.visible_to(user)).select_related("region", "tam").order_by("name", "pk")
    )


def account_panel(*, user: User, account: Account) -> dict[str, Any]:
    """The Contacts panel of the account page: its contacts with personas and whether it has an Admin (two
    queries, whatever the number of contacts)."""
    contacts = list(contacts_of(account)[:200])
    return {
        "contacts": contacts,
        "contacts_no_admin": not any(p.key == ADMIN for c in contacts for p in c.personas.all()),
        "contacts_can_write": policy.can_write_contacts(user, account),
    }


@dataclass(frozen=True)
class ContactFilters:
    account: int | None = None
    persona: str = ""
    email: str = ""
    opted_out: bool | None = None


def contact_list(*, user: User, filters: ContactFilters) -> ContactQuerySet:
    """The contacts ``user`` may read, filtered (account, persona key, email exact ignoring case, opt-out)."""
    qs = Contact.objects.all()
    scope = policy.contact_scope(user)
    if scope is not None:
        qs = qs.filter(scope)
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    if filters.persona:
        qs = qs.with_persona(filters.persona)
    if filters.email:
        qs = qs.filter(email=filters.email.strip().lower())
    if filters.opted_out is not None:
        qs = qs.filter(opted_out=filters.opted_out)
    return _rows(qs).order_by("account_id", "name", "pk")


def personas() -> list[Persona]:
    return list(Persona.objects.order_by("position", "key"))
