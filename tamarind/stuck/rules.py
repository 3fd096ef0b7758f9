"""The stuck-customer rules (domain section 10: the pooled model's triage), as pure functions over one pooled
account's facts.

No database: ``selectors.stuck_facts`` gathers ``StuckFacts`` for every pooled account in a fixed number of
queries and ``evaluate`` says which enabled rules fire and why. Each rule is a ``StuckRule`` row (data): its kind
picks the function below, its ``params`` the thresholds (validated by ``clean_params``; a missing one takes the
default of ``PARAMS``). The six kinds:

- *low utilization*: at least ``months`` (3) into the contract and active users / licenses below ``min_pct``
  (75%);
- *no first value*: more than ``days`` (30) after the contract start and no first value recorded;
- *poor onboarding score*: the account's onboarding experience score (1-5, from the customer survey or the TAM's
  judgement; the open onboarding's, else the newest completed one's) at or below ``max_score`` (2);
- *no activity*: more than ``days`` (30) since the account's last activity: the newest of its last call or
  meeting, the last day of reported product usage while it has active users, and its last Service Desk request
  (with none of these, counted from the contract start);
- *ticket spike*: at least ``min_tickets`` (5) support tickets opened in the last 30 days and at least ``factor``
  (2) times as many as in the 30 days before;
- *poor survey*: a survey answer in the last ``days`` (90) that is poor: an NPS at or below ``nps_max`` (6, a
  detractor) or a CSAT at or below ``csat_max`` (2); the worst of them is named.

The contract start is the onboarding's, else the account's *customer since*. A fact that is not known (``None``)
makes the rule needing it not fire.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tamarind.core.errors import ValidationFailed
from tamarind.dashboards.indicators import add_months

LOW_UTILIZATION = "low_utilization"
NO_FIRST_VALUE = "no_first_value"
POOR_ONBOARDING = "poor_onboarding"
NO_ACTIVITY = "no_activity"
TICKET_SPIKE = "ticket_spike"
POOR_SURVEY = "poor_survey"
SURVEY_LOOKBACK_DAYS = 365  # the longest ``days`` a poor-survey rule may look back (the facts hold this much)

# Each kind's parameters: name -> (minimum, maximum, default); all whole numbers.
PARAMS: dict[str, dict[str, tuple[int, int, int]]] = {
    LOW_UTILIZATION: {"months": (0, 120, 3), "min_pct": (1, 100, 75)},
    NO_FIRST_VALUE: {"days": (1, 730, 30)},
    POOR_ONBOARDING: {"max_score": (1, 4, 2)},
    NO_ACTIVITY: {"days": (1, 730, 30)},
    TICKET_SPIKE: {"min_tickets": (1, 10_000, 5), "factor": (1, 100, 2)},
    POOR_SURVEY: {"days": (1, SURVEY_LOOKBACK_DAYS, 90), "nps_max": (0, 10, 6), "csat_max": (1, 5, 2)},
}


@dataclass(frozen=True)
class StuckFacts:
    """What the rules read of one pooled account. ``None``: not known."""

    contract_start: dt.date | None = None
    licenses: int | None = None
    active_users: int | None = None
    first_value: dt.date | None = None
    onboarding_score: int | None = None
    last_activity: dt.date | None = None
    tickets_30d: int | None = None
    tickets_prev_30d: int | None = None
    # The survey answers of the last ``SURVEY_LOOKBACK_DAYS``: (the day answered, kind "nps"/"csat", score).
    survey_answers: tuple[tuple[dt.date, str, int], ...] = ()


class RuleLike(Protocol):
    """What a rule function reads of a rule: its parameters (a ``StuckRule`` or a ``RuleSpec``)."""

    @property
    def params(self) -> Any: ...


@dataclass(frozen=True)
class RuleSpec:
    """A rule as plain data (what ``evaluate`` needs of a ``StuckRule`` row)."""

    key: str
    name: str
    kind: str
    params: Mapping[str, int]


def clean_params(kind: str, params: Any) -> dict[str, int]:
    """The parameters of a rule of ``kind``, checked against ``PARAMS`` (every one present, defaults filled in);
    ``ValidationFailed`` naming what is wrong otherwise."""
    if kind not in PARAMS:
        raise ValidationFailed({"kind": [f"Choose one of: {', '.join(PARAMS)}."]})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationFailed({"params": ["Give the parameters as an object of names to whole numbers."]})
    spec = PARAMS[kind]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ValidationFailed({"params": [f"Unknown parameter(s) for {kind}: {', '.join(unknown)}."]})
    out: dict[str, int] = {}
    for name, (low, high, default) in spec.items():
        value = params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed({"params": [f"{name} must be a whole number from {low} to {high}."]})
        out[name] = value
    return out


def param(rule: RuleLike, kind: str, name: str) -> int:
    """One parameter of ``rule`` (the default when it is missing or not a whole number)."""
    value = (rule.params or {}).get(name) if isinstance(rule.params, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int):
        return PARAMS[kind][name][2]
    return value


def low_utilization(f: StuckFacts, rule: RuleLike, today: dt.date) -> str | None:
    months = param(rule, LOW_UTILIZATION, "months")
    min_pct = param(rule, LOW_UTILIZATION, "min_pct")
    if f.contract_start is None or f.active_users is None or not f.licenses:
        return None
    if today < add_months(f.contract_start, months):
        return None
    if f.active_users * 100 >= min_pct * f.licenses:  # exact: no rounding of a percentage
        return None
    pct = f.active_users * 100 / f.licenses
    return (
        f"{f.active_users} active of {f.licenses} licenses ({pct:.0f}%) since {f.contract_start.isoformat()}, "
        f"below {min_pct}% after {months} months"
    )


def no_first_value(f: StuckFacts, rule: RuleLike, today: dt.date) -> str | None:
    days = param(rule, NO_FIRST_VALUE, "days")
    if f.contract_start is None or f.first_value is not None:
        return None
    since = (today - f.contract_start).days
    if since <= days:
        return None
    return f"no first value {since} days after the contract start (by day {days})"


def poor_onboarding(f: StuckFacts, rule: RuleLike, today: dt.date) -> str | None:
    max_score = param(rule, POOR_ONBOARDING, "max_score")
    if f.onboarding_score is None or f.onboarding_score > max_score:
        return None
    return f"onboarding experience score {f.onboarding_score}/5 (poor: {max_score} or less)"


def no_activity(f: StuckFacts, rule: RuleLike, today: dt.date) -> str | None:
    days = param(rule, NO_ACTIVITY, "days")
    since_day = f.last_activity or f.contract_start
    if since_day is None:
        return None
    since = (today - since_day).days
    if since <= days:
        return None
    if f.last_activity is None:
        return f"no call, usage or request since the contract start {since} days ago (more than {days})"
    return f"{since} days without a call, product usage or Service Desk request (more than {days})"


def ticket_spike(f: StuckFacts, rule: RuleLike, today: dt.date) -> str | None:
    min_tickets = param(rule, TICKET_SPIKE, "min_tickets")
    factor = param(rule, TICKET_SPIKE, "factor")
    if f.tickets_30d is None or f.tickets_30d < min_tickets:
        return None
    prev = f.tickets_prev_30d or 0
    if f.tickets_30d < factor * prev:
        return None
    return f"{f.tickets_30d} support tickets in the last 30 days (the 30 days before: {prev})"


def poor_survey(f: StuckFacts, rule: RuleLike, today: dt.date) -> str | None:
    days = param(rule, POOR_SURVEY, "days")
    limits = {"nps": param(rule, POOR_SURVEY, "nps_max"), "csat": param(rule, POOR_SURVEY, "csat_max")}
    since = today - dt.timedelta(days=days)
    poor = [
        (score, kind, day)
        for day, kind, score in f.survey_answers
        if since <= day <= today and kind in limits and score <= limits[kind]
    ]
    if not poor:
        return None
    score, kind, day = min(poor, key=lambda p: (p[0] / (10 if p[1] == "nps" else 5), p[2]))
    label = "NPS" if kind == "nps" else "CSAT"
    scale = "0-10" if kind == "nps" else "1-5"
    more = f" ({len(poor)} poor answers)" if len(poor) > 1 else ""
    return f"{label} {score} on {scale} answered {day.isoformat()}, within {days} days{more}"


Check = Callable[[StuckFacts, RuleLike, dt.date], "str | None"]
CHECKS: dict[str, Check] = {
    LOW_UTILIZATION: low_utilization,
    NO_FIRST_VALUE: no_first_value,
    POOR_ONBOARDING: poor_onboarding,
    NO_ACTIVITY: no_activity,
    TICKET_SPIKE: ticket_spike,
    POOR_SURVEY: poor_survey,
}
assert list(CHECKS) == list(PARAMS), "one check per kind"


def evaluate(facts: StuckFacts, rules: list[RuleSpec], *, today: dt.date) -> list[dict[str, str]]:
    """The reasons the given (enabled) rules fire for, in the rules' order: ``{rule, name, kind, why}`` each."""
    out = []
    for rule in rules:
        check = CHECKS.get(rule.kind)
        why = check(facts, rule, today) if check is not None else None
        if why is not None:
            out.append({"rule": rule.key, "name": rule.name, "kind": rule.kind, "why": why})
    return out
