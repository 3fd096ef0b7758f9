"""Writes to contacts: create, update, delete, opt out and back in. Each is atomic and audited with the values
before and after (personas as their sorted keys); emails are validated and stored lower-cased, and an email the
account already knows is refused with a clear message rather than a database error."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.contacts.models import Contact, Persona
from tamarind.core.errors import ValidationFailed

CONTACT_FIELDS = ("account", "name", "email", "title", "opted_out", "opted_out_at", "crm_id")
EDITABLE = frozenset({"name", "email", "title", "personas", "opted_out", "crm_id"})
MAX_NAME = 200
MAX_TITLE = 200
MAX_EMAIL = 254
MAX_CRM_ID = 64


def contact_snapshot(contact: Contact, persona_keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The audited state of ``contact``: its fields and its personas' sorted keys (read unless given)."""
    data = snapshot(contact, CONTACT_FIELDS)
    if persona_keys is None:
        persona_keys = [p.key for p in contact.personas.all()] if contact.pk else []
    data["personas"] = sorted(persona_keys)
    return data


def clean_email(raw: str) -> str:
    """``raw`` stripped, lower-cased and checked; raises ``ValidationFailed`` on the ``email`` field."""
    email = (raw or "").strip().lower()
    if not email:
        raise ValidationFailed({"email": ["An email is required."]})
    if len(email) > MAX_EMAIL:
        raise ValidationFailed({"email": [f"An email is at most {MAX_EMAIL} characters."]})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed({"email": [f"“{email}” is not a valid email address."]}) from None
    return email


def personas_by_keys(keys: Iterable[str]) -> list[Persona]:
    """The personas named by ``keys`` (each a key), in their order; unknown keys -> ``ValidationFailed``."""
    wanted = list(dict.fromkeys(k.strip().lower() for k in keys if k and k.strip()))
    found = {p.key: p for p in Persona.objects.filter(key__in=wanted)}
    unknown = [k for k in wanted if k not in found]
    if unknown:
        known = ", ".join(Persona.objects.order_by("position", "key").values_list("key", flat=True))
        raise ValidationFailed(
            {"personas": [f"Unknown persona {', '.join(f'“{k}”' for k in unknown)} (known: {known})."]}
        )
    return [found[k] for k in wanted]


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            errors["name"] = ["A name is required."]
        elif len(name) > MAX_NAME:
            errors["name"] = [f"A name is at most {MAX_NAME} characters."]
        out["name"] = name
    if "title" in data:
        title = (data["title"] or "").strip()
        if len(title) > MAX_TITLE:
            errors["title"] = [f"A title is at most {MAX_TITLE} characters."]
        out["title"] = title
    if "crm_id" in data:
        crm_id = (data["crm_id"] or "").strip()
        if len(crm_id) > MAX_CRM_ID:
            errors["crm_id"] = [f"A CRM id is at most {MAX_CRM_ID} characters."]
        out["crm_id"] = crm_id
    if "email" in data:
        try:
            out["email"] = clean_email(data["email"])
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if "personas" in data:
        try:
            out["personas"] = personas_by_keys(data["personas"] or [])
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if "opted_out" in data:
        out["opted_out"] = bool(data["opted_out"])
    if errors:
        raise ValidationFailed(errors)
    return out


def _check_unique(account: Account, email: str, *, exclude: int | None = None) -> None:
    others = Contact.objects.filter(account=account, email=email)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise ValidationFailed({"email": [f"{email} is already a contact of {account.name}."]})


@transaction.atomic
def contact_create(
    *,
    actor: Any,
    account: Account,
    name: str,
    email: str,
    title: str = "",
    personas: Iterable[str] = (),
    opted_out: bool = False,
    crm_id: str = "",
    source: str = "web",
) -> Contact:
    """A new contact of ``account``; personas by key. Raises ``ValidationFailed`` for a bad or duplicate email."""
    clean = _clean(
        {"name": name, "email": email, "title": title, "personas": list(personas), "opted_out": opted_out,
         "crm_id": crm_id}
    )  # fmt: skip
    _check_unique(account, clean["email"])
    contact = Contact(
        account=account,
        name=clean["name"],
        email=clean["email"],
        title=clean["title"],
        crm_id=clean["crm_id"],
        opted_out=clean["opted_out"],
        opted_out_at=timezone.now() if clean["opted_out"] else None,
    )
    contact.save()
    contact.personas.set(clean["personas"])
    audit_record(
        actor=actor,
        obj=contact,
        action=AuditAction.CREATE,
        after=contact_snapshot(contact, [p.key for p in clean["personas"]]),
        source=source,
    )
    return contact


@transaction.atomic
def contact_update(*, actor: Any, contact: Contact, changes: dict[str, Any], source: str = "web") -> list[str]:
    """Apply ``changes`` (any of name, email, title, personas (keys), opted_out, crm_id); returns the fields that
    changed (none: nothing written, no audit event)."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    clean = _clean(changes)
    before = contact_snapshot(contact)
    if "email" in clean and clean["email"] != contact.email:
        _check_unique(contact.account, clean["email"], exclude=contact.pk)
    fields: list[str] = []
    for name in ("name", "email", "title", "crm_id"):
        if name in clean and getattr(contact, name) != clean[name]:
            setattr(contact, name, clean[name])
            fields.append(name)
    if "opted_out" in clean and clean["opted_out"] != contact.opted_out:
        contact.opted_out = clean["opted_out"]
        contact.opted_out_at = timezone.now() if contact.opted_out else None
        fields += ["opted_out", "opted_out_at"]
    personas_changed = "personas" in clean and sorted(p.key for p in clean["personas"]) != before["personas"]
    if not fields and not personas_changed:
        return []
    if fields:
        contact.save(update_fields=[*fields, "updated_at"])
    if personas_changed:
        contact.personas.set(clean["personas"])
        fields.append("personas")
    after = contact_snapshot(contact, [p.key for p in clean["personas"]] if personas_changed else before["personas"])
    changed = [f for f in after if before[f] != after[f]]
    audit_record(
        actor=actor,
        obj=contact,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    return [f for f in fields if f != "opted_out_at"]


@transaction.atomic
def contact_delete(*, actor: Any, contact: Contact, source: str = "web") -> None:
    """Delete ``contact`` (its personas go with it); the audit event keeps what it was."""
    before = contact_snapshot(contact)
    audit_record(actor=actor, obj=contact, action=AuditAction.DELETE, before=before, source=source)
    contact.delete()


@transaction.atomic
def contact_opt_out(*, contact: Contact, actor: Any = None, source: str = "unsubscribe") -> bool:
    """Opt ``contact`` out of email (the journey's unsubscribe link, a person, the API). Idempotent: a contact
    already opted out is left as it is (no write, no event); returns whether it changed."""
    locked = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if locked is None or locked.opted_out:
        if locked is not None:
            contact.opted_out, contact.opted_out_at = locked.opted_out, locked.opted_out_at
        return False
    before = snapshot(locked, ("opted_out", "opted_out_at"))
    locked.opted_out = True
    locked.opted_out_at = timezone.now()
    locked.save(update_fields=["opted_out", "opted_out_at", "updated_at"])
    contact.opted_out, contact.opted_out_at = locked.opted_out, locked.opted_out_at
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        before=before,
        after=snapshot(locked, ("opted_out", "opted_out_at")),
        source=source,
    )
    return True


@transaction.atomic
def contact_opt_in(*, actor: Any, contact: Contact, source: str = "web") -> bool:
    """Take ``contact``'s opt-out back (a person who wants email again, said so to a writer of the account).
    Idempotent; returns whether it changed."""
    locked = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if locked is None or not locked.opted_out:
        return False
    before = snapshot(locked, ("opted_out", "opted_out_at"))
    locked.opted_out = False
    locked.opted_out_at = None
    locked.save(update_fields=["opted_out", "opted_out_at", "updated_at"])
    contact.opted_out, contact.opted_out_at = False, None
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        before=before,
        after=snapshot(locked, ("opted_out", "opted_out_at")),
        source=source,
    )
    return True
