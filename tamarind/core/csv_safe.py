"""CSV files that are safe to open in a spreadsheet, and read back exactly: the one writer every export uses.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return
before one) as a formula, so a name typed by a user or a CRM could run one on the reader's machine ("CSV
injection"). Every cell an export writes goes through ``escape_cell``, which puts an apostrophe in front of
such a cell: spreadsheets show the text and run nothing. Every importer reads its cells through
``unescape_cell``, which takes exactly that apostrophe off again, so an export imported back is the data
that was exported, character for character.

The escape has to be reversible for values that already start with apostrophes: ``'=x`` (a value, not an
escape) is written ``''=x`` and read back as ``'=x``. The rule is one apostrophe added in front of any run of
apostrophes followed by a formula character, and one taken off when a cell has that shape; a cell with a
leading apostrophe followed by anything else (``'90s``) is left alone both ways.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

# What spreadsheet programs take as the start of a formula (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Any run of apostrophes (possibly none) then a formula character: the shape escape_cell guards.
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"''*[=+\-@\t\r]")
# First characters worth a regex test: apostrophes and formula characters (most cells start otherwise).
_FIRST = frozenset(("'", *FORMULA_START))


def escape_cell(value: Any) -> str:
    """The cell as an export writes it: text, with an apostrophe in front when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text[:1] in _FIRST and _NEEDS_ESCAPE.match(text):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """The value of a cell ``escape_cell`` wrote (a cell it did not touch comes back as it is)."""
    if text[:1] == "'" and _ESCAPED.match(text):
        return text[1:]
    return text


class SafeWriter:
    """``csv.writer`` whose rows are escaped cell by cell (``writerow`` returns what the file's ``write`` did).

    Lines end in CRLF (RFC 4180, what spreadsheets write): ``csv.writer`` quotes a cell holding any character of
    the line terminator, so with CRLF a carriage return or a newline inside a value is quoted and reads back as
    itself; with a bare LF terminator a lone carriage return would be written unquoted and split the row.
    Open files with ``newline=""``.
    """

    def __init__(self, out: Any) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([escape_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file-like object whose ``write`` hands the line back, so a writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one escaped CSV line, for a ``StreamingHttpResponse`` (a long export never sits in memory)."""
    writer = SafeWriter(_Echo())
    for row in rows:
        yield writer.writerow(row)
