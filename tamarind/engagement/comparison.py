"""The comparison of iterations and models side by side (issue 13): each metric per (iteration, model) group with
its count and 95% interval, and each group's difference from the same model in the first iteration compared,
saying plainly whether it is within the noise.

What a group is: the accounts an iteration recorded in a model (``IterationAccount``, the model on the
iteration's first day). Which records count for a group, per metric:

- time to engage / first value / onboard: onboardings of the group's accounts whose starting date
  (onboarding start; contract start for first value) falls within the iteration's dates. The days are those
  that reached the milestone; the share within target is over all of them (not reached = not within target);
- health mix: each account's last daily health color on or before the iteration's last day (share green,
  with the yellow and red counts);
- stale reviews: accounts whose newest sentiment is older than the health model's staleness on that last day
  (or that have none);
- calls per account: calls and meetings logged within the iteration's dates, per account of the group;
- accounts and ARR per TAM: over the TAMs who held the group's accounts when the iteration started.

Metrics other apps provide are slots in ``METRIC_SLOTS``, measured once their app is installed (otherwise shown
as "not measured yet"); each loads its values for every group in one query:

- success plan coverage (``tamarind.success``): of the group's priority 1 accounts, the share with a success plan
  in place on the iteration's last day (started by then, not archived before). Plans keep no history of their
  color, so a past day's green cannot be known; today's green coverage is on *Success plans*;
- gross and net retention (``tamarind.renewals``): over the group's accounts with ARR in the month the iteration
  started (A) and their ARR in the month it ended, or the latest month with snapshots if that is earlier (B; none:
  0, the account left): sum(min(A, B)) / sum(A) and sum(B) / sum(A), the domain's sums, never averages, with a
  95% interval by the delta method.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Case, Count, Exists, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from tamarind.engagement.models import EngagementModel, Iteration, IterationAccount
from tamarind.engagement.stats import (
    Difference,
    Estimate,
    difference,
    mean,
    ratio,
    ratio_difference,
    share,
)


@dataclass(frozen=True)
class Member:
    """One account of one group, with what the metrics need (read in one query)."""

    iteration_id: int
    account_id: int
    model_key: str
    tam_id: int | None
    arr: Decimal
    color: str
    sentiment_on: dt.date | None
    calls: int


# A slot's values per (iteration id, account id): 0/1 for a share, (numerator, denominator) for a ratio of sums.
# Accounts a slot does not measure (not priority 1; no ARR at the start) are absent.
SlotValues = dict[tuple[int, int], Any]


@dataclass(frozen=True)
class MetricSlot:
    """A metric another app provides: measured once ``app`` is installed, its values loaded by ``load``."""

    app: str
    kind: str  # "share" or "ratio"
    load: Callable[[Sequence[Iteration]], SlotValues]


def _plan_in_place(iterations: Sequence[Iteration]) -> SlotValues:
    """Priority 1 members: 1 when a success plan was in place on the iteration's last day. One query."""
    from tamarind.success.models import SuccessPlan

    in_place = SuccessPlan.objects.filter(
        account=OuterRef("account_id"), start_on__lte=OuterRef("iteration__ends_on")
    ).filter(Q(archived_at__isnull=True) | Q(archived_at__date__gt=OuterRef("iteration__ends_on")))
    rows = (
        IterationAccount.objects.filter(iteration__in=[i.pk for i in iterations], priority=1)
        .annotate(covered=Exists(in_place))
        .values_list("iteration_id", "account_id", "covered")
    )
    return {(it, acc): 1.0 if covered else 0.0 for it, acc, covered in rows}


def _arr_pairs(iterations: Sequence[Iteration]) -> dict[tuple[int, int], tuple[float, float]]:
    """Members with ARR in their iteration's first month: (A, B), B the ARR in its last month or the latest month
    with snapshots if earlier (no snapshot then: 0). Two queries."""
    from tamarind.renewals.models import ArrSnapshot, month_index

    latest = ArrSnapshot.objects.aggregate(m=Max("month_index"))["m"]
    if latest is None or not iterations:
        return {}
    start = {i.pk: month_index(i.starts_on.year, i.starts_on.month) for i in iterations}
    end = {i.pk: min(month_index(i.ends_on.year, i.ends_on.month), latest) for i in iterations}

    def month_of(bounds: dict[int, int]) -> Case:
        return Case(*[When(iteration_id=pk, then=Value(m)) for pk, m in bounds.items()], output_field=IntegerField())

    def arr_at(field: str) -> Subquery:
        snap = ArrSnapshot.objects.filter(account=OuterRef("account_id"), month_index=OuterRef(field))
        return Subquery(snap.values("arr")[:1])

    rows = (
        IterationAccount.objects.filter(iteration__in=list(start))
        .annotate(start_month=month_of(start), end_month=month_of(end))
        .annotate(a=arr_at("start_month"), b=arr_at("end_month"))
        .filter(a__gt=0)
        .values_list("iteration_id", "account_id", "a", "b")
    )
    return {(it, acc): (float(a), float(b or 0)) for it, acc, a, b in rows}


def _gross(iterations: Sequence[Iteration]) -> SlotValues:
    return {k: (min(a, b), a) for k, (a, b) in _arr_pairs(iterations).items()}


def _net(iterations: Sequence[Iteration]) -> SlotValues:
    return {k: (b, a) for k, (a, b) in _arr_pairs(iterations).items()}


METRIC_SLOTS: dict[str, MetricSlot] = {
    "success_plan_coverage": MetricSlot("tamarind.success", "share", _plan_in_place),
    "gross_retention": MetricSlot("tamarind.renewals", "ratio", _gross),
    "net_retention": MetricSlot("tamarind.renewals", "ratio", _net),
}
SLOT_LABELS = {
    "success_plan_coverage": "Success plan in place at the end (priority 1 accounts)",
    "gross_retention": "Gross retention over the iteration",
    "net_retention": "Net retention over the iteration",
}


def available_slots() -> dict[str, MetricSlot]:
    """The slots whose app is installed."""
    return {name: slot for name, slot in METRIC_SLOTS.items() if apps.is_installed(slot.app)}


@dataclass
class Group:
    iteration: Iteration
    model_key: str  # "" = every model of the iteration
    label: str
    members: list[Member] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)
    pairs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # ratio metrics: (num, den) each
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        return len(self.members)

    @property
    def arr(self) -> Decimal:
        return sum((m.arr for m in self.members), Decimal(0))


@dataclass(frozen=True)
class MetricDef:
    key: str
    label: str
    kind: str  # "share", "mean" or "ratio"
    unit: str = ""


@dataclass
class Cell:
    estimate: Estimate
    diff: Difference | None = None
    note: str = ""


@dataclass
class Row:
    metric: MetricDef
    cells: list[Cell]
    slot: bool = False


@dataclass
class Comparison:
    iterations: list[Iteration]
    groups: list[Group]
    rows: list[Row]
    targets: dict[str, int]


def _metrics(targets: dict[str, int]) -> list[MetricDef]:
    return [
        MetricDef("engage_days", "Time to engage (days)", "mean", "days"),
        MetricDef("engage_within", f"Engaged within {targets['engage']} days", "share"),
        MetricDef("first_value_days", "Time to first value (days)", "mean", "days"),
        MetricDef("first_value_within", f"First value within {targets['first_value']} days", "share"),
        MetricDef("onboard_days", "Time to onboard (days)", "mean", "days"),
        MetricDef("onboard_within", f"Onboarded within {targets['onboard']} days", "share"),
        MetricDef("green", "Health: share green at the iteration's end", "share"),
        MetricDef("stale", "Stale reviews (share of accounts)", "share"),
        MetricDef("calls", "Calls and meetings per account", "mean"),
        MetricDef("accounts_per_tam", "Accounts per TAM", "mean"),
        MetricDef("arr_per_tam", "ARR per TAM", "mean", "money"),
    ]


def _members(iteration_ids: list[int]) -> list[Member]:
    from tamarind.health.models import HealthHistory, Sentiment
    from tamarind.timeline.models import ENGAGEMENT_KINDS, TimelineEntry

    color = HealthHistory.objects.filter(account=OuterRef("account_id"), day__lte=OuterRef("iteration__ends_on"))
    sentiment = (
        Sentiment.objects.filter(account=OuterRef("account_id"), set_at__date__lte=OuterRef("iteration__ends_on"))
        .values("account")
        .annotate(last=Max("set_at"))
        .values("last")
    )
    calls = (
        TimelineEntry.objects.filter(
            account=OuterRef("account_id"),
            kind__in=list(ENGAGEMENT_KINDS),
            occurred_at__date__gte=OuterRef("iteration__starts_on"),
            occurred_at__date__lte=OuterRef("iteration__ends_on"),
        )
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        IterationAccount.objects.filter(iteration_id__in=iteration_ids)
        .annotate(
            color=Coalesce(Subquery(color.order_by("-day").values("color")[:1]), Value("")),
            sentiment_at=Subquery(sentiment),
            calls=Coalesce(Subquery(calls, output_field=IntegerField()), Value(0)),
        )
        .order_by("iteration_id", "model_key", "account_id")
        .values_list("iteration_id", "account_id", "model_key", "tam_id", "arr", "color", "sentiment_at", "calls")
    )
    return [
        Member(it, acc, key, tam, arr, col, sent.date() if sent is not None else None, n)
        for it, acc, key, tam, arr, col, sent, n in rows
    ]


def _onboardings(iteration_ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    from tamarind.onboarding.models import Onboarding

    accounts = IterationAccount.objects.filter(iteration_id__in=iteration_ids).values("account_id")
    out: dict[int, list[tuple[Any, ...]]] = {}
    for row in Onboarding.objects.filter(account_id__in=accounts).values_list(
        "account_id", "onboarding_start", "first_engagement", "contract_start", "first_value", "onboarding_finish"
    ):
        out.setdefault(row[0], []).append(row[1:])
    return out


def _targets() -> dict[str, int]:
    from tamarind.onboarding.selectors import onboarding_targets

    t = onboarding_targets()
    return {"engage": t.engage_days, "first_value": t.first_value_days, "onboard": t.onboard_days}


def _staleness_days() -> int:
    from tamarind.health.selectors import live_version

    return int(live_version().spec().staleness_days)


def _fill(
    group: Group,
    onboardings: dict[int, list[tuple[Any, ...]]],
    targets: dict[str, int],
    stale_days: int,
    slots: dict[str, tuple[MetricSlot, SlotValues]],
) -> None:
    it = group.iteration
    v: dict[str, list[float]] = {
        k: []
        for k in (
            "engage_days",
            "engage_within",
            "first_value_days",
            "first_value_within",
            "onboard_days",
            "onboard_within",
            "green",
            "stale",
            "calls",
            "accounts_per_tam",
            "arr_per_tam",
        )
    }

    def milestone(start: dt.date | None, end: dt.date | None, days_key: str, within_key: str, target: int) -> None:
        if start is None or not it.starts_on <= start <= it.ends_on:
            return
        if end is not None and end >= start:
            days = (end - start).days
            v[days_key].append(float(days))
            v[within_key].append(1.0 if days <= target else 0.0)
        else:
            v[within_key].append(0.0)

    mix = {"green": 0, "yellow": 0, "red": 0}
    per_tam: dict[int, list[Decimal]] = {}
    for m in group.members:
        for start, engaged, contract, first_value, finish in onboardings.get(m.account_id, ()):
            milestone(start, engaged, "engage_days", "engage_within", targets["engage"])
            milestone(contract, first_value, "first_value_days", "first_value_within", targets["first_value"])
            milestone(start, finish, "onboard_days", "onboard_within", targets["onboard"])
        if m.color:
            mix[m.color] = mix.get(m.color, 0) + 1
            v["green"].append(1.0 if m.color == "green" else 0.0)
        stale = m.sentiment_on is None or (it.ends_on - m.sentiment_on).days > stale_days
        v["stale"].append(1.0 if stale else 0.0)
        v["calls"].append(float(m.calls))
        if m.tam_id is not None:
            per_tam.setdefault(m.tam_id, []).append(m.arr)
    v["accounts_per_tam"] = [float(len(a)) for a in per_tam.values()]
    v["arr_per_tam"] = [float(sum(a, Decimal(0))) for a in per_tam.values()]
    it_id = it.pk  # read once: a model's pk is a property, and this runs per account
    for name, (slot, data) in slots.items():
        keys = [(it_id, m.account_id) for m in group.members]
        measured = [data[k] for k in keys if k in data]
        if slot.kind == "ratio":
            group.pairs[name] = measured
        else:
            v[name] = measured
    group.values = v
    group.extra = {"mix": mix}


def _estimate(kind: str, values: list[float]) -> Estimate:
    if kind == "share":
        return share(int(sum(values)), len(values))
    return mean(values)


def compare(iterations: Sequence[Iteration]) -> Comparison:
    """Iterations (oldest first) and their models side by side; differences against the first iteration."""
    its = sorted(iterations, key=lambda i: i.starts_on)
    ids = [i.pk for i in its]
    names = dict(EngagementModel.objects.values_list("key", "name"))
    members = _members(ids)
    onboardings = _onboardings(ids) if ids else {}
    targets = _targets()
    stale_days = _staleness_days()
    slots = {name: (slot, slot.load(its)) for name, slot in available_slots().items()}
    groups: list[Group] = []
    by_iteration: dict[int, list[Member]] = {}
    for m in members:
        by_iteration.setdefault(m.iteration_id, []).append(m)
    for it in its:
        mine = by_iteration.get(it.pk, [])
        keys = sorted({m.model_key for m in mine}, key=lambda k: names.get(k, k))
        groups.append(Group(it, "", f"{it.name}: every model", mine))
        for key in keys:
            groups.append(Group(it, key, f"{it.name}: {names.get(key, key)}", [m for m in mine if m.model_key == key]))
    for g in groups:
        _fill(g, onboardings, targets, stale_days, slots)
    baseline = {g.model_key: g for g in groups if its and g.iteration.pk == its[0].pk}
    defs = _metrics(targets)
    for name, (slot, _) in slots.items():
        defs.append(MetricDef(name, SLOT_LABELS[name], slot.kind))
    rows = []
    for d in defs:
        cells = []
        for g in groups:
            base = baseline.get(g.model_key)
            diff = None
            if d.kind == "ratio":
                if base is not None and base is not g:
                    diff = ratio_difference(base.pairs[d.key], g.pairs[d.key])
                cells.append(Cell(ratio(g.pairs[d.key]), diff))
                continue
            if base is not None and base is not g:
                diff = difference(base.values[d.key], g.values[d.key])
            cells.append(Cell(_estimate(d.kind, g.values[d.key]), diff))
        rows.append(Row(d, cells))
    for name in METRIC_SLOTS:
        if name not in slots:
            rows.append(
                Row(
                    MetricDef(name, SLOT_LABELS[name], "share"),
                    [Cell(Estimate(None, 0), note="not measured yet") for _ in groups],
                    slot=True,
                )
            )
    return Comparison(list(its), groups, rows, targets)


def group_values(comparison: Comparison) -> dict[str, dict[str, list[float]]]:
    """Each group's raw values per metric (for the API and tests)."""
    return {g.label: g.values for g in comparison.groups}
