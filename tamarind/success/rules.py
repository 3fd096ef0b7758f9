"""The success rules as small pure functions over plain values (no database): the plan's color with its reasons
(domain reference, section 5), the objectives a segment and priority need, the new-customer window and the EBR
task window. The thresholds come from the live ``SuccessSettings`` version (``SettingsValues``)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

SEGMENTS: tuple[str, ...] = ("smb", "mid_market", "enterprise")
PRIORITIES: tuple[str, ...] = ("1", "2", "3", "4")
# Commercial = Mid-Market and SMB (domain reference, section 1); the words the reasons use.
SEGMENT_WORDS: dict[str, str] = {"smb": "Commercial (SMB)", "mid_market": "Commercial", "enterprise": "Enterprise"}

DEFAULT_OBJECTIVES_NEEDED: dict[str, dict[str, int]] = {
    "smb": {"1": 3, "2": 1, "3": 1, "4": 1},
    "mid_market": {"1": 3, "2": 1, "3": 1, "4": 1},
    "enterprise": {"1": 1, "2": 1, "3": 1, "4": 1},
}

GREEN, YELLOW, RED = "green", "yellow", "red"


@dataclass(frozen=True)
class SettingsValues:
    """One version of the success settings, as plain values."""

    version: int = 0
    objectives_needed: dict[str, dict[str, int]] = field(default_factory=lambda: DEFAULT_OBJECTIVES_NEEDED)
    activity_days: int = 60
    new_customer_days: int = 60
    ebr_lead_months: int = 7
    ebr_due_days: int = 45
    ebr_target_pct: int = 75
    # New customers are those who became customers within this many days (the coverage's cohort).
    new_customer_lookback_days: int = 365
    # A current plan with no completed manager review for this many days "needs review" (quarterly, domain §5).
    review_due_days: int = 90

    def needed(self, segment: str, priority: int) -> int:
        """Open objectives a green plan of this segment and priority needs (at least 1)."""
        return objectives_needed(self.objectives_needed, segment, priority)


DEFAULT_SETTINGS = SettingsValues()


def objectives_needed(matrix: dict[str, Any], segment: str, priority: int) -> int:
    row = matrix.get(segment) or {}
    value = row.get(str(priority), 1) if isinstance(row, dict) else 1
    return max(1, int(value)) if isinstance(value, int) and not isinstance(value, bool) else 1


def check_objectives_matrix(matrix: Any) -> dict[str, list[str]]:
    """Problems with an objectives-needed matrix as the settings editor and the API send it (empty: fine)."""
    if not isinstance(matrix, dict):
        return {"objectives_needed": ["Expected a mapping of segment to priority to a number."]}
    errors: list[str] = []
    for segment in matrix:
        if segment not in SEGMENTS:
            errors.append(f"Unknown segment {segment!r}.")
    for segment in SEGMENTS:
        row = matrix.get(segment)
        if not isinstance(row, dict):
            errors.append(f"{segment}: missing.")
            continue
        for priority in PRIORITIES:
            value = row.get(priority)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3:
                errors.append(f"{segment} priority {priority}: a whole number from 1 to 3.")
        extra = set(row) - set(PRIORITIES)
        if extra:
            errors.append(f"{segment}: unknown priorities {', '.join(sorted(map(str, extra)))}.")
    return {"objectives_needed": errors} if errors else {}


@dataclass(frozen=True)
class PlanFacts:
    """What the color depends on. ``status`` is ``None`` when the account has no plan."""

    status: str | None
    strategy: bool = False
    highlights: bool = False
    objectives: int = 0
    open_objectives: int = 0
    last_activity: dt.date | None = None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def plan_color(
    facts: PlanFacts, *, segment: str, priority: int, settings: SettingsValues, today: dt.date
) -> tuple[str, list[str]]:
    """(color, reasons): the reasons name each condition of Green the plan does not meet.

    Green: Active, Strategy and Highlights filled, at least the needed open objectives (1; 3 for Commercial
    priority 1), and activity within the last ``activity_days`` days (60 days ago still counts).
    Red: no plan, or no objectives at all. Anything else is Yellow (a draft, a section empty, too few open
    objectives, or no recent activity).
    """
    if facts.status is None:
        return RED, ["no success plan"]
    reasons: list[str] = []
    if facts.status != "active":
        reasons.append("the plan is a draft" if facts.status == "draft" else f"the plan is {facts.status}")
    if not facts.strategy:
        reasons.append("no strategy")
    if not facts.highlights:
        reasons.append("no highlights")
    needed = settings.needed(segment, priority)
    if facts.objectives == 0:
        reasons.append("no objectives")
    elif facts.open_objectives < needed:
        words = SEGMENT_WORDS.get(segment, segment)
        reasons.append(
            f"{_plural(facts.open_objectives, 'open objective')}; {words} priority {priority} needs {needed}"
        )
    if facts.last_activity is None:
        reasons.append("no activity yet")
    else:
        idle = (today - facts.last_activity).days
        if idle > settings.activity_days:
            reasons.append(f"no activity for {idle} days")
    if facts.objectives == 0:
        return RED, reasons
    return (GREEN if not reasons else YELLOW), reasons


def new_customer_window_passed(*, customer_since: dt.date | None, today: dt.date, settings: SettingsValues) -> bool:
    """A new customer (within the lookback) whose window to have a plan is over (day 61 with the default 60)."""
    if customer_since is None:
        return False
    age = (today - customer_since).days
    return settings.new_customer_days < age <= settings.new_customer_lookback_days


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (the 31st becomes the month's last day when it has fewer)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def ebr_window(renewal: dt.date, settings: SettingsValues) -> tuple[dt.date, dt.date]:
    """(opens_on, due_on) of the EBR task for a renewal: ``ebr_lead_months`` before it, due ``ebr_due_days``
    later."""
    opens = add_months(renewal, -settings.ebr_lead_months)
    return opens, opens + dt.timedelta(days=settings.ebr_due_days)


def ebr_task_due(*, renewal: dt.date | None, priority: int, today: dt.date, settings: SettingsValues) -> bool:
    """Whether a priority 1 account's EBR task for this renewal should be open today: from its opening day up to
    the renewal itself."""
    if renewal is None or priority != 1:
        return False
    opens, _ = ebr_window(renewal, settings)
    return opens <= today < renewal
