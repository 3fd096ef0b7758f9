"""Reading engagement models, placements (an account's model on any day), capacity and the what-if planner."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.shortcuts import get_object_or_404

from tamarind import policy
from tamarind.accounts.models import Account, Segment
from tamarind.assignment.rules import AccountFacts, RuleSpec
from tamarind.engagement.models import CapacitySettings, EngagementModel, Iteration, Placement, PlacementSource
from tamarind.engagement.placement import ModelRule, ordered, parse_criteria
from tamarind.people.models import Region, Role, User

# What placement needs of an account, in AccountFacts order, after its id.
FACT_COLUMNS = (
    "arr",
    "segment",
    "product_tier__rung",
    "region_id",
    "priority",
    "licenses",
    "engagement_model",
    "lifecycle_stage",
    "has_parent",
)


def models_list() -> QuerySet[EngagementModel]:
    return EngagementModel.objects.all()


def engagement_model_get(key: str) -> EngagementModel:
    """One model by key (models are readable by everyone signed in, so there is no per-user scope)."""
    return get_object_or_404(EngagementModel, key=key)


def model_names() -> dict[str, str]:
    return dict(EngagementModel.objects.values_list("key", "name"))


def criteria_choices() -> dict[str, list[str]]:
    return {"segment": list(Segment.values)}


def rules_of(models: Iterable[EngagementModel], *, overrides: Mapping[str, Any] | None = None) -> list[ModelRule]:
    """The active models as placement rules, ordered by precedence; ``overrides`` (key -> criteria, or key ->
    {"criteria": ..., "precedence": ...}) replaces a model's settings in memory (the what-if planner's draft)."""
    rules = []
    for m in models:
        if not m.is_active:
            continue
        criteria, precedence = m.criteria, m.precedence
        draft = (overrides or {}).get(m.key)
        if isinstance(draft, Mapping) and set(draft) and set(draft) <= {"criteria", "precedence"}:
            criteria = draft.get("criteria", criteria)
            precedence = draft.get("precedence", precedence)
        elif draft is not None:
            criteria = draft
        rules.append(ModelRule(m.key, precedence, parse_criteria(criteria)))
    return ordered(rules)


def live_rules() -> list[ModelRule]:
    return rules_of(EngagementModel.objects.all())


def fact_rows(scope: Q | None = None) -> QuerySet[Any]:
    """(pk, *facts, tam_id, region_id, name) per account: one query, facts in ``AccountFacts`` order."""
    qs = Account.objects.all()
    if scope is not None:
        qs = qs.filter(scope)
    return (
        qs.annotate(has_parent=ExpressionWrapper(Q(parent__isnull=False), output_field=BooleanField()))
        .values_list("pk", *FACT_COLUMNS, "tam_id", "region_id", "name")
        .order_by("pk")
    )


def facts_of_row(row: Sequence[Any]) -> AccountFacts:
    return AccountFacts(*row[1 : 1 + len(FACT_COLUMNS)])


def pinned_account_ids(account_ids: Iterable[int] | None = None) -> set[int]:
    """Accounts whose newest placement was made by hand: the rules leave them where they were put."""
    qs = Placement.objects.all()
    if account_ids is not None:
        qs = qs.filter(account_id__in=list(account_ids))
    latest: dict[int, str] = {}
    for account_id, source in qs.order_by("account_id", "placed_at", "id").values_list("account_id", "source"):
        latest[account_id] = source
    return {pk for pk, source in latest.items() if source == "manual"}


def pinned_accounts() -> QuerySet[Any]:
    """``pinned_account_ids`` as a subquery (account ids): manual placements with no newer placement of their
    account (newer: a later ``placed_at``, or the same one and a higher id). Only manual placements are looked at."""
    newer = Placement.objects.filter(account_id=OuterRef("account_id")).filter(
        Q(placed_at__gt=OuterRef("placed_at")) | Q(placed_at=OuterRef("placed_at"), pk__gt=OuterRef("pk"))
    )
    return Placement.objects.filter(source=PlacementSource.MANUAL).filter(~Exists(newer)).values("account_id")


# The account lookup each criteria field tests, and whether the fact can be missing (no product tier).
_CRITERIA_LOOKUPS: dict[str, tuple[str, bool]] = {
    "arr": ("arr", False),
    "segment": ("segment", False),
    "tier": ("product_tier__rung", True),
    "region": ("region_id", False),
    "priority": ("priority", False),
}
_ORDER_LOOKUPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "eq": "exact"}


def criteria_q(spec: RuleSpec) -> Q:
    """A model's criteria (``parse_criteria``'s, every condition must hold) as a filter on ``Account``: the SQL
    form of ``placement.matches``. As there, a missing fact (an account with no product tier) satisfies no
    condition, not even ``not_in``; no conditions at all match every account."""
    q = Q(pk__isnull=False)
    for c in spec.conditions:
        lookup, nullable = _CRITERIA_LOOKUPS[c.field]
        if c.op == "in":
            cond = Q(**{f"{lookup}__in": sorted(c.value, key=str)})
        elif c.op == "not_in":
            cond = ~Q(**{f"{lookup}__in": sorted(c.value, key=str)})
        else:
            cond = Q(**{f"{lookup}__{_ORDER_LOOKUPS[c.op]}": c.value})
        if nullable:
            cond = Q(**{f"{lookup}__isnull": False}) & cond
        q &= cond
    return q


def placement_case(rules: Sequence[ModelRule]) -> Case:
    """The key of the model each account belongs in under ``rules`` (from ``ordered``; '' when none qualifies),
    with pinned accounts kept in their model: ``place`` as one SQL expression over ``Account``."""
    whens = [When(pk__in=pinned_accounts(), then=F("engagement_model"))]
    whens += [When(criteria_q(rule.criteria), then=Value(rule.key)) for rule in rules]
    return Case(*whens, default=Value(""), output_field=CharField())


def placement_history(account: Account) -> QuerySet[Placement]:
    return Placement.objects.filter(account=account).select_related("placed_by").order_by("-placed_at", "-id")


def model_on_day(account: Account, day: dt.date) -> str:
    """The key of the model ``account`` was in on ``day`` ('' for none): the newest move on or before the day;
    before its first recorded move, where that move came from; with no moves at all, its model now."""
    return models_on_day(day, accounts=[account])[account.pk]


def models_on_day(day: dt.date, *, accounts: Sequence[Account] | None = None) -> dict[int, str]:
    """Every account's model on ``day`` (or the given accounts'), from two queries."""
    current = Account.objects.all()
    moves = Placement.objects.all()
    if accounts is not None:
        ids = [a.pk for a in accounts]
        current = current.filter(pk__in=ids)
        moves = moves.filter(account_id__in=ids)
    out: dict[int, str] = dict(current.values_list("pk", "engagement_model"))
    settled: set[int] = set()
    first_later: dict[int, str] = {}
    for account_id, placed_on, from_model, to_model in moves.order_by("account_id", "placed_at", "id").values_list(
        "account_id", "placed_on", "from_model", "to_model"
    ):
        if placed_on <= day:
            out[account_id] = to_model
            settled.add(account_id)
        elif account_id not in settled and account_id not in first_later:
            first_later[account_id] = from_model
    for account_id, from_model in first_later.items():
        if account_id not in settled:
            out[account_id] = from_model
    return out


# --- Capacity ------------------------------------------------------------------------------------------------
def capacity_settings() -> CapacitySettings:
    return CapacitySettings.objects.filter(pk=CapacitySettings.SINGLETON_PK).first() or CapacitySettings()


@dataclass
class TamLoad:
    tam: User
    target_arr: Decimal
    accounts: int = 0
    arr: Decimal = Decimal(0)
    p1: int = 0

    @property
    def p1_share(self) -> float:
        return self.p1 / self.accounts if self.accounts else 0.0

    @property
    def arr_use(self) -> float:
        return float(self.arr / self.target_arr) if self.target_arr else 0.0

    @property
    def over(self) -> bool:
        return self.arr > self.target_arr


@dataclass
class Capacity:
    settings: CapacitySettings
    tams: list[TamLoad]
    regions: list[Region]

    @property
    def p1_target(self) -> float:
        return float(self.settings.target_p1_share)


def _tams(region_id: int | None) -> list[User]:
    qs = User.objects.filter(role=Role.TAM, is_active=True).select_related("region").order_by("full_name", "pk")
    return list(qs.filter(region_id=region_id) if region_id is not None else qs)


def capacity(user: User) -> Capacity:
    """Accounts, ARR and priority 1 share per TAM (of TAM-managed models, or no model) against the targets."""
    row = capacity_settings()
    region_id = policy.capacity_region_id(user)
    tams = _tams(region_id)
    loads = {t.pk: TamLoad(t, t.capacity_arr or row.target_arr_per_tam) for t in tams}
    unmanaged = list(EngagementModel.objects.filter(tam_managed=False).values_list("key", flat=True))
    agg = (
        Account.objects.filter(tam_id__in=list(loads))
        .exclude(engagement_model__in=unmanaged)
        .values("tam_id")
        .annotate(n=Count("pk"), arr=Sum("arr"), p1=Count("pk", filter=Q(priority=1)))
    )
    for a in agg:
        load = loads[a["tam_id"]]
        load.accounts, load.arr, load.p1 = a["n"], a["arr"] or Decimal(0), a["p1"]
    regions = Region.objects.order_by("name")
    return Capacity(row, list(loads.values()), list(regions.filter(pk=region_id) if region_id is not None else regions))


# --- What-if --------------------------------------------------------------------------------------------------
@dataclass
class WhatIf:
    """Today's book placed by the live rules and by a draft, in memory: nothing is written."""

    names: dict[str, str]
    moves: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (from, to) -> [accounts, ARR]
    by_model_now: dict[str, list[Any]] = field(default_factory=dict)
    by_model_draft: dict[str, list[Any]] = field(default_factory=dict)
    region_arr: dict[int, Decimal] = field(default_factory=dict)  # TAM-managed ARR per region under the draft
    region_tams: dict[int, int] = field(default_factory=dict)
    region_names: dict[int, str] = field(default_factory=dict)
    tam_arr: dict[int, Decimal] = field(default_factory=dict)
    tam_targets: dict[int, Decimal] = field(default_factory=dict)
    tam_names: dict[int, str] = field(default_factory=dict)
    target: Decimal = Decimal(0)
    accounts: int = 0

    def move_rows(self) -> list[dict[str, Any]]:
        rows = [
            {
                "from": self.names.get(a, a) or "(none)",
                "to": self.names.get(b, b) or "(none)",
                "accounts": v[0],
                "arr": v[1],
                "from_key": a,
                "to_key": b,
            }
            for (a, b), v in self.moves.items()
            if a != b
        ]
        return sorted(rows, key=lambda r: (-r["arr"], r["from"], r["to"]))

    def moved(self) -> tuple[int, Decimal]:
        rows = self.move_rows()
        return sum(r["accounts"] for r in rows), sum((r["arr"] for r in rows), Decimal(0))

    def region_rows(self) -> list[dict[str, Any]]:
        out = []
        for rid, name in sorted(self.region_names.items(), key=lambda kv: kv[1]):
            arr = self.region_arr.get(rid, Decimal(0))
            needed = math.ceil(arr / self.target) if self.target else 0
            have = self.region_tams.get(rid, 0)
            out.append({"region": name, "arr": arr, "needed": needed, "have": have, "gap": needed - have})
        return out

    def over_rows(self) -> list[dict[str, Any]]:
        rows = [
            {"tam": self.tam_names[t], "arr": arr, "target": self.tam_targets[t]}
            for t, arr in self.tam_arr.items()
            if arr > self.tam_targets[t]
        ]
        return sorted(rows, key=lambda r: -r["arr"])


def _add(bucket: dict[Any, list[Any]], key: Any, count: int, arr: Decimal) -> None:
    cell = bucket.setdefault(key, [0, Decimal(0)])
    cell[0] += count
    cell[1] += arr


def whatif(user: User, overrides: Mapping[str, Any]) -> WhatIf:
    """Apply a draft (model key -> criteria, or {"criteria", "precedence"}) to today's book; nothing is written.

    The database places every account under the draft (``placement_case``) and counts the accounts and sums the
    ARR per (model now, model under the draft, region, TAM) in one grouped query; the cells are added up here.
    Pinned accounts (placed by hand) stay where they are, as they would under the rules. Raises ``RuleError``
    for a draft that does not parse. A manager sees their region's book; directors and admins the whole book.
    """
    all_models = list(EngagementModel.objects.all())
    rules = rules_of(all_models, overrides=overrides)
    unmanaged = {m.key for m in all_models if not m.tam_managed}
    row = capacity_settings()
    region_id = policy.capacity_region_id(user)
    scope = Q(region_id=region_id) if region_id is not None else None
    out = WhatIf(names={m.key: m.name for m in all_models}, target=row.target_arr_per_tam)
    regions = Region.objects.order_by("name")
    out.region_names = dict(
        (regions.filter(pk=region_id) if region_id is not None else regions).values_list("pk", "name")
    )
    for t in _tams(region_id):
        out.tam_names[t.pk] = t.full_name
        out.tam_targets[t.pk] = t.capacity_arr or row.target_arr_per_tam
        out.tam_arr[t.pk] = Decimal(0)
        if t.region_id is not None:
            out.region_tams[t.region_id] = out.region_tams.get(t.region_id, 0) + 1
    accounts = Account.objects.all() if scope is None else Account.objects.filter(scope)
    cells = (
        accounts.annotate(draft=placement_case(rules))
        .values_list("engagement_model", "draft", "region_id", "tam_id")
        .annotate(n=Count("pk"), arr=Sum("arr"))
        .order_by()
    )
    for now, draft, region, tam_id, count, arr_sum in cells:
        arr: Decimal = arr_sum or Decimal(0)
        out.accounts += count
        _add(out.moves, (now, draft), count, arr)
        _add(out.by_model_now, now, count, arr)
        _add(out.by_model_draft, draft, count, arr)
        if draft and draft not in unmanaged:
            out.region_arr[region] = out.region_arr.get(region, Decimal(0)) + arr
            if tam_id in out.tam_arr:
                out.tam_arr[tam_id] += arr
    return out


def iterations() -> QuerySet[Iteration]:
    return Iteration.objects.select_related("created_by").annotate(n_accounts=Count("members"))


def iteration_get(iteration_id: int) -> Iteration:
    return get_object_or_404(Iteration.objects.select_related("created_by"), pk=iteration_id)
