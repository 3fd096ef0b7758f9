"""The attendee report's pure parts: merging join/leave rows (Hypothesis against a minute-by-minute restatement),
time parsing, header variants and line-numbered errors."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamarind.webinars import report
from tamarind.webinars.tests.factories import END, START

BASE = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)

intervals = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 120)).map(
        lambda p: (BASE + dt.timedelta(seconds=60 * p[0]), BASE + dt.timedelta(seconds=60 * (p[0] + p[1])))
    ),
    min_size=1,
    max_size=12,
)


@given(intervals)
def test_merge_counts_overlapping_minutes_once(pairs):
    merged = report.merge_intervals(pairs)
    covered = set()
    for join, leave in pairs:
        a = int((join - BASE).total_seconds() // 60)
        b = int((leave - BASE).total_seconds() // 60)
        covered |= set(range(a, b))
    assert merged.minutes == len(covered)
    assert merged.first_join == min(j for j, _ in pairs)
    assert merged.last_leave == max(v for _, v in pairs)


@given(intervals, st.randoms())
def test_merge_ignores_row_order(pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    assert report.merge_intervals(shuffled) == report.merge_intervals(pairs)


@given(intervals)
def test_merge_never_exceeds_the_span_or_the_sum(pairs):
    merged = report.merge_intervals(pairs)
    span = (merged.last_leave - merged.first_join).total_seconds() / 60
    total = sum((v - j).total_seconds() for j, v in pairs) / 60
    assert merged.minutes <= span + 0.5
    assert merged.minutes <= total + 0.5


def test_merge_examples():
    t = lambda m: BASE + dt.timedelta(minutes=m)  # noqa: E731
    assert report.merge_intervals([(t(0), t(30)), (t(20), t(50))]).minutes == 50
    assert report.merge_intervals([(t(0), t(10)), (t(20), t(30))]).minutes == 20
    assert report.merge_intervals([(t(0), t(60)), (t(10), t(20))]).minutes == 60
    assert report.merge_intervals([(t(0), t(10)), (t(10), t(20))]).minutes == 20
    with pytest.raises(ValueError):
        report.merge_intervals([])


@pytest.mark.parametrize(
    "raw",
    [
        "2026-03-10T16:05:00Z",
        "2026-03-10 16:05:00",
        "03/10/2026 04:05:00 PM",
        "Mar 10, 2026 16:05:00",
        "2026-03-10 16:05",
    ],
)
def test_parse_time_formats(raw, settings):
    settings.TIME_ZONE = "UTC"
    assert report.parse_time(raw).replace(tzinfo=None) == dt.datetime(2026, 3, 10, 16, 5)


def _parse(text: str):
    return report.parse_report(iter(io.StringIO(text)), starts_at=START, ends_at=END)


def test_header_variants_are_accepted():
    text = (
        "Attendee Email,User Name,Joined,Left,Time in Session (minutes),Rating\n"
        "A@X.example,Ann,2026-03-10T16:00:00Z,2026-03-10T16:30:00Z,30,5\n"
        "a@x.example,Ann,2026-03-10T16:20:00Z,2026-03-10T17:00:00Z,40,4\n"
    )
    parsed = _parse(text)
    assert parsed.ok, parsed.errors
    a = parsed.attendees["a@x.example"]
    assert a.merged().minutes == 60 and a.feedback == 4 and a.lines == [2, 3]


def test_unknown_and_missing_headers_are_line_one_errors():
    parsed = _parse("Email,Shoe size,Join Time\nx@y.example,9,2026-03-10T16:00:00Z\n")
    assert 'line 1: unknown column "Shoe size"' in parsed.errors
    assert 'line 1: missing required column "Leave Time"' in parsed.errors


def test_impossible_times_are_reported_with_their_lines():
    text = (
        "Email,Join Time,Leave Time,Feedback\n"
        "ok@x.example,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z,5\n"
        "back@x.example,2026-03-10T16:30:00Z,2026-03-10T16:00:00Z,\n"
        "far@x.example,2026-03-14T16:00:00Z,2026-03-14T17:00:00Z,\n"
        "bad@x.example,yesterday-ish,2026-03-10T17:00:00Z,\n"
        "score@x.example,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z,7\n"
        "not-an-email,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z,\n"
    )
    errors = _parse(text).errors
    assert any(e.startswith("line 3: leave time") and "before join time" in e for e in errors)
    assert any(e.startswith("line 4:") and "more than a day outside the session" in e for e in errors)
    assert any(e.startswith('line 5: join time "yesterday-ish"') for e in errors)
    assert any(e.startswith('line 6: feedback "7"') for e in errors)
    assert any(e.startswith('line 7: email "not-an-email"') for e in errors)
    assert not any(e.startswith("line 2") for e in errors)


def test_leave_from_duration_and_a_day_of_slack():
    text = "Email,Join Time,Leave Time,Duration\nd@x.example,2026-03-09T17:00:00Z,,45\n"
    parsed = _parse(text)
    assert parsed.ok, parsed.errors
    assert parsed.attendees["d@x.example"].merged().minutes == 45


def test_empty_file_and_header_only():
    assert _parse("").errors == ["line 1: the file is empty"]
    assert _parse("Email,Join Time,Leave Time\n").errors == ["line 2: the report has no attendee rows"]
