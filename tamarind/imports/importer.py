"""The account import engine, in two passes over a CRM file on disk.

Pass 1 (no writes) streams the file through ``csv.reader``, checks every row and works out what would be
created, updated or left unchanged; the changes it finds go to a temporary staging file, so memory stays
flat however large the upload. A row whose digest (its mapped cells in field order, plus the mapping's id and version) equals
``Account.import_hash`` is counted unchanged without being parsed, which is what makes a re-import cheap.
A row whose digest differs is parsed and compared field by field with the stored account: equal values
count as unchanged too (only the digest is refreshed), so an export imported back changes nothing. Every
cell is read through ``core.csv_safe.unescape_cell``, which takes off exactly the apostrophe the exports put
in front of a cell a spreadsheet would run as a formula (and nothing else). The
digest tracks what the CRM said, so a hand edit made in Tamarind after an import stays until the CRM's
row for that account changes. A dry run stops after pass 1.

Pass 2 runs only when pass 1 found no error at all (a file imports whole or not at all). It replays the
staged changes inside one transaction: ids for new accounts are reserved up front so parent links to rows
further down the file resolve at once, then accounts, audit events and TAM assignments are written in
batches (``COPY`` on PostgreSQL, ``executemany`` elsewhere: see ``tamarind.imports.writer``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import operator
import pickle
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction

from tamarind.accounts.models import Account, LifecycleStage, Priority, ProductTier, Segment
from tamarind.core.csv_safe import unescape_cell
from tamarind.imports.columns import (
    COLUMNS,
    COLUMNS_BY_FIELD,
    ENGAGEMENT_MODELS,
    FIELD_ORDER,
    LIFECYCLE_STAGES,
    PERSON_FIELDS,
    SEGMENTS,
    CellError,
    default_headers,
    header_key,
    parse_arr,
    parse_count,
    parse_currency,
    parse_date,
    parse_priority,
    value_key,
)
from tamarind.imports.models import MAX_STORED_CHANGES, MAX_STORED_ERRORS, ImportMapping, error_entry
from tamarind.imports.unknowns import UnknownPerson, UnknownRefs, UnknownRegion
from tamarind.people.models import Region, Role, User

BATCH = 2000
_MISS = object()
_KEEP = object()  # an empty cell keeps the stored value
_SKIP = object()  # an unknown owner the row is imported without
_REQUIRED = object()  # an empty cell is an error
PROGRESS_EVERY = 0.5  # seconds between progress reports

# Account attribute each field is stored under.
ATTNAMES: dict[str, str] = {
    f: (f + "_id" if f in {"parent", "region", "product_tier", "tam", "sal", "sa"} else f) for f in FIELD_ORDER
}
# Fields that cannot be blank on an account: an empty cell keeps the stored value (the default for a new one).
KEEP_WHEN_EMPTY = frozenset({"currency", "licenses", "priority", "lifecycle_stage"})
REQUIRED_VALUE = frozenset({"crm_id", "name", "region", "segment", "arr"})
MAX_LENGTHS = {"crm_id": 64, "name": 255, "collaboration_url": 500}
OWNER_ROLES: dict[str, tuple[str, str]] = {
    "tam": (Role.TAM, "TAM"),
    "sal": (Role.SAL, "SAL / AE"),
    "sa": (Role.SA, "Solutions Architect"),
}


@dataclass(frozen=True)
class MappingSpec:
    """The parts of an ``ImportMapping`` the importer uses; the built-in default when there is none."""

    pk: int | None
    name: str
    version: int
    headers: dict[str, list[str]]
    synonyms: dict[str, dict[str, str]]

    @classmethod
    def of(cls, mapping: ImportMapping | None) -> MappingSpec:
        if mapping is None:
            return cls(pk=None, name="Built-in default", version=0, headers=default_headers(), synonyms={})
        headers = {c.field: list(mapping.headers.get(c.field) or [c.header]) for c in COLUMNS}
        synonyms = {
            fld: {value_key(k): str(v) for k, v in (pairs or {}).items()}
            for fld, pairs in (mapping.synonyms or {}).items()
        }
        return cls(pk=mapping.pk, name=mapping.name, version=mapping.version, headers=headers, synonyms=synonyms)

    @property
    def salt(self) -> str:
        return f"{self.pk or 0}.{self.version}"


@dataclass
class Progress:
    rows: int
    bytes: int
    size: int
    stage: str


@dataclass
class ImportResult:
    """What an import found and did. Counts are "would" counts for a dry run."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    written: bool = False
    unknown: dict[str, Any] = field(default_factory=dict)  # see unknowns.UnknownRefs.summary

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, line: int | None, column: str, value: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            # A NUL is shown as the NUL symbol: the errors are stored as JSON, which PostgreSQL refuses NUL in.
            column, value, message = (t.replace("\x00", "\u2400") for t in (column, value, message))
            self.errors.append(error_entry(line=line, column=column, value=value, message=message))


class FileRejected(Exception):
    """A problem with the file as a whole: nothing after it can be read."""


def find_bad_utf8(path: Path) -> tuple[int, int]:
    """(the first byte that is not UTF-8, its offset in the file), streaming the file again in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return exc.object[exc.start], offset - pending + exc.start
            if not chunk:
                return 0, offset
            offset += len(chunk)


NUL_CELL = "contains a NUL character"


def shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def existing_digests() -> dict[str, str]:
    """CRM id -> import digest of every account: one query, read raw (100,000 rows in a blink)."""
    table = connection.ops.quote_name(Account._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT crm_id, import_hash FROM {table}")  # noqa: S608 - a quoted table name
        return dict(cursor.fetchall())


class Lookups:
    """Everything a row refers to by name, loaded once per import (a few queries, whatever the file size)."""

    def __init__(self, mapping: MappingSpec) -> None:
        self.mapping = mapping
        self.regions: dict[str, int] = {}
        self.region_names: dict[int, str] = {}
        for pk, name in Region.objects.values_list("pk", "name"):
            self.regions.setdefault(value_key(name), pk)
            self.region_names[pk] = name
        self.tiers: dict[str, int] = {}
        self.tier_names: dict[int, str] = {}
        for pk, name in ProductTier.objects.values_list("pk", "name"):
            self.tiers.setdefault(value_key(name), pk)
            self.tier_names[pk] = name
        self.people_by_email: dict[str, tuple[int, str, bool]] = {}
        self.people_by_name: dict[str, list[tuple[int, str, bool]]] = {}
        self.person_names: dict[int, str] = {}
        for pk, email, name, role, active in User.objects.values_list("pk", "email", "full_name", "role", "is_active"):
            person = (pk, role, active)
            self.people_by_email[email.casefold()] = person
            self.people_by_name.setdefault(" ".join(name.split()).casefold(), []).append(person)
            self.person_names[pk] = name or email
        # Engagement models are data (admins add more): a cell names one by its key or its name.
        from tamarind.accounts.selectors import engagement_model_choices

        self.engagement_models: dict[str, str] = {}
        self.engagement_model_names: dict[str, str] = {}
        for key, name in engagement_model_choices():
            self.engagement_models.setdefault(value_key(key), key)
            self.engagement_models.setdefault(value_key(name), key)
            self.engagement_model_names[key] = name
        for key, stored in ENGAGEMENT_MODELS.items():  # the built-ins' former labels still read
            if stored in self.engagement_model_names:
                self.engagement_models.setdefault(key, stored)

    def synonym(self, field_name: str, raw: str) -> str:
        table = self.mapping.synonyms.get(field_name)
        if table:
            return table.get(value_key(raw), raw)
        return raw

    def person(self, raw: str) -> tuple[int, str, bool]:
        if "@" in raw:
            found = self.people_by_email.get(raw.strip().casefold())
            if found is None:
                raise UnknownPerson(raw)
            return found
        matches = self.people_by_name.get(" ".join(raw.split()).casefold())
        if not matches:
            raise UnknownPerson(raw)
        if len(matches) > 1:
            raise CellError(f"matches {len(matches)} people; use their email address")
        return matches[0]


_url_validator = URLValidator()


def _url_match(value: str) -> Any:
    """The validator's own pattern, compiled once (its lazy wrapper costs more than the match)."""
    global _url_pattern
    if _url_pattern is None:
        regex: Any = _url_validator.regex
        _url_pattern = re.compile(regex.pattern, regex.flags)
    return _url_pattern.match(value)


_url_pattern: re.Pattern[str] | None = None


class Importer:
    """One run over one file. ``run()`` returns an ``ImportResult``; it writes only when nothing is wrong."""

    def __init__(
        self,
        *,
        path: Path,
        mapping: MappingSpec,
        actor: User,
        dry_run: bool = False,
        written: Callable[[], None] | None = None,
        progress: Callable[[Progress], None] | None = None,
        source: str = "import",
        create_regions: bool = False,
        skip_unknown_owners: bool = False,
    ) -> None:
        self.path = Path(path)
        self.mapping = mapping
        self.actor = actor
        self.dry_run = dry_run
        self.written = written  # called last in the write transaction (the job marks itself "written")
        self.progress = progress
        self.source = source
        self.unknown = UnknownRefs(create_regions=create_regions, skip_unknown_owners=skip_unknown_owners)
        self.result = ImportResult()
        self.size = self.path.stat().st_size
        self._last_progress = 0.0

    # --- the run ------------------------------------------------------------------------------------------

    def run(self) -> ImportResult:
        started = time.monotonic()
        self.lookups = Lookups(self.mapping)
        with tempfile.TemporaryFile(prefix="tamarind-import-") as staging:
            self.staging = staging
            self._check_file()
            created_regions: dict[str, int] = {}
            if self.result.ok and not self.dry_run and (self.result.created or self.result.updated or self._rehash):
                from tamarind.imports.writer import write_staged

                self._report(self.result.total, self.size, "writing", force=True)
                staging.seek(0)
                new_regions = self.unknown.new_region_names()
                with transaction.atomic():
                    region_ids = write_staged(
                        batches=self._staged_batches(),
                        new_crm_ids=self._new_crm_ids,
                        parent_crms={ref[2] for ref in self._parent_refs},
                        actor=self.actor,
                        source=self.source,
                        new_regions=new_regions,
                    )
                    if self.written is not None:
                        self.written()
                by_name = dict(zip(new_regions, region_ids, strict=True))
                created_regions = {key: by_name[self.unknown.regions[key].value] for key in self.unknown.placeholders}
                self.result.written = True
        self.result.unknown = self.unknown.summary(error_count=self.result.error_count, created=created_regions)
        self.result.errors.sort(key=lambda e: e["line"] or 0)
        self.result.seconds = time.monotonic() - started
        return self.result

    def _report(self, rows: int, done_bytes: int, stage: str, *, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_EVERY:
            self._last_progress = now
            self.progress(Progress(rows=rows, bytes=done_bytes, size=self.size, stage=stage))

    def _staged_batches(self) -> Iterator[list[tuple[Any, ...]]]:
        while True:
            try:
                yield pickle.load(self.staging)  # noqa: S301 - our own temporary file, written above
            except EOFError:
                return

    # --- pass 1 -------------------------------------------------------------------------------------------

    def _check_file(self) -> None:
        result = self.result
        self.existing = existing_digests()
        self._new_crm_ids: list[str] = []
        self._rehash = 0
        self._parent_refs: list[tuple[int, str, str]] = []  # (line, counted as, parent's CRM id)
        self._staged: list[tuple[Any, ...]] = []
        seen: dict[str, int] = {}
        total = skipped = 0
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            try:
                header = next(reader, None)
                if header is None:
                    raise FileRejected("the file is empty")
                # NUL is shown (never stored) as a visible symbol
                header = [unescape_cell(h.strip()).replace("\x00", "\u2400") for h in header]
                self._match_columns(header)
                self._prepare_steps()
                ncols = len(header)
                crm_index = self.index["crm_id"]
                crm_header = self.header_of["crm_id"]
                # The row digest: the mapped cells in field order (so column order and header names do
                # not matter) and the mapping's identity and version. Inlined: this loop is the re-import.
                indexes = [self.index[f] for f in FIELD_ORDER if f in self.index]
                pick = operator.itemgetter(*indexes) if len(indexes) > 1 else (lambda c: (c[indexes[0]],))
                width = max(indexes) + 1
                salt = self._salt()
                md5 = hashlib.md5
                join = "\x1f".join
                existing_get = self.existing.get
                seen_get = seen.get
                pending: list[tuple[Any, ...]] = []
                previous_line = reader.line_num
                for cells in reader:
                    line = previous_line + 1
                    previous_line = reader.line_num
                    n = len(cells)
                    crm = cells[crm_index].strip() if crm_index < n else ""
                    if crm[:1] == "'":  # maybe our own export's escape (core.csv_safe): take it off
                        crm = unescape_cell(crm)
                    if not crm:
                        if not any(c.strip() for c in cells):
                            continue  # a blank line
                        total += 1
                        result.add_error(line, crm_header, "", f"line {line}: {crm_header} is empty")
                        continue
                    total += 1
                    if n > ncols and any(c.strip() for c in cells[ncols:]):
                        result.add_error(line, "", "", f"line {line}: {n} values for {ncols} columns")
                        continue
                    first = seen_get(crm)
                    if first is not None:
                        result.add_error(
                            line, crm_header, crm, f'line {line}: {crm_header} "{shorten(crm)}" repeats line {first}'
                        )
                        continue
                    seen[crm] = line
                    if n < width:
                        cells = cells + [""] * (width - n)
                    digest = md5(join(pick(cells)).encode() + salt, usedforsecurity=False).hexdigest()
                    known = existing_get(crm)
                    if known == digest:
                        skipped += 1
                    else:
                        pending.append((line, cells, crm, digest, known is not None))
                        if len(pending) >= BATCH:
                            self._check_batch(pending)
                            pending = []
                    if not total % 2000:
                        self._report(total, raw.tell(), "reading")
                if pending:
                    self._check_batch(pending)
            except UnicodeDecodeError:
                byte, position = find_bad_utf8(self.path)
                result.add_error(None, "", "", f"the file is not UTF-8 text (byte 0x{byte:02x} at position {position})")
                return
            except csv.Error as exc:
                result.add_error(None, "", "", f"line {reader.line_num}: the CSV is malformed ({exc})")
                return
            except FileRejected as exc:
                if exc.args:
                    result.add_error(None, "", "", str(exc))
                return
            finally:
                result.total += total
                result.unchanged += skipped
        self._check_parents(seen)
        too_many = self.unknown.too_many_regions()
        if too_many:
            result.add_error(None, self.header_of["region"], "", too_many)
        self._flush_staged()
        self._report(result.total, self.size, "reading", force=True)

    def _match_columns(self, header: list[str]) -> None:
        """Find each field's column; a missing required column rejects the file."""
        keys = [header_key(h) for h in header]
        self.index: dict[str, int] = {}
        self.header_of: dict[str, str] = {}
        used: set[int] = set()
        for column in COLUMNS:
            for name in self.mapping.headers.get(column.field, []):
                key = header_key(name)
                found = next((i for i, k in enumerate(keys) if k == key and i not in used), None)
                if found is not None:
                    self.index[column.field] = found
                    self.header_of[column.field] = header[found].strip()
                    used.add(found)
                    break
        ignored = [h for i, h in enumerate(header) if i not in used and h.strip()]
        # Lists, in file order: a JSON object's key order does not survive PostgreSQL's jsonb.
        matched = sorted(self.index.items(), key=lambda item: item[1])
        self.result.columns = {"matched": [[fld, self.header_of[fld]] for fld, _ in matched], "ignored": ignored}
        missing = [c for c in COLUMNS if c.required and c.field not in self.index]
        if missing:
            for column in missing:
                names = self.mapping.headers.get(column.field) or [column.header]
                self.result.add_error(None, names[0], "", f'missing required column "{names[0]}"')
            raise FileRejected()  # the errors are recorded above

    def _salt(self) -> bytes:
        return ("\x1e" + self.mapping.salt + "\x1e" + ",".join(f for f in FIELD_ORDER if f in self.index)).encode()

    def _check_batch(self, pending: list[tuple[Any, ...]]) -> None:
        """Parse the rows that are new or differ from their last import; compare them with the stored accounts."""
        result = self.result
        crms = [crm for (_, _, crm, _, known) in pending if known]
        stored: dict[str, dict[str, Any]] = {}
        if crms:
            fetch = ["pk", "parent__crm_id", *ATTNAMES.values()]
            stored = {row["crm_id"]: row for row in Account.objects.filter(crm_id__in=crms).values(*fetch)}
        for line, cells, crm, digest, known in pending:
            parsed = self._parse_row(line, cells, crm)
            if parsed is None:
                continue
            values, parent_crm, without = parsed
            if without:
                # Imported without an owner Tamarind lacks: keep no digest, so the next import of this file reads
                # the row again and sets the owner once the person exists.
                digest = ""
            current = stored.get(crm) if known else None
            if current is None:
                # New (or deleted since this import began, which makes it new again).
                result.created += 1
                self._new_crm_ids.append(crm)
                self._stage(("c", line, crm, digest, values, parent_crm))
                if parent_crm:
                    self._parent_refs.append((line, "created", parent_crm))
                self._preview_create(line, crm, values, parent_crm)
                continue
            for fld in (*KEEP_WHEN_EMPTY, *without):
                # An empty cell (or an unknown owner left out) keeps the stored value; carry it so batched updates
                # write it back unchanged.
                if fld in self.index and ATTNAMES[fld] not in values:
                    values[ATTNAMES[fld]] = current[ATTNAMES[fld]]
            changed = [
                f
                for f in FIELD_ORDER
                if f != "parent" and ATTNAMES[f] in values and values[ATTNAMES[f]] != current[ATTNAMES[f]]
            ]
            if "parent" in self.index:
                if parent_crm != current["parent__crm_id"]:
                    changed.append("parent")
                    if parent_crm:
                        self._parent_refs.append((line, "updated", parent_crm))
                else:
                    values["parent_id"] = current["parent_id"]
            if not changed:
                result.unchanged += 1
                self._rehash += 1
                self._stage(("h", current["pk"], digest))
                continue
            result.updated += 1
            before = {f: _jsonable(current[ATTNAMES[f]]) for f in changed}
            self._stage(("u", line, current["pk"], crm, digest, values, parent_crm, changed, before))
            self._preview_update(line, crm, values, parent_crm, changed, current)

    def _stage(self, record: tuple[Any, ...]) -> None:
        if self.dry_run:
            return
        self._staged.append(record)
        if len(self._staged) >= BATCH:
            self._flush_staged()

    def _flush_staged(self) -> None:
        if self._staged:
            pickle.dump(self._staged, self.staging, protocol=pickle.HIGHEST_PROTOCOL)
            self._staged = []

    def _check_parents(self, seen: dict[str, int]) -> None:
        """A parent must be a row of this file or an account Tamarind already has."""
        if "parent" not in self.index:
            return
        header = self.header_of["parent"]
        for line, counted_as, parent_crm in self._parent_refs:
            if parent_crm not in seen and parent_crm not in self.existing:
                # The row was counted as a change; with this error it makes none.
                setattr(self.result, counted_as, getattr(self.result, counted_as) - 1)
                self.result.add_error(
                    line,
                    header,
                    parent_crm,
                    f'line {line}: {header} "{shorten(parent_crm)}" is not in the file nor in Tamarind',
                )

    # --- one row ------------------------------------------------------------------------------------------

    def _prepare_steps(self) -> None:
        """Per mapped column: how to read it. Choice-like cells repeat a lot, so their results are memoised."""
        no_memo = {"name", "parent", "arr", "collaboration_url"}
        self._steps: list[tuple[str, str, int, str, Any, dict[str, Any] | None]] = []
        for fld, index in self.index.items():
            if fld == "crm_id":
                continue
            if fld in REQUIRED_VALUE:
                empty: Any = _REQUIRED
            elif fld in KEEP_WHEN_EMPTY:
                empty = _KEEP
            elif fld in {"engagement_model", "collaboration_url"}:
                empty = ""
            else:
                empty = None
            memo: dict[str, Any] | None = None if fld in no_memo else {}
            self._steps.append((fld, ATTNAMES[fld], index, self.header_of[fld], empty, memo))
        self._width = max(self.index.values()) + 1

    def _parse_row(
        self, line: int, cells: list[str], crm: str
    ) -> tuple[dict[str, Any], str | None, tuple[str, ...]] | None:
        """The row's field values (by attribute name), its parent's CRM id and the owner fields it is imported
        without (their person is unknown and the job skips unknown owners); None when it has errors."""
        values: dict[str, Any] = {"crm_id": crm}
        parent_crm: str | None = None
        without: tuple[str, ...] = ()
        errors = 0
        amount_currency: str | None = None
        if len(crm) > MAX_LENGTHS["crm_id"]:
            self._row_error(line, "crm_id", crm, "is longer than 64 characters")
            errors += 1
        elif "\x00" in crm:
            self._row_error(line, "crm_id", crm, NUL_CELL)
            errors += 1
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        for fld, attname, index, header, empty, memo in self._steps:
            raw = cells[index].strip()
            if "\x00" in raw:  # PostgreSQL cannot store it: refused, naming the line and column
                self._row_error(line, fld, raw, NUL_CELL)
                errors += 1
                continue
            if raw[:1] == "'":
                raw = unescape_cell(raw)
            if not raw:
                if empty is _REQUIRED:
                    self.result.add_error(line, header, "", f"line {line}: {header} is empty")
                    errors += 1
                elif empty is not _KEEP:
                    values[attname] = empty
                continue
            if memo is not None:
                hit = memo.get(raw, _MISS)
                if hit is _MISS:
                    try:
                        hit = self._parse_cell(fld, raw)
                    except CellError as exc:
                        hit = exc
                    if len(memo) > 100_000:
                        memo.clear()
                    memo[raw] = hit
                if isinstance(hit, CellError):
                    if isinstance(hit, UnknownRegion | UnknownPerson):
                        hit = self._unknown(line, fld, hit)
                        if hit is _SKIP:
                            without = (*without, fld)
                            continue
                        if not isinstance(hit, CellError):  # a new region's placeholder id
                            values[attname] = hit
                            continue
                    self._row_error(line, fld, raw, str(hit))
                    errors += 1
                else:
                    values[attname] = hit
                continue
            try:
                if fld == "arr":
                    values["arr"], amount_currency = parse_arr(raw)
                elif fld == "parent":
                    if raw == crm:
                        raise CellError("is the account itself")
                    parent_crm = raw
                else:
                    values[attname] = self._parse_cell(fld, raw)
            except CellError as exc:
                self._row_error(line, fld, raw, str(exc))
                errors += 1
        if errors:
            return None
        if amount_currency and "currency" not in self.index:
            values["currency"] = amount_currency
        return values, parent_crm, without

    def _unknown(self, line: int, fld: str, exc: UnknownRegion | UnknownPerson) -> Any:
        """A cell naming a region or person Tamarind lacks: counted for the dry run's list (``unknowns``). Returns
        the new region's placeholder id, ``_SKIP`` for an owner the line is imported without, or ``exc`` (an error).
        """
        if isinstance(exc, UnknownRegion):
            try:
                placeholder = self.unknown.region(line, exc)
            except CellError as too_long:
                return too_long
            return exc if placeholder is None else placeholder
        return _SKIP if self.unknown.owner(line, fld, exc.raw) else exc

    def _row_error(self, line: int, fld: str, raw: str, reason: str) -> None:
        header = self.header_of[fld]
        self.result.add_error(line, header, raw, f'line {line}: {header} "{shorten(raw)}" {reason}')

    def _parse_cell(self, fld: str, raw: str) -> Any:
        lookups = self.lookups
        if fld == "name":
            if len(raw) > MAX_LENGTHS["name"]:
                raise CellError("is longer than 255 characters")
            return raw
        if fld == "region":
            name = " ".join(lookups.synonym(fld, raw).split())
            pk = lookups.regions.get(value_key(name))
            if pk is None:
                raise UnknownRegion(value_key(name), name)
            return pk
        if fld == "segment":
            value = SEGMENTS.get(value_key(lookups.synonym(fld, raw)))
            if value is None:
                raise CellError("is not a known segment")
            return value
        if fld == "product_tier":
            pk = lookups.tiers.get(value_key(lookups.synonym(fld, raw)))
            if pk is None:
                raise CellError("is not a known product tier")
            return pk
        if fld in PERSON_FIELDS:
            # The same rule as accounts.services: each owner holds that role and is active.
            pk, role, active = lookups.person(raw)
            wanted, label = OWNER_ROLES[fld]
            if role != wanted:
                raise CellError(f"is not a {label}")
            if not active:
                raise CellError(f"is not an active {label}")
            return pk
        if fld in ("customer_since", "next_renewal_date"):
            return parse_date(raw)
        if fld == "licenses":
            return parse_count(raw)
        if fld == "priority":
            return parse_priority(lookups.synonym(fld, raw))
        if fld == "engagement_model":
            value = lookups.engagement_models.get(value_key(lookups.synonym(fld, raw)))
            if value is None:
                raise CellError("is not a known engagement model")
            return value
        if fld == "lifecycle_stage":
            value = LIFECYCLE_STAGES.get(value_key(lookups.synonym(fld, raw)))
            if value is None:
                raise CellError("is not a known lifecycle stage")
            return value
        if fld == "currency":
            return parse_currency(raw)
        if fld == "collaboration_url":
            if len(raw) > MAX_LENGTHS["collaboration_url"]:
                raise CellError("is longer than 500 characters")
            if not raw.casefold().startswith(("http://", "https://")):
                raise CellError("is not a URL")
            if _url_match(raw) is None:  # the full check only when the quick one fails
                try:
                    _url_validator(raw)
                except DjangoValidationError:
                    raise CellError("is not a URL") from None
            return raw
        raise AssertionError(f"no parser for {fld}")

    # --- the preview ----------------------------------------------------------------------------------------

    def _label(self, fld: str) -> str:
        return self.header_of.get(fld) or COLUMNS_BY_FIELD[fld].header

    def _display(self, fld: str, value: Any) -> str:
        lookups = self.lookups
        if value is None or value == "":
            return ""
        if fld == "region":
            if value < 0:
                return f"{self.unknown.new_region_names()[-value - 1]} (new region)"
            return lookups.region_names.get(value, str(value))
        if fld == "product_tier":
            return lookups.tier_names.get(value, str(value))
        if fld in PERSON_FIELDS:
            return lookups.person_names.get(value, str(value))
        if fld == "segment":
            return str(Segment(value).label)
        if fld == "engagement_model":
            return lookups.engagement_model_names.get(value, value)
        if fld == "lifecycle_stage":
            return str(LifecycleStage(value).label)
        if fld == "priority":
            return str(Priority(value).label)
        if fld == "arr":
            return f"{value:,.2f}"
        return str(value)

    def _preview_create(self, line: int, crm: str, values: dict[str, Any], parent_crm: str | None) -> None:
        if len(self.result.changes) >= MAX_STORED_CHANGES:
            return
        fields = [
            [self._label(f), "", self._display(f, values.get(ATTNAMES[f]))]
            for f in FIELD_ORDER
            if f not in ("crm_id", "name", "parent") and values.get(ATTNAMES[f]) not in (None, "")
        ]
        if parent_crm:
            fields.insert(0, [self._label("parent"), "", parent_crm])
        self.result.changes.append(
            {"line": line, "crm_id": crm, "name": values.get("name", ""), "action": "create", "fields": fields}
        )

    def _preview_update(
        self,
        line: int,
        crm: str,
        values: dict[str, Any],
        parent_crm: str | None,
        changed: list[str],
        current: dict[str, Any],
    ) -> None:
        if len(self.result.changes) >= MAX_STORED_CHANGES:
            return
        fields = []
        for f in changed:
            if f == "parent":
                fields.append([self._label(f), current["parent__crm_id"] or "", parent_crm or ""])
            else:
                attname = ATTNAMES[f]
                fields.append([self._label(f), self._display(f, current[attname]), self._display(f, values[attname])])
        self.result.changes.append(
            {"line": line, "crm_id": crm, "name": values.get("name", ""), "action": "update", "fields": fields}
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
