"""Reading the rules and the accounts' standing against them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.shortcuts import get_object_or_404

from tamarind.accounts.models import Account, EngagementModel, LifecycleStage, ProductTier, Segment
from tamarind.assignment.models import Qualification, RuleSetVersion
from tamarind.assignment.rules import (
    AccountFacts,
    Condition,
    RuleSpec,
    compile_rules,
    describe,
    evaluate,
    parse_rules,
)
from tamarind.core.bulk import chunks
from tamarind.people.models import Region, Role, User

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
    "has_parent",
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
    """AccountFacts from the FACT_COLUMNS values of one row."""
    return AccountFacts(*values)


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
    """ROW_COLUMNS of the given accounts (all when None), a chunk at a time.

    The facts come first and in ``AccountFacts`` order, so the compiled rules read them straight from the row
    (``compile_rules(spec, offset=1)``). The whole book streams from one query (a server-side cursor on
    PostgreSQL); given ids are read in chunks of ``chunk``.
    """
    base = Account.objects.annotate(
        has_parent=ExpressionWrapper(Q(parent__isnull=False), output_field=BooleanField())
    ).values_list(*ROW_COLUMNS)
    if account_ids is not None:
        for ids in chunks(sorted(set(account_ids)), chunk):
            yield list(base.filter(pk__in=ids))
        return
    rows: list[tuple[Any, ...]] = []
    for row in base.order_by("pk").iterator(chunk_size=chunk):
        rows.append(row)
        if len(rows) == chunk:
            yield rows
            rows = []
    if rows:
        yield rows


def live_rules() -> RuleSetVersion:
    """The version in force. Migration 0002 seeds version 1, so there always is one."""
    live = RuleSetVersion.objects.live()
    if live is None:
        raise RuntimeError("No qualification rules: run `tamarind migrate`.")
    return live


def rule_versions() -> QuerySet[RuleSetVersion]:
    return RuleSetVersion.objects.select_related("created_by").order_by("-version")


def rule_version(version: int) -> RuleSetVersion:
    """One saved version (rules are readable by everyone signed in, so there is no per-user scope)."""
    return get_object_or_404(RuleSetVersion.objects.select_related("created_by"), version=version)


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


def staffing_preview(user: User, *, limit: int = 10) -> tuple[list[Qualification], int]:
    """The first ``limit`` rows of ``staffing_list`` (with the account and its region only) and how many rows the
    list has. Two queries: the rows walk the newest qualifications and stop at ``limit``, which a count over the
    same query (a window) would not let them do."""
    from tamarind import policy

    qs = Qualification.objects.to_staff()
    scope = policy.qualification_scope(user)
    if scope is not None:
        qs = qs.filter(scope)
    rows = list(qs.select_related("account", "account__region").order_by("-qualified_at", "account__name")[:limit])
    return rows, qs.count()


def disengagement_list(user: User) -> QuerySet[Qualification]:
    """Accounts that stopped qualifying and wait for a disengagement review."""
    visible = Account.objects.visible_to(user)
    return (
        Qualification.objects.flagged_for_disengagement()
        .filter(account__in=visible)
        .select_related("account", "account__region", "account__tam", "account__product_tier")
        .order_by("-disengagement_flagged_at", "account__name")
    )


@dataclass
class DryRun:
    """What a draft rule set would qualify, against the live rules, over every account (nothing is written)."""

    evaluated: int
    live_count: int
    draft_count: int
    gained_ids: list[int]
    lost_ids: list[int]
    gained: list[Account]
    lost: list[Account]


def rules_dry_run(draft: RuleSpec, *, sample: int = 50) -> DryRun:
    """Evaluate ``draft`` and the live rules side by side; ``gained``/``lost`` hold the first ``sample`` accounts
    that would start or stop qualifying, by ARR."""
    live = compile_rules(live_rules().spec(), offset=1)
    candidate = compile_rules(draft, offset=1)
    evaluated = live_count = draft_count = 0
    gained: list[tuple[Any, int]] = []
    lost: list[tuple[Any, int]] = []
    for rows in account_rows(None):
        for row in rows:
            was, will = live(row), candidate(row)
            live_count += was
            draft_count += will
            if will and not was:
                gained.append((row[1], row[0]))
            elif was and not will:
                lost.append((row[1], row[0]))
        evaluated += len(rows)
    gained.sort(reverse=True)
    lost.sort(reverse=True)

    def accounts(pairs: list[tuple[Any, int]]) -> list[Account]:
        ids = [pk for _, pk in pairs[:sample]]
        found = Account.objects.with_owners().in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]

    return DryRun(
        evaluated=evaluated,
        live_count=live_count,
        draft_count=draft_count,
        gained_ids=[pk for _, pk in gained],
        lost_ids=[pk for _, pk in lost],
        gained=accounts(gained),
        lost=accounts(lost),
    )


def tams_by_region() -> dict[int | None, list[User]]:
    """Active TAMs grouped by region (one query), for the inline "assign a TAM" pickers."""
    grouped: dict[int | None, list[User]] = {}
    for tam in User.objects.active().filter(role=Role.TAM).order_by("full_name"):
        grouped.setdefault(tam.region_id, []).append(tam)
    return grouped


@dataclass(frozen=True)
class Standing:
    """An account against the live rules, for its page: the stored standing and, explained, today's verdict."""

    qualification: Qualification | None
    live: RuleSetVersion
    qualifies: bool
    reasons: list[tuple[str, bool]]  # each condition in words, and whether it holds


def account_standing(account: Account) -> Standing:
    """The account page's "Qualification for a TAM" panel (a fixed three queries)."""
    live = live_rules()
    vocab = vocabulary()
    verdict = evaluate(live.spec(), facts_of(account))
    return Standing(
        qualification=Qualification.objects.filter(account=account).first(),
        live=live,
        qualifies=verdict.qualifies,
        reasons=[(vocab.describe(r.condition), r.holds) for r in verdict.results],
    )


# --- What setting a TAM does to an account's onboarding ------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingOutcome:
    """What setting a TAM does to the account's onboarding: ``start`` (a new record for the TAM), ``handover``
    (the open record follows the TAM) or ``""`` (no record), and the words the pages show for it."""

    action: str
    note: str

    @property
    def onboards(self) -> bool:
        return bool(self.action)


def onboarding_outcome(*, qualifies: bool, lifecycle: str, open_record: bool, any_record: bool) -> OnboardingOutcome:
    """The one rule the assignment service applies when a TAM is set, and that every page promises (domain §3-4).

    - an open onboarding record follows the account's TAM, whatever the account's standing;
    - a qualifying account in the Onboarding stage that was never onboarded gets its record (§3: once a TAM is set,
      an onboarding record is created for that TAM);
    - an account past onboarding (Adoption, Optimize and Grow, Will Churn) gets none: §4 ends an onboarding by
      moving the account to Adoption, so its stage says it has been onboarded; a record would start with its
      time-to-value clocks months past target. Nor does an account onboarded before, or one that does not qualify.
    """
    if open_record:
        return OnboardingOutcome("handover", "Takes over its open onboarding")
    if not qualifies:
        return OnboardingOutcome("", "Does not qualify for a TAM: no onboarding record")
    if lifecycle != LifecycleStage.ONBOARDING:
        stage = LifecycleStage(lifecycle).label if lifecycle in LifecycleStage.values else lifecycle
        return OnboardingOutcome("", f"Past onboarding ({stage}): no onboarding record")
    if any_record:
        return OnboardingOutcome("", "Onboarded before: no new onboarding record")
    return OnboardingOutcome("start", "Starts onboarding")


def onboarding_records(account_ids: Sequence[int]) -> dict[int, tuple[bool, bool]]:
    """Account id -> (has an open onboarding record, has any), for ``onboarding_outcome``. One query per 5,000."""
    from tamarind.onboarding.models import OPEN_STATUSES, Onboarding

    found: dict[int, tuple[bool, bool]] = {}
    for chunk in chunks(sorted(set(account_ids)), 5000):
        for account_id, status in Onboarding.objects.filter(account_id__in=chunk).values_list("account_id", "status"):
            was_open = found.get(account_id, (False, False))[0]
            found[account_id] = (was_open or status in OPEN_STATUSES, True)
    return found


def staffing_outcomes(accounts: Sequence[Account], *, qualifies: bool = True) -> dict[int, OnboardingOutcome]:
    """What assigning a TAM would do to each of ``accounts``' onboarding (the list pages' promise). One query."""
    records = onboarding_records([a.pk for a in accounts])
    return {
        a.pk: onboarding_outcome(
            qualifies=qualifies,
            lifecycle=a.lifecycle_stage,
            open_record=records.get(a.pk, (False, False))[0],
            any_record=records.get(a.pk, (False, False))[1],
        )
        for a in accounts
    }
