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


# --- Registrants who did not attend (the "Attended" column) ----------------------------------------------------

ZOOM_HEADER = "Attended,User Name (Original Name),Email,Join Time,Leave Time,Time in Session (minutes)"


def _at(m: int) -> str:
    return (BASE + dt.timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:%S")


def test_no_show_rows_are_registrants_without_intervals(settings):
    settings.TIME_ZONE = "UTC"
    text = (
        f"{ZOOM_HEADER}\n"
        f"Yes,Ann,ann@x.example,{_at(0)},{_at(60)},60\n"
        "No,Nora,nora@x.example,--,--,--\n"
        "no,Zed,zed@x.example,,,0\n"
        "FALSE,Fay,fay@x.example,,,\n"
    )
    parsed = _parse(text)
    assert parsed.ok, parsed.errors
    assert parsed.rows == 4
    assert parsed.attendees["ann@x.example"].attended
    for email, line in (("nora@x.example", 3), ("zed@x.example", 4), ("fay@x.example", 5)):
        a = parsed.attendees[email]
        assert not a.attended and a.intervals == [] and a.lines == [line]
    assert parsed.attendees["nora@x.example"].name == "Nora"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("1", True),
        ("No", False),
        ("n", False),
        ("false", False),
        ("0", False),
        ("", None),
    ],
)
def test_attended_values(raw, expected):
    assert report.parse_attended(raw) is expected


def test_attended_refuses_other_words():
    with pytest.raises(ValueError):
        report.parse_attended("maybe")


def test_a_no_show_row_and_attended_rows_of_one_person_attended(settings):
    settings.TIME_ZONE = "UTC"
    text = (
        "Email,Attended,Join Time,Leave Time,Feedback\n"
        "p@x.example,No,,,\n"
        f"p@x.example,Yes,{_at(0)},{_at(20)},\n"
        f"P@x.example,Yes,{_at(30)},{_at(60)},4\n"
    )
    parsed = _parse(text)
    assert parsed.ok, parsed.errors
    p = parsed.attendees["p@x.example"]
    assert p.attended and p.merged().minutes == 50 and p.feedback == 4 and p.lines == [2, 3, 4]


def test_bad_attended_combinations_are_line_numbered():
    text = (
        "Email,Attended,Join Time,Leave Time,Duration,Feedback\n"
        "yes-no-times@x.example,Yes,,,,\n"
        "no-with-times@x.example,No,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z,60,\n"
        "no-with-join@x.example,No,2026-03-10T16:00:00Z,,,\n"
        "no-with-minutes@x.example,No,,,12,\n"
        "no-with-feedback@x.example,No,,,,5\n"
        "maybe@x.example,Maybe,2026-03-10T16:00:00Z,2026-03-10T17:00:00Z,60,\n"
        "blank@x.example,,,,,\n"
        "backwards@x.example,Yes,2026-03-10T16:30:00Z,2026-03-10T16:00:00Z,,\n"
        "fine@x.example,No,--,--,0,\n"
    )
    errors = _parse(text).errors
    assert "line 2: attended is Yes but the join and leave times are empty" in errors
    assert "line 3: attended is No but the row has a join time and a leave time and a duration" in errors
    assert "line 4: attended is No but the row has a join time" in errors
    assert "line 5: attended is No but the row has a duration" in errors
    assert "line 6: attended is No but the row has a feedback" in errors
    assert 'line 7: attended "Maybe" is not Yes or No' in errors
    assert "line 8: join time is empty" in errors
    assert any(e.startswith("line 9: leave time") and "before join time" in e for e in errors)
    assert not any(e.startswith("line 10") for e in errors)


def test_blank_times_without_an_attended_column_are_errors_with_a_hint():
    errors = _parse("Email,Join Time,Leave Time\nx@y.example,,\n").errors
    assert errors[0].startswith("line 2: join time is empty") and '"Attended" column saying No' in errors[0]


def test_attended_is_no_longer_read_as_a_duration():
    text = "Email,Join Time,Leave Time,Attended\nd@x.example,2026-03-10T16:00:00Z,,45\n"
    errors = _parse(text).errors
    assert 'line 2: attended "45" is not Yes or No' in errors


# Rows of several people, each attended intervals and no-show rows in any order: each person attended exactly
# when one of their rows did, and their merged minutes are those of their attended rows alone.
people_rows = st.lists(
    st.tuples(
        st.sampled_from(["a@x.example", "b@x.example", "C@x.example", "c@x.example"]),
        st.one_of(st.none(), st.tuples(st.integers(0, 600), st.integers(0, 120))),
    ),
    min_size=1,
    max_size=20,
)


@given(people_rows)
def test_mixed_rows_merge_per_person(rows):
    lines = ["Email,Attended,Join Time,Leave Time"]
    for email, span in rows:
        if span is None:
            lines.append(f"{email},No,--,--")
        else:
            join = BASE + dt.timedelta(minutes=span[0])
            leave = join + dt.timedelta(minutes=span[1])
            lines.append(f"{email},Yes,{join.isoformat()},{leave.isoformat()}")
    parsed = report.parse_report(
        iter(io.StringIO("\n".join(lines) + "\n")), starts_at=BASE, ends_at=BASE + dt.timedelta(hours=11)
    )
    assert parsed.ok, parsed.errors
    assert parsed.rows == len(rows)
    for email in {e.lower() for e, _ in rows}:
        mine = [(i + 2, span) for i, (e, span) in enumerate(rows) if e.lower() == email]
        attendee = parsed.attendees[email]
        assert attendee.lines == [line for line, _ in mine]
        spans = [s for _, s in mine if s is not None]
        assert attendee.attended == bool(spans)
        if spans:
            pairs = [(BASE + dt.timedelta(minutes=j), BASE + dt.timedelta(minutes=j + d)) for j, d in spans]
            assert attendee.merged() == report.merge_intervals(pairs)
