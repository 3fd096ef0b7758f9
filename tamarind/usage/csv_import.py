"""Usage and support-ticket CSV files through the import jobs (``imports`` runs a job of kind usage or tickets here).

The same contract as the account importer: a file imports whole or not at all, every problem is reported with its
line number, a dry run writes nothing, and importing the same file again changes nothing.

Pass 1 streams the file, parses every cell and checks the references (accounts by CRM id, metrics by key) chunk by
chunk, without writing; the parsed chunks go to a temporary staging file. Pass 2 runs only when pass 1 found nothing
wrong: it replays the staged chunks into the usage services inside one transaction (a dry run rolls it back, so its
counts are exact). Parsing stays out of the write transaction: on SQLite that transaction holds the one write lock
every other writer waits for (measured on the demo's 98,084 usage rows: 43 s of lock before, see README, "The
worker"). Memory stays flat: neither pass holds more than one chunk of rows, plus the keys seen (to refuse a row
repeated further down).

Usage files come in two shapes: long (``Account ID, Date, Metric, Value``) or wide (``Account ID, Date`` and one
column per metric, headed by its key or label, e.g. ``Active users``). Ticket files have ``Account ID, Ticket ID,
Opened, Closed, Priority, Status``. A job's mapping may add header names under ``usage.<field>`` /
``tickets.<field>`` keys of its ``headers`` (e.g. ``{"usage.day": ["When"]}``); they are tried before the built-in
names. Admins edit them on the mapping page's *Product usage* and *Support tickets* tabs. Cells are read through
``core.csv_safe.unescape_cell``, which undoes exactly the spreadsheet escape Tamarind's exports write.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import pickle
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tamarind.core.csv_safe import unescape_cell
from tamarind.core.values import date_out_of_range
from tamarind.imports.columns import DATE_RANGE_CELL, CellError, header_key, parse_count, parse_date, value_key
from tamarind.imports.importer import NUL_CELL, FileRejected, Progress, shorten
from tamarind.imports.ingest import CsvIngestBase
from tamarind.usage.models import TicketPriority, TicketStatus, UsageMetric
from tamarind.usage.rows import RowError, TicketRow, UsageRow, check_ticket_rows, check_usage_rows

CHUNK = 5000


@dataclass(frozen=True)
class CsvColumn:
    field: str
    headers: tuple[str, ...]
    required: bool = True


USAGE_COLUMNS = (
    CsvColumn("account", ("Account ID", "CRM ID", "Account", "crm_id", "account_id")),
    CsvColumn("day", ("Date", "Day", "Usage Date")),
    CsvColumn("metric", ("Metric", "Metric Key"), required=False),
    CsvColumn("value", ("Value", "Count"), required=False),
)
TICKET_COLUMNS = (
    CsvColumn("account", ("Account ID", "CRM ID", "Account", "crm_id", "account_id")),
    CsvColumn("external_id", ("Ticket ID", "Ticket", "ID", "external_id", "Ticket Number")),
    CsvColumn("opened_at", ("Opened", "Opened At", "Created", "Created At", "opened_at")),
    CsvColumn("closed_at", ("Closed", "Closed At", "Solved At", "closed_at"), required=False),
    CsvColumn("priority", ("Priority",), required=False),
    CsvColumn("status", ("Status",), required=False),
)

PRIORITIES: dict[str, str] = {value_key(v): v for v in TicketPriority.values} | {
    "p1": "urgent",
    "p2": "high",
    "p3": "normal",
    "p4": "low",
    "1": "urgent",
    "2": "high",
    "3": "normal",
    "4": "low",
    "critical": "urgent",
    "medium": "normal",
}
STATUSES: dict[str, str] = {value_key(v): v for v in TicketStatus.values} | {
    "new": "open",
    "onhold": "pending",
    "hold": "pending",
    "resolved": "solved",
}


def parse_moment(raw: str) -> dt.datetime:
    """An ISO datetime (``Z`` or an offset; none means the server's time zone) or a date (its midnight)."""
    text = raw.strip()
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = dt.datetime.combine(parse_date(text), dt.time.min)
        except CellError as exc:
            if str(exc) == DATE_RANGE_CELL:
                raise
            raise CellError("is not a date and time") from None
    if date_out_of_range(value):  # before any time zone arithmetic, which would leave the calendar
        raise CellError(DATE_RANGE_CELL)
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    return value


class CsvIngest(CsvIngestBase):
    """One run of a usage or tickets file. ``run()`` returns an ``ImportResult`` like the account importer's."""

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.size = self.path.stat().st_size
        self.csv_columns = USAGE_COLUMNS if kind == "usage" else TICKET_COLUMNS

    def _ingest(self) -> None:
        with tempfile.TemporaryFile(prefix="tamarind-ingest-") as staging:
            self.staging = staging
            self._pass()
            if self.result.ok and self.result.total:
                staging.seek(0)
                self._commit(self._write)

    def _write(self) -> dict[str, int]:
        from tamarind.usage import services

        ingest: Any = services.usage_ingest_chunks if self.kind == "usage" else services.tickets_ingest_chunks
        outcome = ingest(actor=self.actor, batches=self._staged(), source="import", consequences=not self.dry_run)
        return {"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged}

    # --- reading -----------------------------------------------------------------------------------------------

    def _pass(self) -> None:
        """Pass 1: stream the file, record every problem, and stage the parsed rows chunk by chunk (while the file is
        clean so far: a file with an error is never written)."""
        chunk: list[Any] = []
        for row in self._rows(check=True):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                self._stage(chunk)
                chunk = []
        if chunk:
            self._stage(chunk)

    def _stage(self, chunk: list[Any]) -> None:
        self._check_refs(chunk)
        if self.result.ok:
            pickle.dump(chunk, self.staging, protocol=pickle.HIGHEST_PROTOCOL)

    def _staged(self) -> Iterator[list[Any]]:
        """Pass 2: the chunks pass 1 staged, with the writing stage's progress."""
        done = 0
        while True:
            try:
                chunk = pickle.load(self.staging)  # noqa: S301 - our own temporary file, written above
            except EOFError:
                return
            yield chunk
            done += len(chunk)
            if self.progress is not None:
                share = self.size * done // max(1, self.result.total)
                self.progress(Progress(rows=done, bytes=share, size=self.size, stage="writing"))

    def _check_refs(self, chunk: list[Any]) -> None:
        errors: list[RowError]
        if self.kind == "usage":
            _, errors = check_usage_rows(chunk)
        else:
            _, errors = check_ticket_rows(chunk)
        for err in errors:
            line = int(err.ref.removeprefix("line ")) if err.ref.startswith("line ") else None
            header = self.header_of.get(err.field, err.field)
            where = f"line {line}: " if line else ""
            value = f' "{shorten(err.value)}"' if err.value else ""
            self.result.add_error(line, header, err.value, f"{where}{header}{value} {err.message}")

    def _match(self, header: list[str]) -> None:
        keys = [header_key(h) for h in header]
        self.index: dict[str, int] = {}
        self.header_of: dict[str, str] = {}
        used: set[int] = set()
        for column in self.csv_columns:
            names = [*self.extra_headers.get(column.field, []), *column.headers]
            for name in names:
                found = next((i for i, k in enumerate(keys) if k == header_key(name) and i not in used), None)
                if found is not None:
                    self.index[column.field] = found
                    self.header_of[column.field] = header[found].strip()
                    used.add(found)
                    break
        self.metric_columns: list[tuple[int, str, str]] = []  # (index, metric key, header) for wide usage files
        if self.kind == "usage" and "metric" not in self.index:
            by_name: dict[str, str] = {}
            for key, label in UsageMetric.objects.values_list("key", "label"):
                by_name[header_key(key)] = key
                by_name.setdefault(header_key(label), key)
            for i, k in enumerate(keys):
                if i not in used and k in by_name:
                    self.metric_columns.append((i, by_name[k], header[i].strip()))
                    used.add(i)
        matched = sorted(self.index.items(), key=lambda item: item[1])
        self.result.columns = {
            "matched": [[f, self.header_of[f]] for f, _ in matched] + [[m, h] for _, m, h in self.metric_columns],
            "ignored": [h for i, h in enumerate(header) if i not in used and h.strip()],
        }
        missing = [c for c in self.csv_columns if c.required and c.field not in self.index]
        if self.kind == "usage" and "metric" in self.index and "value" not in self.index:
            missing.append(USAGE_COLUMNS[3])
        for column in missing:
            self.result.add_error(None, column.headers[0], "", f'missing required column "{column.headers[0]}"')
        if self.kind == "usage" and "metric" not in self.index and not self.metric_columns:
            self.result.add_error(
                None, "Metric", "", 'no "Metric" column and no column named after a metric (e.g. "Active users")'
            )
        if not self.result.ok:
            raise FileRejected()

    def _rows(self, *, check: bool) -> Iterator[Any]:
        seen: dict[tuple[str, ...], int] = {}
        total = 0
        last_report = 0.0
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                raise FileRejected("the file is empty")
            header = [h.replace("\x00", "\u2400") for h in header]  # shown, never stored, as NUL
            if check:
                self._match([unescape_cell(h.strip()) for h in header])
            width = max([*self.index.values(), *(i for i, _, _ in self.metric_columns)]) + 1
            previous = reader.line_num
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                parsed = self._parse(line, cells, seen, check=check)
                total += len(parsed)
                yield from parsed
                if self.progress is not None and time.monotonic() - last_report > 0.5:
                    last_report = time.monotonic()
                    stage = "reading" if check else "writing"
                    self.progress(Progress(rows=total, bytes=raw.tell(), size=self.size, stage=stage))
        if check:
            self.result.total = total

    def _cell(self, cells: list[str], field: str) -> str:
        index = self.index.get(field)
        return unescape_cell(cells[index].strip()) if index is not None else ""

    def _parse(self, line: int, cells: list[str], seen: dict[tuple[str, ...], int], *, check: bool) -> list[Any]:
        """The row(s) of one line (a wide usage line holds one per metric column); errors recorded in pass 1."""
        report = self._error if check else (lambda *a: None)
        nul = [(f, cells[i]) for f, i in self.index.items() if "\x00" in cells[i]]
        for i, key, header in self.metric_columns:
            self.header_of.setdefault(f"metric:{key}", header)
            if "\x00" in cells[i]:
                nul.append((f"metric:{key}", cells[i]))
        if nul:  # PostgreSQL cannot store it: the line is refused, naming each such cell
            for field, raw in nul:
                report(line, field, raw.strip(), NUL_CELL)
            return []
        account = self._cell(cells, "account")
        bad = False
        if not account:
            report(line, "account", "", "is empty")
            bad = True
        if self.kind == "usage":
            return self._parse_usage(line, cells, account, bad, seen, report)
        return self._parse_ticket(line, cells, account, bad, seen, report)

    def _parse_usage(
        self, line: int, cells: list[str], account: str, bad: bool, seen: dict[tuple[str, ...], int], report: Any
    ) -> list[Any]:
        raw_day = self._cell(cells, "day")
        day = None
        try:
            day = parse_date(raw_day) if raw_day else None
            if day is None:
                report(line, "day", "", "is empty")
        except CellError as exc:
            report(line, "day", raw_day, str(exc))
        pairs: list[tuple[str, str, str]] = []  # (metric key, raw value, field for errors)
        if "metric" in self.index:
            pairs.append((self._cell(cells, "metric"), self._cell(cells, "value"), "value"))
        else:
            for index, key, header in self.metric_columns:
                self.header_of.setdefault(f"metric:{key}", header)
                pairs.append((key, unescape_cell(cells[index].strip()), f"metric:{key}"))
        out: list[UsageRow] = []
        for metric, raw_value, field in pairs:
            if "metric" in self.index and not metric:
                report(line, "metric", "", "is empty")
                bad = True
                continue
            if not raw_value:
                if "metric" in self.index:
                    report(line, field, "", "is empty")
                    bad = True
                continue  # a wide file's empty cell: no report for that metric that day
            try:
                value = parse_count(raw_value)
            except CellError as exc:
                report(line, field, raw_value, str(exc))
                bad = True
                continue
            if day is None or bad:
                continue
            seen_key = (account, metric, day.isoformat())
            first = seen.get(seen_key)
            if first is not None:
                report(line, field, raw_value, f"repeats line {first} (same account, day and metric)")
                bad = True
                continue
            seen[seen_key] = line
            out.append(UsageRow(account, day, metric, value, ref=f"line {line}"))
        return [] if bad or day is None else out

    def _parse_ticket(
        self, line: int, cells: list[str], account: str, bad: bool, seen: dict[tuple[str, ...], int], report: Any
    ) -> list[Any]:
        external_id = self._cell(cells, "external_id")
        if not external_id:
            report(line, "external_id", "", "is empty")
            bad = True
        moments: dict[str, dt.datetime | None] = {"opened_at": None, "closed_at": None}
        for field in moments:
            raw = self._cell(cells, field)
            if not raw:
                if field == "opened_at":
                    report(line, field, "", "is empty")
                    bad = True
                continue
            try:
                moments[field] = parse_moment(raw)
            except CellError as exc:
                report(line, field, raw, str(exc))
                bad = True
        choices: dict[str, str] = {}
        for field, table, default in (("priority", PRIORITIES, "normal"), ("status", STATUSES, "open")):
            raw = self._cell(cells, field)
            if not raw:
                choices[field] = default
                continue
            found = table.get(value_key(raw))
            if found is None:
                report(line, field, raw, f"is not a known {field}")
                bad = True
            else:
                choices[field] = found
        if bad:
            return []
        first = seen.get((external_id,))
        if first is not None:
            report(line, "external_id", external_id, f"repeats line {first}")
            return []
        seen[(external_id,)] = line
        opened = moments["opened_at"]
        assert opened is not None
        return [
            TicketRow(
                account,
                external_id,
                opened,
                moments["closed_at"],
                choices["priority"],
                choices["status"],
                ref=f"line {line}",
            )
        ]
