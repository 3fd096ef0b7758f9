"""The early-warning indicators of domain section 11, as pure functions over one account's signals.

No database, no Django models: ``health_selectors.account_signals`` gathers ``Signals`` for a bounded page of
accounts (a fixed number of queries) and ``evaluate`` says which indicators fired and why. Each indicator has an SQL
twin in ``indicator_sql`` (for counting a whole book); a change to a rule here needs the same change there (the
twins' test compares the two). Every threshold is data
(``Thresholds``), built by ``thresholds_from`` out of the live health model, the onboarding targets, the triage
settings and the ``TAMARIND_EARLY_WARNING`` setting (defaults below; domain section 12 for the call cadence):

- *low utilization*: onboarded (lifecycle stage past Onboarding) and active users / licenses below
  ``utilization_min_pct`` (75% by default, the health model's top utilization band);
- *active users falling*: this month's active users below last month's by more than ``active_drop_pct`` (0%: any fall);
- *no first value*: an open onboarding record whose contract started more than the first-value target ago
  (``OnboardingTargets.first_value_days``, 30) without a first value;
- *no call*: days since the last call or meeting beyond the priority's cadence (``cadence_days``: 1 -> 30,
  2 -> 60; priorities without a cadence are not judged); never a call counts from the contract start;
- *ticket spike*: tickets opened in the last 30 days above the health model's Green support band (5);
- *open urgent ticket*: any;
- *renewal at risk*: next renewal within ``renewal_months`` (6) with a health color other than Green;
- *stalled triage*: an open triage case not updated within its color's days (triage settings: red 14, yellow 30);
- *priority 1 without a green plan*: a priority 1 account whose current success plan is not Green, or that has none
  (domain section 12; the color is the success app's, stored on the plan);
- *no EBR in 12 months*: a priority 1 account without a completed Executive Business Review in the last 12 months;
- *poor survey*: a detractor NPS or a poor CSAT answered in the last ``survey_days`` (90): a score at or below
  ``nps_poor_max`` (6) or ``csat_poor_max`` (2) (the ``TAMARIND_SURVEYS`` setting, ``surveys.scoring``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ONBOARDED_STAGES = frozenset({"adoption", "optimize_grow"})

DEFAULTS: dict[str, Any] = {
    "utilization_min_pct": 75,
    "active_drop_pct": 0,
    "cadence_days": {1: 30, 2: 60},
    "renewal_months": 6,
    "survey_days": 90,
}
SURVEY_LOOKBACK_DAYS = 365  # the answers ``Signals`` holds; ``survey_days`` may not exceed it


@dataclass(frozen=True)
class Thresholds:
    """Every number the indicators use."""

    utilization_min_pct: Decimal = Decimal(75)
    active_drop_pct: Decimal = Decimal(0)
    first_value_days: int = 30
    cadence_days: Mapping[int, int] = field(default_factory=lambda: {1: 30, 2: 60})
    ticket_spike_above: int = 5
    renewal_months: int = 6
    triage_red_days: int = 14
    triage_other_days: int = 30
    survey_days: int = 90
    nps_poor_max: int = 6
    csat_poor_max: int = 2


def thresholds_from(
    *,
    overrides: Mapping[str, Any] | None,
    first_value_days: int,
    support_green: int,
    triage_red_days: int,
    triage_other_days: int,
    renewal_months: int | None = None,
    survey_poor: Mapping[str, int] | None = None,
) -> Thresholds:
    """``Thresholds`` from the data that owns each number; ``overrides`` is the ``TAMARIND_EARLY_WARNING`` setting.

    ``renewal_months`` is the renewals setting "renewal task opens N months before" (when renewals are installed):
    the indicator looks at the same window the renewal work starts in. An explicit ``renewal_months`` in
    ``TAMARIND_EARLY_WARNING`` still wins, so a deployment that pinned it keeps it.
    """
    base = dict(DEFAULTS)
    if renewal_months is not None:
        base["renewal_months"] = renewal_months
    conf = {**base, **(overrides or {})}
    return Thresholds(
        utilization_min_pct=Decimal(str(conf["utilization_min_pct"])),
        active_drop_pct=Decimal(str(conf["active_drop_pct"])),
        first_value_days=first_value_days,
        cadence_days={int(k): int(v) for k, v in dict(conf["cadence_days"]).items()},
        ticket_spike_above=support_green,
        renewal_months=int(conf["renewal_months"]),
        triage_red_days=triage_red_days,
        triage_other_days=triage_other_days,
        survey_days=min(int(conf["survey_days"]), SURVEY_LOOKBACK_DAYS),
        nps_poor_max=int((survey_poor or {}).get("nps", 6)),
        csat_poor_max=int((survey_poor or {}).get("csat", 2)),
    )


@dataclass(frozen=True)
class Signals:
    """What the indicators read of one account. ``None``: not known (the indicator needing it does not fire)."""

    priority: int = 1
    lifecycle_stage: str = "adoption"
    customer_since: dt.date | None = None
    licenses: int | None = None
    active_users: int | None = None
    active_users_prev: int | None = None
    onboarding_open: bool = False
    contract_start: dt.date | None = None
    first_value: dt.date | None = None
    last_engagement: dt.date | None = None
    tickets_last_30d: int | None = None
    open_urgent_tickets: int = 0
    next_renewal_date: dt.date | None = None
    health_color: str | None = None
    triage_color: str | None = None  # the open case's health color at open; None: no open case
    triage_last_update: dt.date | None = None
    # The success plan indicators: "" not known (not judged), "none" no current plan, else the plan's color; the
    # day of the newest completed EBR, judged only when ``ebr_known``.
    success_plan: str = ""
    ebr_known: bool = False
    last_ebr: dt.date | None = None
    # The survey answers of the last ``SURVEY_LOOKBACK_DAYS``: (the local day answered, kind, score), oldest first.
    survey_answers: tuple[tuple[dt.date, str, int], ...] = ()


@dataclass(frozen=True)
class Fired:
    """One indicator that fired for one account, and why (with the figures)."""

    key: str
    label: str
    why: str


Check = Callable[[Signals, Thresholds, dt.date], str | None]


def _pct(part: int, whole: int) -> Decimal:
    return Decimal(part) * 100 / Decimal(whole)


def _fmt(d: Decimal) -> str:
    return f"{d:.0f}"


def low_utilization(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.lifecycle_stage not in ONBOARDED_STAGES or s.active_users is None or not s.licenses:
        return None
    pct = _pct(s.active_users, s.licenses)
    if pct >= t.utilization_min_pct:
        return None
    return (
        f"{s.active_users} active of {s.licenses} licenses ({_fmt(pct)}%) after onboarding, "
        f"below {_fmt(t.utilization_min_pct)}%"
    )


def active_users_falling(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.active_users is None or not s.active_users_prev:
        return None
    drop = _pct(s.active_users_prev - s.active_users, s.active_users_prev)
    if drop <= t.active_drop_pct:
        return None
    return f"active users {s.active_users_prev} -> {s.active_users} month on month (-{_fmt(drop)}%)"


def no_first_value(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if not s.onboarding_open or s.contract_start is None or s.first_value is not None:
        return None
    days = (today - s.contract_start).days
    if days <= t.first_value_days:
        return None
    return f"no first value {days} days after the contract start (target {t.first_value_days})"


def no_call(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    cadence = t.cadence_days.get(s.priority)
    if cadence is None:
        return None
    if s.last_engagement is None:
        if s.customer_since is None or (today - s.customer_since).days <= cadence:
            return None
        return f"no call or meeting logged yet (priority {s.priority}: every {cadence} days)"
    days = (today - s.last_engagement).days
    if days <= cadence:
        return None
    return f"{days} days since the last call or meeting (priority {s.priority}: every {cadence} days)"


def ticket_spike(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.tickets_last_30d is None or s.tickets_last_30d <= t.ticket_spike_above:
        return None
    return f"{s.tickets_last_30d} tickets in the last 30 days (more than {t.ticket_spike_above})"


def open_urgent(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.open_urgent_tickets <= 0:
        return None
    return f"{s.open_urgent_tickets} open urgent ticket{'s' if s.open_urgent_tickets != 1 else ''}"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` on, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    next_first = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (next_first - dt.timedelta(days=1)).day))


def renewal_at_risk(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.next_renewal_date is None or s.health_color in (None, "green"):
        return None
    if not today <= s.next_renewal_date <= add_months(today, t.renewal_months):
        return None
    days = (s.next_renewal_date - today).days
    return f"renews {s.next_renewal_date.isoformat()} (in {days} days) with {s.health_color} health"


def stalled_triage(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.triage_color is None or s.triage_last_update is None:
        return None
    allowed = t.triage_red_days if s.triage_color == "red" else t.triage_other_days
    days = (today - s.triage_last_update).days
    if days <= allowed:
        return None
    return f"triage case not updated for {days} days (every {allowed} days)"


def p1_plan_not_green(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.priority != 1 or s.success_plan in ("", "green"):
        return None
    return "priority 1 with no success plan" if s.success_plan == "none" else f"priority 1 with a {s.success_plan} plan"


def no_ebr_12m(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    if s.priority != 1 or not s.ebr_known:
        return None
    if s.last_ebr is not None and s.last_ebr >= add_months(today, -12):
        return None
    return "no EBR recorded" if s.last_ebr is None else f"last EBR {s.last_ebr.isoformat()}, over 12 months ago"


def poor_survey(s: Signals, t: Thresholds, today: dt.date) -> str | None:
    since = today - dt.timedelta(days=t.survey_days)
    limits = {"nps": t.nps_poor_max, "csat": t.csat_poor_max}
    poor = [
        (day, kind, score)
        for day, kind, score in s.survey_answers
        if since <= day <= today and score <= limits.get(kind, -1)
    ]
    if not poor:
        return None
    day, kind, score = poor[-1]
    label = "a detractor NPS" if kind == "nps" else "a poor CSAT"
    return f"{label} ({score}) answered {day.isoformat()}, within {t.survey_days} days"


INDICATORS: tuple[tuple[str, str, Check], ...] = (
    ("low_utilization", "Utilization below target", low_utilization),
    ("active_users_falling", "Active users falling", active_users_falling),
    ("no_first_value", "No first value", no_first_value),
    ("no_call", "No call within cadence", no_call),
    ("ticket_spike", "Support ticket spike", ticket_spike),
    ("open_urgent", "Open urgent ticket", open_urgent),
    ("renewal_at_risk", "Renewal with non-green health", renewal_at_risk),
    ("stalled_triage", "Stalled triage case", stalled_triage),
    ("p1_plan_not_green", "Priority 1 without a green plan", p1_plan_not_green),
    ("no_ebr_12m", "No EBR in 12 months", no_ebr_12m),
    ("poor_survey", "Poor survey score", poor_survey),
)
LABELS = {key: label for key, label, _ in INDICATORS}


def evaluate(s: Signals, t: Thresholds, *, today: dt.date) -> list[Fired]:
    """The indicators that fire for ``s``, in ``INDICATORS`` order. Deterministic in its arguments."""
    out = []
    for key, label, check in INDICATORS:
        why = check(s, t, today)
        if why is not None:
            out.append(Fired(key=key, label=label, why=why))
    return out
