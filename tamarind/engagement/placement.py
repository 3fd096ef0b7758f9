"""Which engagement model an account belongs in: pure functions over criteria and account facts (no database).

A model's qualification criteria are written like the assignment rules (``assignment.rules``): a definition
``{"match": "all", "conditions": [...]}`` over ARR, segment, product tier (rung), priority and region. Every
condition must hold (``match`` is always ``all`` here, so that two models' criteria are boxes whose overlap can
be decided exactly).

Two models whose criteria can both hold for one account overlap; an overlap is allowed only when both carry a
precedence and the precedences differ (the lower number wins). ``overlap`` decides it, ``place`` applies it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tamarind.assignment.rules import AccountFacts, Condition, RuleError, RuleSpec, condition_holds, parse_rules

# The facts a model's criteria may test (domain section 10: ARR range, segment, tier, priority, region).
CRITERIA_FIELDS: tuple[str, ...] = ("arr", "segment", "tier", "priority", "region")


def parse_criteria(
    definition: Any, *, choices: Mapping[str, Iterable[str]] | None = None, regions: Iterable[int] | None = None
) -> RuleSpec:
    """Validate a model's criteria; raises ``RuleError`` naming each bad place."""
    spec = parse_rules(definition, choices=choices, regions=regions)
    errors: dict[str, list[str]] = {}
    if spec.match != "all":
        errors["match"] = ["A model's criteria must all hold ('match': 'all')."]
    for i, c in enumerate(spec.conditions):
        if c.field not in CRITERIA_FIELDS:
            errors[f"conditions.{i}.field"] = [f"A model's criteria test {', '.join(CRITERIA_FIELDS)}; not {c.field}."]
        elif c.op == "ne":
            errors[f"conditions.{i}.op"] = ["Use 'not_in' rather than 'ne' in a model's criteria."]
    if errors:
        raise RuleError(errors)
    return spec


@dataclass(frozen=True)
class ModelRule:
    """One model as placement sees it: its key, its precedence (``None``: none set) and its parsed criteria."""

    key: str
    precedence: int | None
    criteria: RuleSpec


def matches(rule: ModelRule, facts: AccountFacts) -> bool:
    return all(condition_holds(c, facts) for c in rule.criteria.conditions)


def _order(rule: ModelRule) -> tuple[int, int, str]:
    # A model with a precedence beats one without; lower precedence numbers win; the key breaks a tie
    # deterministically (ties between overlapping models are refused when saved, see ``overlap``).
    return (0, rule.precedence, rule.key) if rule.precedence is not None else (1, 0, rule.key)


def ordered(rules: Iterable[ModelRule]) -> list[ModelRule]:
    return sorted(rules, key=_order)


def place(rules: Sequence[ModelRule], facts: AccountFacts) -> str:
    """The key of the model ``facts`` belong in ('' when none qualifies). ``rules`` must come from ``ordered``."""
    for rule in rules:
        if matches(rule, facts):
            return rule.key
    return ""


# --- Overlap -------------------------------------------------------------------------------------------------
@dataclass
class _Range:
    """A set of numbers: an interval (each end open or closed, ``None`` unbounded) and finite in/out sets."""

    low: Decimal | None = None
    low_open: bool = False
    high: Decimal | None = None
    high_open: bool = False
    allowed: set[Any] | None = None  # None: any value
    excluded: set[Any] = field(default_factory=set)

    def narrow(self, c: Condition) -> None:
        v = c.value
        if c.op == "in":
            vals = set(v)
            self.allowed = vals if self.allowed is None else self.allowed & vals
        elif c.op == "not_in":
            self.excluded |= set(v)
        elif c.op == "eq":
            self.allowed = {v} if self.allowed is None else self.allowed & {v}
        elif c.op in ("gt", "gte"):
            value, is_open = Decimal(v), c.op == "gt"
            if self.low is None or value > self.low or (value == self.low and is_open):
                self.low, self.low_open = value, is_open
        elif c.op in ("lt", "lte"):
            value, is_open = Decimal(v), c.op == "lt"
            if self.high is None or value < self.high or (value == self.high and is_open):
                self.high, self.high_open = value, is_open

    def contains(self, x: Any) -> bool:
        if x in self.excluded:
            return False
        if self.allowed is not None and x not in self.allowed:
            return False
        d = Decimal(x)
        if self.low is not None and (d < self.low or (d == self.low and self.low_open)):
            return False
        return not (self.high is not None and (d > self.high or (d == self.high and self.high_open)))

    def nonempty(self, *, integer: bool) -> bool:
        if self.allowed is not None:
            return any(self.contains(x) for x in self.allowed)
        if (
            self.low is not None
            and self.high is not None
            and (self.low > self.high or (self.low == self.high and (self.low_open or self.high_open)))
        ):
            return False
        if not integer:
            # A real interval with room in it has infinitely many points; finite exclusions cannot empty it.
            return not (self.low is not None and self.low == self.high and self.low in self.excluded)
        lo = None
        if self.low is not None:
            lo = math.ceil(self.low)
            if self.low_open and lo == self.low:
                lo += 1
        hi = None
        if self.high is not None:
            hi = math.floor(self.high)
            if self.high_open and hi == self.high:
                hi -= 1
        if lo is not None and hi is not None:
            if lo > hi:
                return False
            return any(n not in self.excluded for n in range(lo, min(hi, lo + len(self.excluded)) + 1))
        return True


def _set_nonempty(conditions: list[Condition]) -> bool:
    allowed: set[Any] | None = None
    excluded: set[Any] = set()
    for c in conditions:
        if c.op == "in":
            allowed = set(c.value) if allowed is None else allowed & set(c.value)
        elif c.op == "not_in":
            excluded |= set(c.value)
    return allowed is None or bool(allowed - excluded)


_INTEGER_FIELDS = {"tier": True, "priority": True, "arr": False}


def overlap(a: RuleSpec, b: RuleSpec) -> bool:
    """Whether some account could satisfy both criteria (both are conjunctions over the criteria fields)."""
    by_field: dict[str, list[Condition]] = {}
    for c in (*a.conditions, *b.conditions):
        by_field.setdefault(c.field, []).append(c)
    for name, conditions in by_field.items():
        if name in _INTEGER_FIELDS:
            rng = _Range()
            for c in conditions:
                rng.narrow(c)
            if not rng.nonempty(integer=_INTEGER_FIELDS[name]):
                return False
        elif not _set_nonempty(conditions):
            return False
    return True


def conflicts(rule: ModelRule, others: Iterable[ModelRule]) -> list[str]:
    """Keys of the models ``rule`` overlaps without a precedence that settles which wins."""
    found = []
    for other in others:
        if other.key == rule.key or not overlap(rule.criteria, other.criteria):
            continue
        if rule.precedence is None or other.precedence is None or rule.precedence == other.precedence:
            found.append(other.key)
    return sorted(found)
