"""The shared CSV escape: spreadsheets run nothing an export writes, and importers read back exactly what was written."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamarind.core.csv_safe import FORMULA_START, SafeWriter, csv_lines, escape_cell, unescape_cell

# Text that starts with apostrophes and formula characters far more often than chance would.
_TRICKY = st.sampled_from(["'", "''", "=", "+", "-", "@", "\t", "\r", "\n", '"', ",", " ", "a", "1", "é", "="])
cells = st.builds(lambda head, tail: "".join(head) + tail, st.lists(_TRICKY, max_size=4), st.text(max_size=12))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # a value that starts like an escape is escaped too, so it reads back as itself
        ("''-x", "'''-x"),
        ("'90s", "'90s"),  # a plain leading apostrophe is not an escape: left as it is
        ("'", "'"),
        ("Acme = best", "Acme = best"),
        ("", ""),
        (None, ""),
        (12, "12"),
        (-3, "'-3"),
    ],
)
def test_escape_examples(value, written):
    assert escape_cell(value) == written
    assert unescape_cell(written) == ("" if value is None else str(value))


@pytest.mark.parametrize("cell", ["'90s", "'", "''", "'a=b", "=raw from a CRM", "-5", "plain"])
def test_unescape_leaves_what_no_escape_wrote(cell):
    assert unescape_cell(cell) == cell


@settings(max_examples=500, deadline=None)
@given(value=cells)
def test_unescape_undoes_escape_exactly(value):
    assert unescape_cell(escape_cell(value)) == value


@settings(max_examples=500, deadline=None)
@given(value=cells)
def test_an_escaped_cell_never_starts_a_formula(value):
    written = escape_cell(value)
    assert not written.startswith(FORMULA_START)
    # One apostrophe added, or nothing: the escape never touches the rest of the value.
    assert written in (value, "'" + value)


@settings(max_examples=500, deadline=None)
@given(a=cells, b=cells)
def test_escape_is_one_to_one(a, b):
    if a != b:
        assert escape_cell(a) != escape_cell(b)


@settings(max_examples=500, deadline=None)
@given(value=cells)
def test_unescape_touches_only_cells_that_start_with_an_apostrophe(value):
    if not value.startswith("'"):
        assert unescape_cell(value) == value
    else:
        assert unescape_cell(value) in (value, value[1:])


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=5))
def test_a_file_written_and_read_back_holds_the_same_rows(rows):
    out = io.StringIO(newline="")
    SafeWriter(out).writerows(rows)
    read = [[unescape_cell(c) for c in row] for row in csv.reader(io.StringIO(out.getvalue(), newline=""))]
    assert read == rows
    streamed = "".join(csv_lines(rows))
    assert streamed == out.getvalue()
    for row in csv.reader(io.StringIO(streamed, newline="")):
        assert not any(c.startswith(FORMULA_START) for c in row)
