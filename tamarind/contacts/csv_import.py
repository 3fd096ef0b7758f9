"""CRM contacts through the import jobs (``imports`` runs a job of kind ``contacts`` here), with the importer's
contract: a file imports whole or not at all, every problem is reported with its line number, a dry run writes
nothing, and importing the same file again changes nothing (no write, no audit event).

Columns (a CRM contacts report): ``Account ID, Name, Email, Title, Personas, Opted Out`` (and an optional
``Contact ID``). A line is the contact of that account with that email (lower-cased): updated if the account knows
the email, else created. Personas are separated by semicolons, each a key (``security-lead``) or a name
(``Security lead``); the column, when present, replaces the contact's personas. ``Opted Out`` (yes/no, true/false,
1/0) only ever opts a contact out: an opt-out recorded in Tamarind (the journey's unsubscribe link) is never
taken back by an import, only by a person on the account page or the API.

Pass 1 streams the file and checks every cell and reference (accounts by CRM id, the importer's right to write
each account's contacts, personas, duplicate emails within the file); pass 2 writes the parsed rows in one
transaction with bulk inserts and one audit event per created or changed contact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record_many, build_event
from tamarind.contacts.models import Contact, Persona
from tamarind.contacts.services import MAX_CRM_ID, MAX_NAME, MAX_TITLE, clean_email, contact_snapshot
from tamarind.core.csv_safe import unescape_cell
from tamarind.core.errors import ValidationFailed
from tamarind.imports.columns import header_key
from tamarind.imports.importer import FileRejected, Progress
from tamarind.imports.ingest import CsvIngestBase

CONTACT_COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "account": (("Account ID", "Account Id", "CRM ID", "account_id", "Account"), True),
    "name": (("Name", "Full Name", "Contact Name", "name"), True),
    "email": (("Email", "Email Address", "E-mail", "email"), True),
    "title": (("Title", "Job Title", "title"), False),
    "personas": (("Personas", "Persona", "Contact Roles", "personas"), False),
    "opted_out": (("Opted Out", "Email Opt Out", "HasOptedOutOfEmail", "opted_out"), False),
    "crm_id": (("Contact ID", "Contact Id", "contact_id"), False),
}
TRUE = frozenset({"yes", "y", "true", "t", "1", "x", "opted out"})
FALSE = frozenset({"no", "n", "false", "f", "0", ""})


@dataclass
class ContactRow:
    line: int
    account_id: int
    name: str
    email: str
    title: str | None  # None: the file has no such column (leave it)
    personas: list[Persona] | None
    opted_out: bool | None
    crm_id: str | None


class ContactsIngest(CsvIngestBase):
    """One run of a CRM contacts file; ``run()`` returns an ``ImportResult``."""

    columns = CONTACT_COLUMNS

    def _ingest(self) -> None:
        rows = list(self._rows())
        self.result.total = len(rows)
        if self.result.ok and rows:
            self._commit(lambda: self._write_rows(rows))

    # --- reading ------------------------------------------------------------------------------------------------

    def _rows(self) -> Iterator[ContactRow]:
        size = self.path.stat().st_size
        parsed: list[tuple[int, dict[str, str]]] = []
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                raise FileRejected("the file is empty")
            self._match(header)
            width = max(self.index.values()) + 1
            previous = reader.line_num
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                cells = cells + [""] * max(0, width - len(cells))
                values = {f: unescape_cell(cells[i].strip()) for f, i in self.index.items()}
                bad = [f for f, v in values.items() if "\x00" in v]
                for f in bad:
                    self._error(line, f, "", "contains a NUL character")
                if not bad:
                    parsed.append((line, values))
                if self.progress is not None and len(parsed) % 5000 == 0:
                    self.progress(Progress(rows=len(parsed), bytes=raw.tell(), size=size, stage="reading"))
        crms = {v["account"] for _, v in parsed if v.get("account")}
        accounts = {a.crm_id: a for a in Account.objects.filter(crm_id__in=crms)}
        personas: dict[str, Persona] = {}
        for p in Persona.objects.all():
            personas[header_key(p.key)] = p
            personas[header_key(p.name)] = p
        known = ", ".join(sorted({p.key for p in personas.values()}))
        seen: dict[tuple[int, str], int] = {}
        writable: dict[int, bool] = {}
        for line, v in parsed:
            account = self._account(line, v.get("account", ""), accounts)
            if account is not None:
                if account.pk not in writable:
                    writable[account.pk] = policy.can_write_contacts(self.actor, account)
                if not writable[account.pk]:
                    self._error(line, "account", account.crm_id, "is an account whose contacts you may not write")
                    account = None
            name = v.get("name", "")
            if not name:
                self._error(line, "name", "", "is required")
            elif len(name) > MAX_NAME:
                self._error(line, "name", name, f"is longer than {MAX_NAME} characters")
            email = None
            try:
                email = clean_email(v.get("email", ""))
            except ValidationFailed as exc:
                message = exc.errors["email"][0]
                self._error(line, "email", v.get("email", ""), "is required" if not v.get("email") else
                            "is not a valid email address" if "valid" in message else message.rstrip(".").lower())  # fmt: skip
            title = v.get("title") if "title" in self.index else None
            if title is not None and len(title) > MAX_TITLE:
                self._error(line, "title", title, f"is longer than {MAX_TITLE} characters")
            crm_id = v.get("crm_id") if "crm_id" in self.index else None
            if crm_id is not None and len(crm_id) > MAX_CRM_ID:
                self._error(line, "crm_id", crm_id, f"is longer than {MAX_CRM_ID} characters")
            found: list[Persona] | None = None
            if "personas" in self.index:
                found = []
                for part in v.get("personas", "").split(";"):
                    if not part.strip():
                        continue
                    persona = personas.get(header_key(part))
                    if persona is None:
                        self._error(line, "personas", part.strip(), f"is not a persona (known: {known})")
                    elif persona not in found:
                        found.append(persona)
            opted_out: bool | None = None
            if "opted_out" in self.index:
                flag = v.get("opted_out", "").strip().lower()
                if flag in TRUE:
                    opted_out = True
                elif flag in FALSE:
                    opted_out = False
                else:
                    self._error(line, "opted_out", v.get("opted_out", ""), "is not yes or no")
            if account is not None and email is not None:
                key = (account.pk, email)
                if key in seen:
                    self._error(line, "email", email, f"repeats line {seen[key]} for this account")
                    continue
                seen[key] = line
            if self.result.ok and account is not None and email is not None:
                yield ContactRow(line, account.pk, name, email, title, found, opted_out, crm_id)

    def _account(self, line: int, raw: str, accounts: dict[str, Account]) -> Account | None:
        if not raw:
            self._error(line, "account", "", "is required")
            return None
        account = accounts.get(raw)
        if account is None:
            self._error(line, "account", raw, "is not an account Tamarind knows")
        return account

    # --- writing ------------------------------------------------------------------------------------------------

    def _write_rows(self, rows: list[ContactRow]) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        now = timezone.now()
        account_ids = {r.account_id for r in rows}
        existing = {
            (c.account_id, c.email): c
            for c in Contact.objects.filter(account_id__in=account_ids).prefetch_related("personas")
        }
        through = Contact.personas.through
        new: list[tuple[Contact, list[Persona]]] = []
        changed: list[tuple[Contact, dict[str, Any], list[str]]] = []
        persona_sets: dict[int, list[Persona]] = {}
        for r in rows:
            contact = existing.get((r.account_id, r.email))
            if contact is None:
                contact = Contact(
                    account_id=r.account_id, name=r.name, email=r.email, title=r.title or "", crm_id=r.crm_id or "",
                    opted_out=bool(r.opted_out), opted_out_at=now if r.opted_out else None,
                    created_at=now, updated_at=now,
                )  # fmt: skip
                new.append((contact, r.personas or []))
                continue
            before = contact_snapshot(contact)
            fields: list[str] = []
            if contact.name != r.name:
                contact.name = r.name
                fields.append("name")
            if r.title is not None and contact.title != r.title:
                contact.title = r.title
                fields.append("title")
            if r.crm_id is not None and contact.crm_id != r.crm_id:
                contact.crm_id = r.crm_id
                fields.append("crm_id")
            if r.opted_out and not contact.opted_out:
                contact.opted_out, contact.opted_out_at = True, now
                fields += ["opted_out", "opted_out_at"]
            keys = before["personas"]
            if r.personas is not None and sorted(p.key for p in r.personas) != before["personas"]:
                persona_sets[contact.pk] = r.personas
                keys = [p.key for p in r.personas]
            if not fields and contact.pk not in persona_sets:
                counts["unchanged"] += 1
                continue
            after = contact_snapshot(contact, keys)
            changed.append((contact, {"before": before, "after": after}, fields))
        events = []
        if new:
            Contact.objects.bulk_create([c for c, _ in new], batch_size=1000)
            through.objects.bulk_create(
                [through(contact_id=c.pk, persona_id=p.pk) for c, ps in new for p in ps], batch_size=2000
            )
            for contact, ps in new:
                events.append(build_event(
                    actor=self.actor, obj=contact, action=AuditAction.CREATE, before=None,
                    after=contact_snapshot(contact, [p.key for p in ps]), source="import", at=now,
                ))  # fmt: skip
            counts["created"] = len(new)
        by_fields: dict[tuple[str, ...], list[Contact]] = {}
        for contact, snap, fields in changed:
            if fields:
                contact.updated_at = now
                by_fields.setdefault(tuple(fields), []).append(contact)
            diff = [f for f in snap["after"] if snap["before"][f] != snap["after"][f]]
            events.append(build_event(
                actor=self.actor, obj=contact, action=AuditAction.UPDATE,
                before={f: snap["before"][f] for f in diff}, after={f: snap["after"][f] for f in diff},
                source="import", at=now,
            ))  # fmt: skip
        for field_names, contacts in by_fields.items():
            Contact.objects.bulk_update(contacts, [*field_names, "updated_at"], batch_size=1000)
        if persona_sets:
            through.objects.filter(contact_id__in=list(persona_sets)).delete()
            through.objects.bulk_create(
                [through(contact_id=cid, persona_id=p.pk) for cid, ps in persona_sets.items() for p in ps],
                batch_size=2000,
            )
        counts["updated"] = len(changed)
        audit_record_many(events)
        return counts
