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
from django.conf import settings
from django.db import connection
from django.db.models import Case, Exists, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

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
    """One iteration's accounts in one model (``model_key`` "": every model), and its values per metric."""

    iteration: Iteration
    model_key: str  # "" = every model of the iteration
    label: str
    start: int = 0  # the group's members: ``Members`` entries start to stop
    stop: int = 0
    arr: Decimal = Decimal(0)
    values: dict[str, list[float]] = field(default_factory=dict)
    pairs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # ratio metrics: (num, den) each
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        return self.stop - self.start


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


# The members with what the metrics need, in one query of grouped aggregates joined to the members (no subquery
# per member): the last health color on or before the iteration's end (the greatest day, joined back for its
# color), whether a sentiment no older than the staleness was set by the end, and the calls and meetings within
# the iteration. ``{ids}`` holds the iterations' placeholders; ``{local_date(x)}`` is the date of a timestamp in
# the current time zone, as ``__date`` lookups take it. The member order is the groups' (iteration, model, account).
_MEMBERS_SQL = """
WITH m AS (
  SELECT ia.iteration_id, ia.account_id, i.starts_on, i.ends_on,
    CASE ia.iteration_id {fresh_cases} END AS fresh_from
  FROM engagement_iterationaccount ia JOIN engagement_iteration i ON i.id = ia.iteration_id
  WHERE ia.iteration_id IN ({ids}){scope}
), last_health AS (
  SELECT m.iteration_id, m.account_id, MAX(h.day) AS day
  FROM m JOIN health_healthhistory h ON h.account_id = m.account_id AND h.day <= m.ends_on
  GROUP BY m.iteration_id, m.account_id
), fresh AS (
  SELECT DISTINCT m.iteration_id, m.account_id
  FROM m JOIN health_sentiment s ON s.account_id = m.account_id
  WHERE s.set_at >= m.fresh_from AND {set_on} <= m.ends_on
), calls AS (
  SELECT m.iteration_id, m.account_id, COUNT(*) AS n
  FROM m JOIN timeline_timelineentry e ON e.account_id = m.account_id
  WHERE e.kind IN ({kinds}) AND {occurred_on} >= m.starts_on AND {occurred_on} <= m.ends_on
  GROUP BY m.iteration_id, m.account_id
)
SELECT ia.iteration_id, ia.model_key, ia.account_id, ia.tam_id, ia.arr, COALESCE(h.color, ''),
  CASE WHEN f.account_id IS NULL THEN 1 ELSE 0 END, COALESCE(c.n, 0)
FROM engagement_iterationaccount ia
LEFT JOIN last_health lh ON lh.iteration_id = ia.iteration_id AND lh.account_id = ia.account_id
LEFT JOIN health_healthhistory h ON h.account_id = lh.account_id AND h.day = lh.day
LEFT JOIN fresh f ON f.iteration_id = ia.iteration_id AND f.account_id = ia.account_id
LEFT JOIN calls c ON c.iteration_id = ia.iteration_id AND c.account_id = ia.account_id
WHERE ia.iteration_id IN ({ids}){scope}
ORDER BY ia.iteration_id, ia.model_key, ia.account_id
"""


@dataclass(frozen=True)
class Members:
    """The iterations' members as columns, one entry per member in (iteration, model key, account) order: what the
    metrics need, with no object per account. A group is a slice of them (an iteration's members are contiguous,
    and so are its models')."""

    iteration_id: tuple[int, ...] = ()
    model_key: tuple[str, ...] = ()
    account_id: tuple[int, ...] = ()
    tam_id: tuple[int | None, ...] = ()
    arr: tuple[Decimal, ...] = ()
    color: tuple[str, ...] = ()  # the last health color on or before the iteration's end ('' for none)
    stale: tuple[float, ...] = ()  # 1.0: no sentiment within the staleness by the end (or none at all)
    calls: tuple[float, ...] = ()  # calls and meetings logged within the iteration's dates

    def __len__(self) -> int:
        return len(self.account_id)


def _members(iterations: Sequence[Iteration], stale_days: int, region_id: int | None = None) -> Members:
    """Every member of ``iterations`` with its health color at the end, staleness and calls: one query.

    A member is stale when its newest sentiment set by the iteration's last day (in the current time zone) falls,
    as a UTC date, more than ``stale_days`` before that day, or when it has none: the sentiment is fresh when one
    was set at or after midnight UTC of ``ends_on - stale_days`` and on or before ``ends_on``. ``region_id``
    keeps the members whose account is in that region (a manager's comparison)."""
    from tamarind.timeline.models import ENGAGEMENT_KINDS

    if not iterations:
        return Members()
    tzname = timezone.get_current_timezone_name() if settings.USE_TZ else None
    ops = connection.ops
    set_on, set_params = ops.datetime_cast_date_sql("s.set_at", (), tzname)
    occurred_on, occurred_params = ops.datetime_cast_date_sql("e.occurred_at", (), tzname)
    ids = [i.pk for i in iterations]
    kinds = sorted(ENGAGEMENT_KINDS)
    fresh_params: list[Any] = []
    for it in iterations:
        day = it.ends_on - dt.timedelta(days=stale_days)
        since = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        fresh_params += [it.pk, ops.adapt_datetimefield_value(since if settings.USE_TZ else since.replace(tzinfo=None))]
    placeholders = ", ".join(["%s"] * len(ids))
    scope = "" if region_id is None else " AND ia.account_id IN (SELECT id FROM accounts_account WHERE region_id = %s)"
    region = [] if region_id is None else [region_id]
    sql = _MEMBERS_SQL.format(
        scope=scope,
        fresh_cases=" ".join(["WHEN %s THEN %s"] * len(iterations)),
        ids=placeholders,
        set_on=set_on,
        kinds=", ".join(["%s"] * len(kinds)),
        occurred_on=occurred_on,
    )
    params = [
        *fresh_params,
        *ids,
        *region,
        *set_params,
        *kinds,
        *occurred_params,
        *occurred_params,
        *ids,
        *region,
    ]
    arr_field = IterationAccount._meta.get_field("arr")
    arr_col = arr_field.cached_col
    converters = [*ops.get_db_converters(arr_col), *arr_field.get_db_converters(connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return Members()
    it_ids, keys, accounts, tams, arrs, colors, stale, calls = zip(*rows, strict=True)
    if converters:
        converted = []
        for value in arrs:
            for convert in converters:
                value = convert(value, arr_col, connection)
            converted.append(value)
        arrs = tuple(converted)
    return Members(it_ids, keys, accounts, tams, arrs, colors, tuple(map(float, stale)), tuple(map(float, calls)))


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
    members: Members,
    onboardings: dict[int, list[tuple[Any, ...]]],
    targets: dict[str, int],
    slots: dict[str, tuple[MetricSlot, dict[int, dict[int, Any]]]],
) -> None:
    """The group's values per metric, in member order, from its slice of the members' columns."""
    it = group.iteration
    lo, hi = group.start, group.stop
    accounts = members.account_id[lo:hi]
    v: dict[str, list[float]] = {
        k: [] for k in ("engage_days", "engage_within", "first_value_days", "first_value_within")
    }
    v["onboard_days"], v["onboard_within"] = [], []

    def milestone(start: dt.date | None, end: dt.date | None, days_key: str, within_key: str, target: int) -> None:
        if start is None or not it.starts_on <= start <= it.ends_on:
            return
        if end is not None and end >= start:
            days = (end - start).days
            v[days_key].append(float(days))
            v[within_key].append(1.0 if days <= target else 0.0)
        else:
            v[within_key].append(0.0)

    for account_id in accounts:
        for start, engaged, contract, first_value, finish in onboardings.get(account_id, ()):
            milestone(start, engaged, "engage_days", "engage_within", targets["engage"])
            milestone(contract, first_value, "first_value_days", "first_value_within", targets["first_value"])
            milestone(start, finish, "onboard_days", "onboard_within", targets["onboard"])
    colors = [c for c in members.color[lo:hi] if c]
    mix = {"green": 0, "yellow": 0, "red": 0}
    for c in colors:
        mix[c] = mix.get(c, 0) + 1
    v["green"] = [1.0 if c == "green" else 0.0 for c in colors]
    v["stale"] = list(members.stale[lo:hi])
    v["calls"] = list(members.calls[lo:hi])
    per_tam: dict[int, list[Decimal]] = {}
    for tam_id, arr in zip(members.tam_id[lo:hi], members.arr[lo:hi], strict=True):
        if tam_id is not None:
            per_tam.setdefault(tam_id, []).append(arr)
    v["accounts_per_tam"] = [float(len(a)) for a in per_tam.values()]
    v["arr_per_tam"] = [float(sum(a, Decimal(0))) for a in per_tam.values()]
    for name, (slot, by_iteration) in slots.items():
        data = by_iteration.get(it.pk, {})
        measured = [data[a] for a in accounts if a in data]
        if slot.kind == "ratio":
            group.pairs[name] = measured
        else:
            v[name] = measured
    group.arr = sum(members.arr[lo:hi], Decimal(0))
    group.values = v
    group.extra = {"mix": mix}


def _by_iteration(data: SlotValues) -> dict[int, dict[int, Any]]:
    """A slot's values keyed by iteration, then account (each group looks its accounts up in one dict)."""
    out: dict[int, dict[int, Any]] = {}
    for (it_id, account_id), value in data.items():
        out.setdefault(it_id, {})[account_id] = value
    return out


def _estimate(kind: str, values: list[float]) -> Estimate:
    if kind == "share":
        return share(int(sum(values)), len(values))
    return mean(values)


def compare(iterations: Sequence[Iteration], *, region_id: int | None = None) -> Comparison:
    """Iterations (oldest first) and their models side by side; differences against the first iteration.

    ``region_id`` limits every figure to the members whose account is in that region (``policy.
    capacity_region_id``: a TAM Manager compares their region's book; directors and admins the whole book)."""
    its = sorted(iterations, key=lambda i: i.starts_on)
    ids = [i.pk for i in its]
    names = dict(EngagementModel.objects.values_list("key", "name"))
    onboardings = _onboardings(ids) if ids else {}
    targets = _targets()
    members = _members(its, _staleness_days(), region_id)
    slots = {name: (slot, _by_iteration(slot.load(its))) for name, slot in available_slots().items()}
    groups: list[Group] = []
    # Members come ordered by iteration, then model key: each iteration's, and each model's, are one run.
    runs: dict[int, dict[str, list[int]]] = {}
    for i, (it_id, key) in enumerate(zip(members.iteration_id, members.model_key, strict=True)):
        keys = runs.setdefault(it_id, {})
        if key in keys:
            keys[key][1] = i + 1
        else:
            keys[key] = [i, i + 1]
    for it in its:
        bounds = runs.get(it.pk, {})
        first = min((lo for lo, _ in bounds.values()), default=0)
        last = max((hi for _, hi in bounds.values()), default=0)
        groups.append(Group(it, "", f"{it.name}: every model", first, last))
        for key in sorted(bounds, key=lambda k: names.get(k, k)):
            lo, hi = bounds[key]
            groups.append(Group(it, key, f"{it.name}: {names.get(key, key)}", lo, hi))
    for g in groups:
        _fill(g, members, onboardings, targets, slots)
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
