"""Qualification rules as data, and the pure evaluator that decides them (no database, no Django models).

A rule set is a JSON-able definition::

    {"match": "all", "conditions": [
        {"field": "arr", "op": "gt", "value": "50000"},
        {"field": "segment", "op": "in", "value": ["mid_market", "enterprise"]},
        {"field": "tier", "op": "gte", "value": 2},
    ]}

``match`` is ``all`` (every condition holds) or ``any`` (at least one does); an empty ``all`` qualifies every
account and an empty ``any`` none, as in logic. Each condition compares one account fact with a value. Facts come
in as an ``AccountFacts`` tuple, built by the selectors from the stored account.

A fact that is missing (an account with no product tier, no region) satisfies no condition at all, not even
``not_in``: an account the rules cannot judge does not qualify by accident.

Two forms of one definition: ``evaluate`` explains (each condition with its outcome, for tasks' "why" and the
dry run); ``compile_rules`` returns a predicate over facts built once from closures, which is what the service
path runs over a whole book.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple


class AccountFacts(NamedTuple):
    """What the rules can see of one account. Foreign keys are ids; the tier is its rung (0 = Free)."""

    arr: Decimal
    segment: str
    tier: int | None
    region: int | None
    priority: int
    licenses: int
    engagement_model: str
    lifecycle_stage: str
    has_parent: bool


FACT_INDEX = {name: i for i, name in enumerate(AccountFacts._fields)}

ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "ne": operator.ne,
}
SET_OPS = ("in", "not_in")
OP_LABELS = {
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "is": "is",
}


@dataclass(frozen=True)
class FieldSpec:
    """One fact the rules may test: its label, value kind and the operators that make sense for it."""

    label: str
    kind: str  # "decimal", "int", "rung", "choice", "region", "bool"
    ops: tuple[str, ...]


NUMBER_OPS = tuple(ORDER_OPS)
FIELDS: dict[str, FieldSpec] = {
    "arr": FieldSpec("ARR", "decimal", NUMBER_OPS),
    "licenses": FieldSpec("Number of licenses", "int", NUMBER_OPS),
    "priority": FieldSpec("Priority", "int", (*NUMBER_OPS, *SET_OPS)),
    "tier": FieldSpec("Product tier", "rung", NUMBER_OPS),
    "segment": FieldSpec("Segment", "choice", SET_OPS),
    "region": FieldSpec("Region", "region", SET_OPS),
    "engagement_model": FieldSpec("Engagement model", "choice", SET_OPS),
    "lifecycle_stage": FieldSpec("Lifecycle stage", "choice", SET_OPS),
    "has_parent": FieldSpec("Is a child account", "bool", ("is",)),
}
MATCHES = ("all", "any")


class RuleError(ValueError):
    """A definition that cannot be evaluated; ``errors`` maps a place ("match", "conditions.2.value") to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # Decimal, int, bool, or a frozenset of str/int for the set operators


@dataclass(frozen=True)
class RuleSpec:
    """A validated definition, with values in the types the facts use."""

    match: str
    conditions: tuple[Condition, ...]

    def to_json(self) -> dict[str, Any]:
        return {"match": self.match, "conditions": [_condition_json(c) for c in self.conditions]}


def _condition_json(c: Condition) -> dict[str, Any]:
    value: Any = c.value
    if isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, frozenset):
        value = sorted(value, key=str)
    return {"field": c.field, "op": c.op, "value": value}


def _coerce_scalar(kind: str, raw: Any) -> Any:
    if kind == "decimal":
        if isinstance(raw, bool) or raw is None:
            raise ValueError
        value = Decimal(str(raw).strip())
        if not value.is_finite():
            raise ValueError
        return value
    if kind in ("int", "rung"):
        if isinstance(raw, bool) or raw is None or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        return int(str(raw).strip())
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise ValueError
    if kind == "region":
        if isinstance(raw, bool):
            raise ValueError
        return int(raw)
    text = str(raw).strip()
    if not text:
        raise ValueError
    return text


def parse_rules(
    definition: Any, *, choices: Mapping[str, Iterable[str]] | None = None, regions: Iterable[int] | None = None
) -> RuleSpec:
    """Validate a JSON definition and return it typed, or raise ``RuleError`` naming each bad place.

    ``choices`` limits the values of choice fields (``segment`` -> allowed codes) and ``regions`` the region ids,
    when the caller knows them; without them any value is accepted (the evaluator stays pure).
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(definition, Mapping):
        raise RuleError({"__all__": ["A rule set is an object with 'match' and 'conditions'."]})
    unknown_keys = set(definition) - {"match", "conditions"}
    if unknown_keys:
        errors["__all__"] = [f"Unknown key(s): {', '.join(sorted(map(str, unknown_keys)))}."]
    match = definition.get("match", "all")
    if match not in MATCHES:
        errors["match"] = ["Match is 'all' or 'any'."]
    raw_conditions = definition.get("conditions", [])
    if not isinstance(raw_conditions, list):
        errors["conditions"] = ["Conditions are a list."]
        raw_conditions = []
    region_ids = None if regions is None else set(regions)
    conditions: list[Condition] = []
    for i, raw in enumerate(raw_conditions):
        where = f"conditions.{i}"
        if not isinstance(raw, Mapping) or set(raw) != {"field", "op", "value"}:
            errors[where] = ["Each condition has exactly 'field', 'op' and 'value'."]
            continue
        name, op, value = raw["field"], raw["op"], raw["value"]
        spec = FIELDS.get(name) if isinstance(name, str) else None
        if spec is None:
            errors[f"{where}.field"] = [f"Unknown field {name!r}; one of {', '.join(FIELDS)}."]
            continue
        if op not in spec.ops:
            errors[f"{where}.op"] = [f"{spec.label} takes {', '.join(spec.ops)}, not {op!r}."]
            continue
        if op in SET_OPS and (not isinstance(value, list | tuple) or not value):
            errors[f"{where}.value"] = [f"{spec.label} {OP_LABELS[op]} needs a non-empty list; got {value!r}."]
            continue
        try:
            if op in SET_OPS:
                typed: Any = frozenset(_coerce_scalar(spec.kind, v) for v in value)
            else:
                typed = _coerce_scalar(spec.kind, value)
        except (ValueError, TypeError, InvalidOperation):
            expected = f"{spec.kind} values" if op in SET_OPS else f"a {spec.kind} value"
            errors[f"{where}.value"] = [f"{spec.label} {OP_LABELS[op]} needs {expected}; got {value!r}."]
            continue
        allowed: set[Any] | None = None
        if choices is not None and spec.kind == "choice":
            allowed = set(choices.get(name, ()))
        elif region_ids is not None and spec.kind == "region":
            allowed = region_ids
        if allowed is not None:
            bad = sorted(map(str, set(typed) - allowed))
            if bad:
                errors[f"{where}.value"] = [f"Unknown {spec.label.lower()} value(s): {', '.join(bad)}."]
                continue
        if spec.kind == "rung" and typed < 0:
            errors[f"{where}.value"] = ["A tier rung is 0 or more."]
            continue
        if spec.kind == "decimal" and name == "arr" and typed < 0:
            errors[f"{where}.value"] = ["ARR is never negative."]
            continue
        conditions.append(Condition(field=name, op=op, value=typed))
    if errors:
        raise RuleError(errors)
    return RuleSpec(match=match, conditions=tuple(conditions))


def condition_holds(condition: Condition, facts: AccountFacts) -> bool:
    """Whether one condition holds for one account; a missing fact never satisfies a condition."""
    fact = facts[FACT_INDEX[condition.field]]
    if fact is None:
        return False
    if condition.op == "in":
        return fact in condition.value
    if condition.op == "not_in":
        return fact not in condition.value
    if condition.op == "is":
        return bool(fact) is condition.value
    return ORDER_OPS[condition.op](fact, condition.value)


class ConditionResult(NamedTuple):
    condition: Condition
    holds: bool
    fact: Any


class Verdict(NamedTuple):
    """The decision for one account, with each condition's outcome (the explanation)."""

    qualifies: bool
    results: tuple[ConditionResult, ...]


def evaluate(spec: RuleSpec, facts: AccountFacts) -> Verdict:
    """Decide one account and explain why (the slow, explaining form of ``compile_rules``)."""
    results = tuple(ConditionResult(c, condition_holds(c, facts), facts[FACT_INDEX[c.field]]) for c in spec.conditions)
    combine = all if spec.match == "all" else any
    return Verdict(combine(r.holds for r in results), results)


_SOURCE_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "==", "ne": "!=", "in": "in", "not_in": "not in"}


def _clause(i: int, op: str, index: int) -> str:
    """The Python source of one condition over ``f``: the fact is ``f[index]``, the value is the name ``v{i}``."""
    fact = f"f[{index}]"
    if op == "is":
        return f"({fact} is not None and bool({fact}) is v{i})"
    return f"({fact} is not None and {fact} {_SOURCE_OPS[op]} v{i})"


def compile_rules(spec: RuleSpec, *, offset: int = 0) -> Callable[[Sequence[Any]], bool]:
    """One predicate for the whole set, for evaluating many accounts: same answers as ``evaluate``.

    The predicate is generated as one Python expression (``f[0] is not None and f[0] > v0 and ...``) and compiled
    once, which evaluates several times faster than a chain of closures. Only whitelisted operators and integer
    indexes go into the source; every value is bound as a name, never written into it. ``offset`` lets it read the
    facts straight from a database row that carries other columns first (``row[offset + i]``).
    """
    values = {f"v{i}": c.value for i, c in enumerate(spec.conditions)}
    clauses = [_clause(i, c.op, FACT_INDEX[c.field] + offset) for i, c in enumerate(spec.conditions)]
    if not clauses:
        body = "True" if spec.match == "all" else "False"
    else:
        body = (" and " if spec.match == "all" else " or ").join(clauses)
    code = compile(f"lambda f: bool({body})", "<qualification rules>", "eval")
    # The values are the lambda's globals (a lambda does not close over eval's locals).
    predicate: Callable[[Sequence[Any]], bool] = eval(code, {"__builtins__": {"bool": bool}, **values})  # noqa: S307
    return predicate


def describe(condition: Condition, *, names: Mapping[str, Mapping[Any, str]] | None = None) -> str:
    """``ARR is greater than 50000``; ``names`` turns codes into labels (segment codes, tier rungs, region ids)."""
    spec = FIELDS[condition.field]
    labels = (names or {}).get(condition.field, {})

    def show(v: Any) -> str:
        return str(labels.get(v, v))

    if isinstance(condition.value, frozenset):
        value = ", ".join(sorted(show(v) for v in condition.value))
    else:
        value = show(condition.value)
    return f"{spec.label} {OP_LABELS[condition.op]} {value}"
