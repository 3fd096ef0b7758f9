"""Pass 2 of an import: write the staged changes in one transaction, in batches, with their audit trail.

Regions the file names that Tamarind lacks are created first when the job asks for it (``create_regions``,
through ``people.services.region_create``, audited like any region), in this same transaction: if the import
fails they are gone with it. Ids for new accounts are reserved before anything is written, so a child row resolves its parent even
when the parent comes later in the file (foreign keys are checked at commit). Each created or updated
account gets one audit event (``source="import"``) and each TAM change a ``TamAssignment`` row.

Rows are written as plain tuples, not model instances: ``COPY`` on PostgreSQL (updates through a
temporary table and one ``UPDATE ... FROM``), ``executemany`` elsewhere. Django's ``bulk_create`` spends
ten times longer compiling SQL and adapting values than the database spends storing them, which for a
100,000-row file is the difference between seconds and minutes. The audit rows are cut from an event made
by ``audit.services.build_event`` (actor, actor name, request id, source, object type, time), so they are
the events ``audit_record_many`` would have written; ``test_writer`` holds them to that.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tamarind.accounts.models import ACCOUNT_FIELDS, Account, TamAssignment
from tamarind.assignment import services as assignment_services
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import build_event, jsonable
from tamarind.core.bulk import bulk_insert, bulk_update_rows
from tamarind.people import services as people_services
from tamarind.people.models import User

_FK = {"parent", "region", "product_tier", "tam", "sal", "sa"}


def _attname(name: str) -> str:
    return name + "_id" if name in _FK else name


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if not f.primary_key]


ACCOUNT_ATTNAMES: tuple[tuple[str, str], ...] = tuple((name, _attname(name)) for name in ACCOUNT_FIELDS)
ACCOUNT_COLUMNS = ["id", *_columns(Account)]
AUDIT_COLUMNS = _columns(AuditEvent)
TAM_COLUMNS = _columns(TamAssignment)
# What differs from one audit event of an import to the next; the rest comes from build_event.
EVENT_VARIABLE = ("object_id", "object_repr", "action", "before", "after")
_JSON_NATIVE = frozenset({str, int, bool, type(None)})


def reserve_account_ids(count: int) -> list[int]:
    """``count`` unused primary keys for new accounts, taken from the table's sequence.

    Call inside the import's transaction: on SQLite that transaction holds the write lock, so nobody else
    can take the same ids; on PostgreSQL a lock on the table keeps other writers out until the import
    commits (readers are not blocked), so no INSERT draws from the sequence between nextval and setval.
    """
    if count == 0:
        return []
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s)",
                [table, table, count - 1],
            )
            last = cursor.fetchone()[0]
            return list(range(last - count + 1, last + 1))
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        top = cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            # AUTOINCREMENT never hands out an id again, even a deleted one; neither do we.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            top = max(top, row[0] if row else 0)
    return list(range(top + 1, top + 1 + count))


def bulk_update_accounts(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE accounts from rows of ``(id, *values of columns)`` (``core.bulk.bulk_update_rows``)."""
    bulk_update_rows(Account._meta.db_table, "id", columns, rows)


def _snapshot(row: dict[str, Any], names: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Like ``audit.services.snapshot``, over a row of column values: foreign keys by id, JSON-safe."""
    out = {name: row[attname] for name, attname in names}
    for name, value in out.items():
        if type(value) not in _JSON_NATIVE:
            out[name] = jsonable(value)
    return out


class Batch:
    """The rows of one batch of staged records, ready for the database."""

    account_tuple = operator.itemgetter(*ACCOUNT_COLUMNS)

    def __init__(self, *, actor: User, source: str, now: Any) -> None:
        self.now = now
        # Every event of this import shares what build_event fills from the actor, the request and the time.
        template = build_event(
            actor=actor, obj=Account(pk=0), action=AuditAction.UPDATE, before=None, after=None, source=source, at=now
        )
        fixed = {
            f.column: f.get_db_prep_save(getattr(template, f.attname), connection)
            for f in AuditEvent._meta.concrete_fields
        }
        self.event_fixed = [(i, fixed[c]) for i, c in enumerate(AUDIT_COLUMNS) if c not in EVENT_VARIABLE]
        self.event_slots = [AUDIT_COLUMNS.index(c) for c in EVENT_VARIABLE]
        self.now_db = connection.ops.adapt_datetimefield_value(now)
        self.actor_id = actor.pk
        self.creates: list[tuple[Any, ...]] = []
        self.updates: list[tuple[Any, ...]] = []
        self.update_columns: list[str] = []
        self.rehash: list[tuple[int, str]] = []
        self.events: list[tuple[Any, ...]] = []
        self.moves: list[tuple[Any, ...]] = []

    def event(self, pk: int, name: str, action: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        row: list[Any] = [None] * len(AUDIT_COLUMNS)
        for i, value in self.event_fixed:
            row[i] = value
        variable = (str(pk), str(name)[:200], action, None if before is None else json.dumps(before), json.dumps(after))
        for i, value in zip(self.event_slots, variable, strict=True):
            row[i] = value
        self.events.append(tuple(row))

    def tam_change(self, account_id: int, from_tam: int | None, to_tam: int | None) -> None:
        move = {
            "account_id": account_id,
            "from_tam_id": from_tam,
            "to_tam_id": to_tam,
            "changed_by_id": self.actor_id,
            "changed_at": self.now_db,
        }
        self.moves.append(tuple(move[c] for c in TAM_COLUMNS))

    def write(self) -> None:
        bulk_insert(Account._meta.db_table, ACCOUNT_COLUMNS, self.creates)
        bulk_update_accounts(self.update_columns, self.updates)
        bulk_update_accounts(["import_hash"], self.rehash)
        bulk_insert(AuditEvent._meta.db_table, AUDIT_COLUMNS, self.events)
        bulk_insert(TamAssignment._meta.db_table, TAM_COLUMNS, self.moves)


@transaction.atomic
def write_staged(
    *,
    batches: Iterable[list[tuple[Any, ...]]],
    new_crm_ids: list[str],
    parent_crms: set[str],
    actor: User,
    source: str,
    new_regions: Sequence[str] = (),
) -> list[int]:
    """Replay pass 1's staged records (see ``importer``): ``new_crm_ids`` in the order they are created,
    ``parent_crms`` the parents that created or re-parented rows point at, ``new_regions`` the regions to create
    first (a staged row names the i-th of them by the placeholder region id ``-(i + 1)``). Returns the new
    regions' ids, in order."""
    region_ids = [people_services.region_create(actor=actor, name=name, source=source).pk for name in new_regions]
    now = timezone.now()
    pk_of: dict[str, int] = dict(zip(new_crm_ids, reserve_account_ids(len(new_crm_ids)), strict=True))
    wanted = sorted(parent_crms.difference(pk_of))
    for start in range(0, len(wanted), 2000):
        pk_of.update(Account.objects.filter(crm_id__in=wanted[start : start + 2000]).values_list("crm_id", "pk"))
    defaults = {f.attname: f.get_default() for f in Account._meta.concrete_fields if not f.primary_key}
    defaults["currency"] = settings.TAMARIND_DEFAULT_CURRENCY
    touched: list[int] = []
    tam_changes: list[tuple[int, int | None, int | None]] = []
    renewal_moves: dict[int, Any] = {}  # account id -> its next renewal date before this import
    model_moves: list[tuple[int, str, str]] = []  # (account id, engagement model before, after)
    for records in batches:
        batch = Batch(actor=actor, source=source, now=now)
        stamp = {"created_at": batch.now_db, "updated_at": batch.now_db}
        update_fields: set[str] = set()
        updated: list[dict[str, Any]] = []
        for record in records:
            kind = record[0]
            if kind == "c":
                _, _line, crm, digest, values, parent_crm = record
                if values["region_id"] < 0:
                    values["region_id"] = region_ids[-values["region_id"] - 1]
                row = {
                    **defaults,
                    **values,
                    **stamp,
                    "id": pk_of[crm],
                    "parent_id": pk_of[parent_crm] if parent_crm else None,
                    "import_hash": digest,
                }
                batch.creates.append(batch.account_tuple(row))
                batch.event(row["id"], row["name"], AuditAction.CREATE.value, None, _snapshot(row, ACCOUNT_ATTNAMES))
                touched.append(row["id"])
                if row["tam_id"] is not None:
                    batch.tam_change(row["id"], None, row["tam_id"])
                    tam_changes.append((row["id"], None, row["tam_id"]))
            elif kind == "u":
                _, _line, pk, _crm, digest, values, parent_crm, changed, before = record
                if values.get("region_id", 0) < 0:
                    values["region_id"] = region_ids[-values["region_id"] - 1]
                row = {**values, "id": pk, "import_hash": digest, "updated_at": batch.now_db}
                if "parent" in changed:  # otherwise values carries the stored parent_id (or no parent column)
                    row["parent_id"] = pk_of[parent_crm] if parent_crm else None
                update_fields.update(_attname(name) for name in changed)
                updated.append(row)
                after = _snapshot(row, [(name, _attname(name)) for name in changed])
                batch.event(pk, row["name"], AuditAction.UPDATE.value, before, after)
                touched.append(pk)
                if "tam" in changed:
                    batch.tam_change(pk, before["tam"], row["tam_id"])
                    tam_changes.append((pk, before["tam"], row["tam_id"]))
                if "engagement_model" in changed:
                    model_moves.append((pk, before["engagement_model"] or "", row["engagement_model"] or ""))
                if "next_renewal_date" in changed and before.get("next_renewal_date"):
                    renewal_moves[pk] = before["next_renewal_date"]
            else:  # "h": same values, new digest (the file was re-exported, or the mapping changed)
                _, pk, digest = record
                batch.rehash.append((pk, digest))
        if updated:
            # Rows of one file carry the same columns, so each can write the union of what changed.
            batch.update_columns = [*sorted(update_fields), "import_hash", "updated_at"]
            batch.updates = [(r["id"], *(r[c] for c in batch.update_columns)) for r in updated]
        batch.write()
        if settings.DEBUG:
            # DEBUG keeps every SQL statement in memory; a large import would keep them all.
            connection.queries_log.clear()
    # The same service every other account write ends in: rules, tasks, notifications and onboarding are
    # written in this transaction, so a failing import leaves none of them behind.
    assignment_services.qualification_refresh(actor=actor, account_ids=touched, tam_changes=tam_changes, source=source)
    # Each account's next renewal date has its renewal (created once; renewals builds on accounts, so imported here).
    from tamarind.renewals.services import renewals_ensure_for_accounts

    renewals_ensure_for_accounts(touched, moved_from=renewal_moves, source=source)
    # A model the CRM changed is kept as a dated move, as an edit on the account is. A new account's model is not a
    # move: it is where the account was found (with no move, its model on any past day is its model now).
    if model_moves and apps.is_installed("tamarind.engagement"):
        from tamarind.engagement.services import placements_record

        placements_record(actor=actor, moves=model_moves, reason="From the CRM import", source=source)
    return region_ids
