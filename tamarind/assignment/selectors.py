"""Reading the rules and the accounts' standing against them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from tamarind.accounts.models import Account, EngagementModel, LifecycleStage, ProductTier, Segment
from tamarind.assignment.models import Qualification, RuleSetVersion
from tamarind.assignment.rules import AccountFacts, Condition, RuleSpec, describe, parse_rules
from tamarind.people.models import Region, User

# What the evaluator needs of an account, in AccountFacts order, then what the side effects need.
FACT_COLUMNS = (
    "arr",
    "segment",
    "product_tier__rung",
    "region_id",
    "priority",
    "licenses",
    "engagement_model",
    "lifecycle_stage",
    "parent_id",
)
ROW_COLUMNS = (
    "pk",
    *FACT_COLUMNS,
    "tam_id",
    "region__manager_id",
    "name",
    "qualification__qualifies",
    "qualification__rule_version",
    "qualification__disengagement_flagged_at",
)
N_FACTS = len(FACT_COLUMNS)


def facts_from_row(values: Sequence[Any]) -> AccountFacts:
    """AccountFacts from the FACT_COLUMNS values of one row (``has_parent`` from the parent id)."""
    arr, segment, rung, region, priority, licenses, engagement, lifecycle, parent = values
    return AccountFacts(arr, segment, rung, region, priority, licenses, engagement, lifecycle, parent is not None)


def facts_of(account: Account) -> AccountFacts:
    tier = account.product_tier
    return AccountFacts(
        account.arr,
        account.segment,
        tier.rung if tier is not None else None,
        account.region_id,
        account.priority,
        account.licenses,
        account.engagement_model,
        account.lifecycle_stage,
        account.parent_id is not None,
    )


def account_rows(account_ids: Sequence[int] | None, *, chunk: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
    """ROW_COLUMNS of the given accounts (all when None), a chunk at a time, by primary key."""
    base = Account.objects.order_by("pk").values_list(*ROW_COLUMNS)
    if account_ids is not None:
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), chunk):
            yield list(base.filter(pk__in=ids[start : start + chunk]))
        return
    last = 0
    while True:
        rows = list(base.filter(pk__gt=last)[:chunk])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def live_rules() -> RuleSetVersion:
    """The version in force. Migration 0002 seeds version 1, so there always is one."""
    live = RuleSetVersion.objects.live()
    if live is None:
        raise RuntimeError("No qualification rules: run `tamarind migrate`.")
    return live


def rule_versions() -> QuerySet[RuleSetVersion]:
    return RuleSetVersion.objects.select_related("created_by").order_by("-version")


@dataclass(frozen=True)
class Vocabulary:
    """What the rules' codes mean in this installation: for validation and for showing rules in words."""

    choices: dict[str, list[str]]
    regions: dict[int, str]
    rungs: dict[int, str]

    def names(self) -> dict[str, dict[Any, str]]:
        return {
            "segment": dict(Segment.choices),
            "engagement_model": dict(EngagementModel.choices),
            "lifecycle_stage": dict(LifecycleStage.choices),
            "region": dict(self.regions),
            "tier": dict(self.rungs),
        }

    def parse(self, definition: Any) -> RuleSpec:
        return parse_rules(definition, choices=self.choices, regions=self.regions)

    def describe(self, condition: Condition) -> str:
        return describe(condition, names=self.names())


def vocabulary() -> Vocabulary:
    rungs: dict[int, list[str]] = {}
    for name, rung in ProductTier.objects.order_by("rung", "name").values_list("name", "rung"):
        rungs.setdefault(rung, []).append(name)
    return Vocabulary(
        choices={
            "segment": list(Segment.values),
            "engagement_model": list(EngagementModel.values),
            "lifecycle_stage": list(LifecycleStage.values),
        },
        regions=dict(Region.objects.order_by("name").values_list("pk", "name")),
        rungs={rung: "/".join(names) for rung, names in rungs.items()},
    )


def staffing_list(user: User) -> QuerySet[Qualification]:
    """ "New accounts to staff": qualifying accounts without a TAM that ``user`` may read, newest first."""
    visible = Account.objects.visible_to(user)
    return (
        Qualification.objects.to_staff()
        .filter(account__in=visible)
        .select_related(
            "account", "account__region", "account__product_tier", "account__sal", "account__region__manager"
        )
        .order_by("-qualified_at", "account__name")
    )


def disengagement_list(user: User) -> QuerySet[Qualification]:
    """Accounts that stopped qualifying and wait for a disengagement review."""
    visible = Account.objects.visible_to(user)
    return (
        Qualification.objects.flagged_for_disengagement()
        .filter(account__in=visible)
        .select_related("account", "account__region", "account__tam", "account__product_tier")
        .order_by("-disengagement_flagged_at", "account__name")
    )
