"""The contract every CSV ingest besides the account importer keeps (contacts, renewal opportunities and ARR
history, success plans, usage and tickets), in one place: a file imports whole or not at all, every problem is
reported (with its line number where it has one), a dry run writes nothing, and importing the same file again
changes nothing.

A subclass reads (pass 1) in ``_ingest`` and writes (pass 2) through ``_commit``; this base turns a file that is
not CSV, not UTF-8 or rejected outright into errors on the result, runs the write in one transaction that a dry run
rolls back, and files the counts.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from tamarind.core.csv_safe import unescape_cell
from tamarind.core.errors import ValidationFailed
from tamarind.imports.columns import header_key
from tamarind.imports.importer import FileRejected, ImportResult, Progress, find_bad_utf8, shorten

if TYPE_CHECKING:
    from tamarind.people.models import User

Counts = Mapping[str, int]
"""What a write did: ``created``, ``updated`` and ``unchanged`` rows."""

Columns = dict[str, tuple[tuple[str, ...], bool]]
"""A file's fields: field -> (the header names it is known by, the first being its name in errors; required)."""


class _Rollback(Exception):
    """Raised inside a dry run's transaction to undo it; carries the counts of what it would have done."""


class CsvIngestBase:
    """One run of a file; ``run()`` returns an ``ImportResult``. Subclasses implement ``_ingest``."""

    columns: Columns = {}

    def __init__(
        self,
        *,
        path: Path,
        actor: User,
        dry_run: bool = False,
        progress: Callable[[Progress], None] | None = None,
        headers: dict[str, list[str]] | None = None,
        written: Callable[[], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.actor = actor
        self.dry_run = dry_run
        self.progress = progress
        # The mapping's extra header names per field (its tab for this kind), tried before the built-in names.
        self.extra_headers = headers or {}
        self.written = written  # called last in the write transaction (the job marks itself "written")
        self.result = ImportResult()
        self.index: dict[str, int] = {}
        self.header_of: dict[str, str] = {}

    def run(self) -> ImportResult:
        started = time.monotonic()
        try:
            self._ingest()
        except FileRejected as exc:
            if exc.args:
                self.result.add_error(None, "", "", str(exc))
        except UnicodeDecodeError:
            byte, position = find_bad_utf8(self.path)
            self.result.add_error(
                None, "", "", f"the file is not UTF-8 text (byte 0x{byte:02x} at offset {position}); export it as UTF-8"
            )
        except csv.Error as exc:
            self.result.add_error(None, "", "", f"the CSV is malformed ({exc})")
        self.result.errors.sort(key=lambda e: e["line"] or 0)
        self.result.seconds = time.monotonic() - started
        return self.result

    def _ingest(self) -> None:
        """Read the file, record its problems, and (when it has none) write it through ``_commit``."""
        raise NotImplementedError

    # --- reading ------------------------------------------------------------------------------------------------

    def _error(self, line: int, field: str, raw: str, reason: str) -> None:
        header = self.header_of.get(field, field)
        text = f'line {line}: {header} "{shorten(raw)}" {reason}' if raw else f"line {line}: {header} {reason}"
        self.result.add_error(line, header, raw, text)

    def _match(self, header: list[str]) -> None:
        """Find each of ``columns`` in the header row (the mapping's names first); a missing required column
        rejects the file with every missing one named."""
        keys = [header_key(unescape_cell(h.strip())) for h in header]
        self.index = {}
        self.header_of = {}
        for field, (builtin, required) in self.columns.items():
            for name in (*self.extra_headers.get(field, ()), *builtin):
                if header_key(name) in keys:
                    self.index[field] = keys.index(header_key(name))
                    self.header_of[field] = header[self.index[field]].strip()
                    break
            else:
                if required:
                    self.result.add_error(None, builtin[0], "", f'missing required column "{builtin[0]}"')
        used = set(self.index.values())
        self.result.columns = {
            "matched": [[f, h] for f, h in self.header_of.items()],
            "ignored": [h.strip() for i, h in enumerate(header) if i not in used and h.strip()],
        }
        if not self.result.ok:
            raise FileRejected()

    # --- writing ------------------------------------------------------------------------------------------------

    def _commit(self, write: Callable[[], Counts]) -> None:
        """Run ``write`` in one transaction (rolled back for a dry run, which still reports its counts) and file
        what it did. A service's ``ValidationFailed`` (the book changed between the passes) becomes file errors and
        writes nothing."""
        try:
            with transaction.atomic():
                counts = write()
                if self.dry_run:
                    raise _Rollback(counts)
                if self.written is not None:
                    self.written()
        except _Rollback as rollback:
            counts = rollback.args[0]
        except ValidationFailed as exc:
            for key, messages in exc.errors.items():
                for message in messages:
                    self.result.add_error(None, "" if key == "__all__" else key, "", message)
            return
        self.result.created = counts["created"]
        self.result.updated = counts["updated"]
        self.result.unchanged = counts["unchanged"]
        self.result.written = not self.dry_run and bool(counts["created"] or counts["updated"])
