"""Reading a webinar platform's attendee report (pure: no database).

Columns (header names compared case- and punctuation-insensitively, common variants accepted): email, name, join
time, leave time, duration in minutes, feedback (optional), attended (optional: Yes/No, true/false, 1/0, as in
Zoom's attendee report, which lists registrants who did not come with "Attended: No" and no times; "--" counts as
empty). A person may appear on several lines (they left and came back, or joined from two devices):
``merge_intervals`` turns their join/leave pairs into the first join, the last leave and the minutes attended,
counting overlapping time once. A person with a no-show line and attended lines attended.

Every problem is reported with its line number: an unknown or missing column (line 1), a time that does not parse,
a leave before its join, a time more than a day outside the session, a feedback score outside 1-5, an attended
value that is not yes or no, "Attended: Yes" without times, "Attended: No" with times, minutes or feedback. Blank
times are a no-show only where the report says so (an "Attended" column saying No): without it they are errors,
so a damaged row is never taken for a registrant who stayed away. The caller imports the file whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone

COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "email": (("Email", "Attendee Email", "Email Address", "User Email", "E-mail", "Participant Email"), True),
    "name": (
        (
            "Name",
            "Attendee Name",
            "Full Name",
            "User Name",
            "Name (Original Name)",
            "User Name (Original Name)",
            "Participant",
        ),
        False,
    ),
    "join": (("Join Time", "Joined", "Join", "Joined At", "Time Joined", "Entry Time", "Join Date Time"), True),
    "leave": (("Leave Time", "Left", "Leave", "Left At", "Time Left", "Exit Time", "Leave Date Time"), True),
    "duration": (
        ("Duration (Minutes)", "Duration", "Duration Minutes", "Minutes", "Time in Session (minutes)"),
        False,
    ),
    "feedback": (("Feedback", "Feedback Score", "Rating", "Score", "Survey Score"), False),
    # Zoom's "Attended" is Yes/No (it was once read as a duration here, which Zoom's report never meant).
    "attended": (("Attended", "Attended?", "Attendance", "Did Attend", "Has Attended", "Showed Up", "Present"), False),
}
YES = frozenset({"yes", "y", "true", "t", "1"})
NO = frozenset({"no", "n", "false", "f", "0"})
# What platforms print in an empty time or duration cell.
BLANKS = frozenset({"", "-", "--", "—", "n/a", "na"})
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y %H:%M:%S",
    "%d %b %Y %H:%M:%S",
)
SLACK = dt.timedelta(days=1)  # times further than this outside the session are impossible
MAX_ERRORS = 200
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Merged:
    """One attendee's merged intervals."""

    first_join: dt.datetime
    last_leave: dt.datetime
    minutes: int


def merge_intervals(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> Merged:
    """The first join, last leave and minutes attended of ``(join, leave)`` pairs (each ``join <= leave``):
    the length of their union (overlaps counted once), in whole minutes rounded half up. Needs one pair."""
    pairs = sorted(intervals)
    if not pairs:
        raise ValueError("merge_intervals needs at least one interval")
    total = dt.timedelta(0)
    start, end = pairs[0]
    last = end
    for join, leave in pairs[1:]:
        last = max(last, leave)
        if join <= end:
            end = max(end, leave)
        else:
            total += end - start
            start, end = join, leave
    total += end - start
    return Merged(first_join=pairs[0][0], last_leave=last, minutes=int((total.total_seconds() + 30) // 60))


def parse_time(raw: str) -> dt.datetime:
    """An aware datetime from the report's text (ISO 8601 or a platform's usual formats; naive times are in the
    server's time zone). ``ValueError`` when it does not parse."""
    text = raw.strip()
    if not text:
        raise ValueError("is empty")
    value: dt.datetime | None = None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in TIME_FORMATS:
            try:
                value = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError("is not a date and time")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def parse_attended(raw: str) -> bool | None:
    """The attended cell: ``True``/``False``, ``None`` when blank (then the times decide). ``ValueError`` else."""
    text = raw.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    if not text:
        return None
    raise ValueError(raw)


@dataclass
class Attendee:
    """One email's lines of the report: its join/leave intervals (none when every line of it says it did not
    attend: a registrant who did not come)."""

    email: str
    name: str = ""
    intervals: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    feedback: int | None = None
    lines: list[int] = field(default_factory=list)

    @property
    def attended(self) -> bool:
        return bool(self.intervals)

    def merged(self) -> Merged:
        return merge_intervals(self.intervals)


@dataclass
class ParsedReport:
    attendees: dict[str, Attendee] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)
        elif len(self.errors) == MAX_ERRORS:
            self.errors.append("… more errors not shown")


def _short(raw: str) -> str:
    return raw if len(raw) <= 60 else raw[:57] + "…"


def match_header(header: list[str], report: ParsedReport) -> dict[str, int]:
    """Column index per field; unknown and missing columns are errors of line 1."""
    index: dict[str, int] = {}
    known = {header_key(n): f for f, (names, _) in COLUMNS.items() for n in names}
    for i, name in enumerate(header):
        key = header_key(name)
        fieldname = known.get(key)
        if fieldname is None:
            if key:
                report.error(f'line 1: unknown column "{_short(name.strip())}"')
            continue
        if fieldname in index:
            report.error(f'line 1: column "{_short(name.strip())}" repeats the {fieldname} column')
            continue
        index[fieldname] = i
    for fieldname, (names, required) in COLUMNS.items():
        if required and fieldname not in index:
            report.error(f'line 1: missing required column "{names[0]}"')
    return index


def parse_report(lines: Iterator[str], *, starts_at: dt.datetime, ends_at: dt.datetime) -> ParsedReport:
    """Read a report's lines (an iterator: the file is streamed, never read whole) into attendees by email
    (lower-cased), with every error line-numbered. A leave time may be missing when the duration is given."""
    report = ParsedReport()
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        report.error("line 1: the file is empty")
        return report
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    index = match_header(header, report)
    if not report.ok:
        return report
    earliest, latest = starts_at - SLACK, ends_at + SLACK
    previous = reader.line_num
    for cells in reader:
        line = previous + 1
        previous = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        report.rows += 1

        def cell(name: str, cells: list[str] = cells) -> str:
            i = index.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        email = cell("email").lower()
        if not email:
            report.error(f"line {line}: email is required")
        elif not EMAIL.match(email) or len(email) > 254 or "\x00" in email:
            report.error(f'line {line}: email "{_short(email)}" is not an email address')
            email = ""
        raw_attended = cell("attended")
        try:
            attended = parse_attended(raw_attended)
        except ValueError:
            report.error(f'line {line}: attended "{_short(raw_attended)}" is not Yes or No')
            continue
        raw_join, raw_leave, raw_duration = (
            "" if cell(n).lower() in BLANKS else cell(n) for n in ("join", "leave", "duration")
        )
        feedback: int | None = None
        raw_feedback = cell("feedback")
        if raw_feedback:
            try:
                score = float(raw_feedback)
                if not score.is_integer() or not 1 <= score <= 5:
                    raise ValueError
                feedback = int(score)
            except ValueError:
                report.error(f'line {line}: feedback "{_short(raw_feedback)}" is not a score from 1 to 5')
        if attended is False:
            # A registrant who did not come: nothing may say they were there.
            given = [
                label
                for label, raw in (("join time", raw_join), ("leave time", raw_leave), ("feedback", raw_feedback))
                if raw
            ]
            if raw_duration and not _is_zero(raw_duration):
                given.append("duration")
            if given:
                report.error(f"line {line}: attended is No but the row has a {' and a '.join(given)}")
                continue
            if email:
                _attendee(report, email, cell("name"), line)
            continue
        if attended is True and not raw_join and not raw_leave:
            report.error(f"line {line}: attended is Yes but the join and leave times are empty")
            continue
        times: dict[str, dt.datetime] = {}
        for name, raw in (("join", raw_join), ("leave", raw_leave)):
            if name == "leave" and not raw and raw_duration and "join" in times:
                try:
                    minutes = float(raw_duration)
                except ValueError:
                    report.error(f'line {line}: duration "{_short(raw_duration)}" is not a number of minutes')
                    continue
                times["leave"] = times["join"] + dt.timedelta(minutes=minutes)
                continue
            try:
                times[name] = parse_time(raw)
            except ValueError as exc:
                label = "join time" if name == "join" else "leave time"
                if raw:
                    report.error(f'line {line}: {label} "{_short(raw)}" {exc}')
                elif "attended" in index:
                    report.error(f"line {line}: {label} {exc}")
                else:
                    report.error(
                        f"line {line}: {label} {exc} (a registrant who did not attend needs an "
                        '"Attended" column saying No)'
                    )
        if "join" in times and "leave" in times:
            join, leave = times["join"], times["leave"]
            if leave < join:
                report.error(f"line {line}: leave time {leave.isoformat()} is before join time {join.isoformat()}")
                times.clear()
            elif join < earliest or leave > latest:
                report.error(
                    f"line {line}: join/leave times {join.isoformat()}–{leave.isoformat()} are more than a day "
                    "outside the session"
                )
                times.clear()
        if not email or "join" not in times or "leave" not in times:
            continue
        attendee = _attendee(report, email, cell("name"), line)
        attendee.intervals.append((times["join"], times["leave"]))
        if feedback is not None:
            attendee.feedback = feedback
    if report.rows == 0 and report.ok:
        report.error("line 2: the report has no attendee rows")
    return report


def _is_zero(raw: str) -> bool:
    try:
        return float(raw) == 0
    except ValueError:
        return False


def _attendee(report: ParsedReport, email: str, name: str, line: int) -> Attendee:
    """The email's attendee (made on its first line), its first non-empty name kept, ``line`` noted."""
    attendee = report.attendees.get(email)
    if attendee is None:
        attendee = report.attendees[email] = Attendee(email=email)
    if name and not attendee.name:
        attendee.name = name[:200]
    attendee.lines.append(line)
    return attendee
