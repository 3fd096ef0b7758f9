"""Reads behind the Customer Health Dashboard, one named function per widget, grouped by the page's tabs.

The dashboard reads what every recompute stores with each account's ``HealthScore`` (its color, each measure's
score and color, the early-warning indicators' facts, the stale flag, the day of the newest sentiment) and the
daily health mix snapshots (``HealthMixSnapshot``), never the scored inputs' history, so each widget is one query
over the accounts shown (two for a paged list: its count and its page), whatever the size of the book:

- *Overview*: the health mix (accounts and ARR per color) by region, TAM, segment and priority, the totals, stale
  and never-reviewed counts, all from one query grouped by (region, TAM, segment, priority) and rolled up here;
  how many accounts the totals leave out (will churn: out of health reporting, domain section 6); the trend of the
  mix over ``TREND_DAYS`` days from the snapshots (one row per day of the slice shown);
- *Red & Yellow* and *Stale*: paged lists, lowest score / oldest review first (each by an index on the score);
- *Measures*: each measure's bands and average score across the accounts shown, from the measure columns;
- *Indicators*: per early-warning indicator, the accounts and ARR it fires for (one aggregate over the indicators'
  SQL twins, ``indicator_sql``), and a page of accounts, worst health first, optionally only those one indicator
  fires for, each with what fired and why (``indicators.evaluate`` over the same stored facts).

The API (``GET /api/v1/dashboards/health``) returns every tab's figures; the page shows one tab at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Case, Count, ExpressionWrapper, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account, AccountQuerySet, LifecycleStage, Priority, Segment
from tamarind.accounts.selectors import BookScope, book_scope
from tamarind.core.schemas import money
from tamarind.dashboards import indicator_sql, indicators
from tamarind.dashboards.selectors import param_id, param_text, parse_region_and_tam, regions_in
from tamarind.health.models import SNAPSHOT_SLOTS, HealthColor, HealthMixSnapshot, SnapshotLevel
from tamarind.health.selectors import live_version
from tamarind.health.spec import MEASURE_LABELS, MEASURES, HealthSpec
from tamarind.onboarding.models import OPEN_STATUSES, Onboarding
from tamarind.onboarding.selectors import onboarding_targets
from tamarind.people.models import Region, Role, User
from tamarind.success.selectors import success_signals
from tamarind.surveys.scoring import poor_limits
from tamarind.surveys.selectors import survey_signals
from tamarind.triage.models import TriageCase
from tamarind.triage.selectors import triage_settings

LIST_PAGE = 25
TREND_DAYS = 90
COLORS: tuple[str, ...] = (HealthColor.GREEN, HealthColor.YELLOW, HealthColor.RED)
COLUMNS: tuple[str, ...] = (*COLORS, "none")  # "none": no score yet
GROUPS: dict[str, str] = {"region": "region_id", "tam": "tam_id", "segment": "segment", "priority": "priority"}
TABS: dict[str, str] = {
    "overview": "Overview",
    "lists": "Red & Yellow",
    "stale": "Stale",
    "measures": "Measures",
    "indicators": "Indicators",
}
PAGES = ("page", "red_page", "yellow_page", "stale_page")  # ``page``: the indicators' list


# --- Filters --------------------------------------------------------------------------------------------------


@dataclass
class HealthFilters:
    """Region, TAM, segment; the indicator the per-account list shows (all accounts when none); the page of each
    list. Bad values land in ``errors`` (page: shown and ignored; API: 422)."""

    region: int | None = None
    tam: int | None = None
    segment: str | None = None
    indicator: str | None = None
    page: int = 1
    red_page: int = 1
    yellow_page: int = 1
    stale_page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, user: User, regions: Iterable[Region]) -> HealthFilters:
        f = cls()
        f.region, f.tam = parse_region_and_tam(params, user=user, regions=regions, errors=f.errors, own="accounts")
        f.segment = _one_of(params, "segment", Segment.values, f.errors)
        f.indicator = _one_of(params, "indicator", indicators.LABELS, f.errors)
        for key in PAGES:
            text = param_text(params.get(key))
            if text:
                number = param_id(text)
                if number is None:
                    f.errors[key] = f"{key} must be a positive number, got {text!r}."
                else:
                    setattr(f, key, number)
        return f

    def scope_params(self) -> dict[str, Any]:
        """The filters that choose the accounts (what every tab link and page link keeps)."""
        return {
            k: v for k, v in (("region", self.region), ("tam", self.tam), ("segment", self.segment)) if v is not None
        }


def _one_of(params: Mapping[str, Any], key: str, allowed: Iterable[str], errors: dict[str, str]) -> str | None:
    """The ``key`` parameter when it is one of ``allowed``; an unknown one lands in ``errors``."""
    value = param_text(params.get(key))
    if not value:
        return None
    if value in allowed:
        return value
    errors[key] = f"Unknown {key} {value!r}."
    return None


# --- Scope ----------------------------------------------------------------------------------------------------


def health_regions(user: User) -> list[Region]:
    """The regions ``user``'s health dashboard covers, by name (none for a TAM)."""
    return regions_in(policy.health_dashboard_region_scope(user))


def scoped_accounts(user: User, filters: HealthFilters) -> AccountQuerySet:
    """Every account ``user``'s health dashboard covers under ``filters``, those out of health reporting too."""
    qs = Account.objects.all()
    scope = policy.health_dashboard_scope(user)
    if scope is not None:
        qs = qs.filter(scope)
    if filters.region is not None:
        qs = qs.filter(region_id=filters.region)
    if filters.tam is not None:
        qs = qs.filter(tam_id=filters.tam)
    if filters.segment is not None:
        qs = qs.filter(segment=filters.segment)
    return qs.order_by()


def health_accounts(user: User, filters: HealthFilters) -> AccountQuerySet:
    """The accounts on ``user``'s health dashboard under ``filters``: those in health reporting (an account that
    will churn is out of it, domain section 6). No query runs here."""
    return scoped_accounts(user, filters).exclude(lifecycle_stage=LifecycleStage.WILL_CHURN)


def left_out_count(user: User, filters: HealthFilters) -> int:
    """How many accounts of the same scope the dashboard leaves out: those that will churn."""
    return scoped_accounts(user, filters).filter(lifecycle_stage=LifecycleStage.WILL_CHURN).count()


def health_scope(
    user: User, filters: HealthFilters, *, regions: Iterable[Region] = (), tams: Iterable[User] = ()
) -> BookScope:
    """The dashboard's caption: the book it reviews under ``filters``, how many accounts are in health reporting and
    how many will-churn accounts it leaves out (``accounts.selectors.book_scope``). One query; ``regions`` and
    ``tams`` (the filters' choices) name a filtered book."""
    if filters.region is not None:
        label = next((r.name for r in regions if r.pk == filters.region), "One region")
    elif filters.tam is not None:
        label = next((f"{u.full_name}'s accounts" for u in tams if u.pk == filters.tam), "One TAM's accounts")
    else:
        label = policy.account_scope_label(user, own_only=not policy.can_filter_dashboard_by_tam(user))
    return book_scope(scoped_accounts(user, filters), label=label)


def health_tams(user: User, regions: list[Region]) -> list[User]:
    """The TAMs the TAM filter offers: none for a TAM; the active TAMs of the regions covered otherwise."""
    if not policy.can_filter_dashboard_by_tam(user):
        return []
    qs = User.objects.filter(role=Role.TAM, is_active=True)
    if policy.health_dashboard_region_scope(user) is not None:
        qs = qs.filter(region_id__in=[r.pk for r in regions])
    return list(qs.select_related("region").order_by("full_name", "pk"))


def _color_q(color: str) -> Q:
    if color == "none":
        return Q(health__isnull=True) | Q(health__color="")
    return Q(health__color=color)


# --- Overview: the health mix, its totals and its trend -------------------------------------------------------


@dataclass
class MixCell:
    accounts: int
    arr: Decimal


@dataclass
class MixLine:
    key: str
    label: str
    cells: dict[str, MixCell]

    @property
    def accounts(self) -> int:
        return sum(c.accounts for c in self.cells.values())

    @property
    def arr(self) -> Decimal:
        return sum((c.arr for c in self.cells.values()), Decimal(0))

    @property
    def columns(self) -> list[tuple[str, MixCell, int]]:
        """(color, cell, share of accounts in percent) in ``COLUMNS`` order, for the template."""
        return [(c, self.cells[c], self.share(c)) for c in COLUMNS]

    def share(self, color: str) -> int:
        total = self.accounts
        return round(self.cells[color].accounts * 100 / total) if total else 0


def mix_line(key: str, label: str, sums: list[Any]) -> MixLine:
    """A line from its sums: accounts per color in ``COLUMNS`` order, then ARR per color."""
    n = len(COLUMNS)
    return MixLine(key=key, label=label, cells={c: MixCell(sums[i], sums[n + i]) for i, c in enumerate(COLUMNS)})


def mix_aggregates() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in COLUMNS:
        out[f"{c}_accounts"] = Count("pk", filter=_color_q(c))
        out[f"{c}_arr"] = Coalesce(Sum("arr", filter=_color_q(c)), Value(Decimal(0)))
    return out


def mix_groups(accounts: AccountQuerySet) -> list[dict[str, Any]]:
    """Accounts and ARR per color, stale and never-reviewed accounts, per (region, TAM, segment, priority): one
    query over the accounts shown, a few hundred rows for a book of 100,000 (the rest is rolled up in Python)."""
    return [
        dict(row)
        for row in accounts.values(*GROUPS.values()).annotate(
            **mix_aggregates(),
            stale=Count("pk", filter=Q(health__stale=True)),
            never=Count("pk", filter=Q(health__sentiment_on__isnull=True)),
        )
    ]


@dataclass
class Overview:
    """The Overview tab's figures."""

    totals: MixLine
    mix: dict[str, list[MixLine]]  # by "region", "tam", "segment", "priority"
    stale: int
    never: int  # accounts never reviewed (no TAM sentiment)
    left_out: int  # accounts of the same scope out of health reporting (will churn)


def widget_overview(accounts: AccountQuerySet, *, regions: list[Region], tams: list[User], left_out: int) -> Overview:
    """The health mix by region, TAM, segment and priority with its totals, from ``mix_groups`` (one query; one
    more only to name a region or TAM the choices do not hold: a TAM's accounts elsewhere, a former TAM)."""
    groups = mix_groups(accounts)
    # Each group's accounts and ARR per color as one list, added into the lines it belongs to: a few hundred groups
    # into about a hundred lines.
    counts = [f"{c}_accounts" for c in COLUMNS]
    amounts = [f"{c}_arr" for c in COLUMNS]
    zero = Decimal(0)
    total = [0] * len(COLUMNS) + [zero] * len(COLUMNS)
    sums: dict[str, dict[Any, list[Any]]] = {key: {} for key in GROUPS}
    stale = never = 0
    for row in groups:
        values = [row[k] or 0 for k in counts] + [Decimal(row[k] or 0) for k in amounts]
        total = [a + b for a, b in zip(total, values, strict=True)]
        stale += row["stale"]
        never += row["never"]
        for key, column in GROUPS.items():
            into = sums[key]
            value = row[column]
            found = into.get(value)
            into[value] = values if found is None else [a + b for a, b in zip(found, values, strict=True)]
    lines = {
        key: {
            value: mix_line(f"{key}-{value if value is not None else 'none'}", "", vector)
            for value, vector in into.items()
        }
        for key, into in sums.items()
    }
    totals = mix_line("all", "All", total)
    region_names = {r.pk: r.name for r in regions}
    missing = set(lines["region"]) - set(region_names) - {None}
    if missing:
        region_names.update(Region.objects.filter(pk__in=missing).values_list("pk", "name"))
    tam_names = {t.pk: t.full_name for t in tams}
    missing = set(lines["tam"]) - set(tam_names) - {None}
    if missing:
        tam_names.update(User.objects.filter(pk__in=missing).values_list("pk", "full_name"))
    segments, priorities = dict(Segment.choices), dict(Priority.choices)
    for value, line in lines["region"].items():
        line.label = region_names.get(value, "No region")
    for value, line in lines["tam"].items():
        line.label = tam_names.get(value, "?") if value is not None else "No TAM"
    for value, line in lines["segment"].items():
        line.label = str(segments.get(value, value))
    for value, line in lines["priority"].items():
        line.label = str(priorities.get(value, value))
    mix = {
        "region": sorted(lines["region"].values(), key=lambda line: line.label),
        "tam": sorted(lines["tam"].values(), key=lambda line: (line.label == "No TAM", line.label)),
        "segment": [lines["segment"][k] for k in Segment.values if k in lines["segment"]],
        "priority": [lines["priority"][k] for k in sorted(lines["priority"])],
    }
    return Overview(totals=totals, mix=mix, stale=stale, never=never, left_out=left_out)


@dataclass
class TrendPoint:
    """The mix of the accounts shown on one day, as that day's last full recompute left it."""

    day: dt.date
    accounts: dict[str, int]  # per color, "none": not scored
    arr: dict[str, Decimal]
    stale: int


SNAPSHOT_COLUMN = {"green": "green", "yellow": "yellow", "red": "red", "none": "unscored"}


def _trend_slice(user: User, filters: HealthFilters) -> tuple[str, Q]:
    """The snapshot level and rows that count the accounts shown: the narrowest slice the filters and the user's
    scope (``policy.health_dashboard_scope``, which names ``region_id`` or ``tam_id``: the snapshot's columns too)
    call for."""
    rows = Q()
    scope = policy.health_dashboard_scope(user)
    if scope is not None:
        rows &= scope
    if filters.region is not None:
        rows &= Q(region_id=filters.region)
    if filters.tam is not None:
        rows &= Q(tam_id=filters.tam)
    if filters.segment is not None:
        rows &= Q(segment=filters.segment)
    own = not policy.can_filter_dashboard_by_tam(user)  # a TAM's dashboard: their own accounts
    if filters.tam is not None or own:
        level = SnapshotLevel.TAM_SEGMENT if filters.segment else SnapshotLevel.TAM
    elif filters.region is not None or scope is not None:
        level = SnapshotLevel.REGION_SEGMENT if filters.segment else SnapshotLevel.REGION
    else:
        level = SnapshotLevel.SEGMENT if filters.segment else SnapshotLevel.BOOK
    return level, rows


def widget_trend(user: User, filters: HealthFilters, *, today: dt.date, days: int = TREND_DAYS) -> list[TrendPoint]:
    """The health mix of the accounts shown on each of the last ``days`` days that had a full recompute, from the
    snapshots: one query reading one row per day of the slice (a TAM's accounts in several regions: one per region)."""
    level, rows = _trend_slice(user, filters)
    sums = {f"{slot}{part}": Sum(f"{slot}{part}") for slot in SNAPSHOT_SLOTS for part in ("", "_arr")}
    found = (
        HealthMixSnapshot.objects.filter(rows, level=level, day__gt=today - dt.timedelta(days=days), day__lte=today)
        .values("day")
        .annotate(**sums, stale_sum=Sum("stale"))
        .order_by("day")
    )
    points = []
    for row in found:
        values: dict[str, Any] = dict(row)
        points.append(
            TrendPoint(
                day=values["day"],
                accounts={c: values[s] or 0 for c, s in SNAPSHOT_COLUMN.items()},
                arr={c: Decimal(values[f"{s}_arr"] or 0) for c, s in SNAPSHOT_COLUMN.items()},
                stale=values["stale_sum"] or 0,
            )
        )
    return points


# --- Red & Yellow, Stale: paged lists --------------------------------------------------------------------------


class CountedPaginator(Paginator):
    """A paginator told how many rows there are (counted by a query that served another widget too), so a page
    costs one query instead of two."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # the cached_property's slot: Paginator never counts again


def color_counts(accounts: AccountQuerySet) -> dict[str, int]:
    """Accounts per health color ("" and "none": not scored), one grouped query."""
    rows = accounts.filter(health__isnull=False).values_list("health__color").annotate(n=Count("pk")).order_by()
    return {color: n for color, n in rows}


def _listed(accounts: AccountQuerySet) -> AccountQuerySet:
    return accounts.select_related("health", "region", "tam")


def widget_color_page(
    accounts: AccountQuerySet, color: str, *, page: int, count: int | None = None, per_page: int = LIST_PAGE
) -> Page:
    """One page of the accounts of ``color``, lowest score first, along the score's (color, score, account) index:
    one query when ``count`` (from ``color_counts``) is given, two otherwise."""
    ordered = _listed(accounts.filter(health__color=color)).order_by("health__score", "pk")
    paginator = Paginator(ordered, per_page) if count is None else CountedPaginator(ordered, per_page, count=count)
    return paginator.get_page(page)


def widget_stale_page(
    accounts: AccountQuerySet, *, page: int, count: int | None = None, per_page: int = LIST_PAGE
) -> Page:
    """One page of the accounts whose sentiment is stale (the flag every recompute sets from the model's staleness
    days), oldest review first (the stored day of the newest sentiment, along a partial index): one query when
    ``count`` is known, two otherwise."""
    ordered = _listed(accounts.filter(health__stale=True)).order_by("health__sentiment_on", "pk")
    paginator = Paginator(ordered, per_page) if count is None else CountedPaginator(ordered, per_page, count=count)
    return paginator.get_page(page)


def sentiment_age(account: Account, today: dt.date) -> int | None:
    """Days since the account's newest sentiment (stored with its score); None: never reviewed."""
    health = getattr(account, "health", None)
    on = health.sentiment_on if health is not None else None
    return None if on is None else (today - on).days


# --- Measures ---------------------------------------------------------------------------------------------------


@dataclass
class MeasureLine:
    key: str
    label: str
    counts: dict[str, int]
    average: float | None

    @property
    def rated(self) -> int:
        return sum(self.counts.values())


def widget_measures(accounts: AccountQuerySet) -> list[MeasureLine]:
    """For each measure: accounts Green / Yellow / Red on it and its average score over the accounts rated on it.
    One query over the measure columns, grouped by the five colors (each row read once; a few hundred groups at
    most), summed here."""
    colors = [f"health__{key}_color" for key in MEASURES]
    sums = {f"{key}__sum": Sum(f"health__{key}_score") for key in MEASURES}
    groups = accounts.filter(health__isnull=False).values(*colors).annotate(n=Count("pk"), **sums).order_by()
    counts = {key: dict.fromkeys(COLORS, 0) for key in MEASURES}
    points = dict.fromkeys(MEASURES, 0)
    for row in groups:
        for key, column in zip(MEASURES, colors, strict=True):
            color = row[column]
            if color in counts[key]:
                counts[key][color] += row["n"]
                points[key] += row[f"{key}__sum"] or 0
    lines = []
    for key in MEASURES:
        rated = sum(counts[key].values())
        average = round(points[key] / rated, 1) if rated else None
        lines.append(MeasureLine(key=key, label=MEASURE_LABELS[key], counts=counts[key], average=average))
    return lines


# --- Indicators -------------------------------------------------------------------------------------------------


def thresholds(spec: HealthSpec) -> indicators.Thresholds:
    triage = triage_settings()
    renewal_months = None
    if apps.is_installed("tamarind.renewals"):
        from tamarind.renewals.selectors import renewal_settings

        renewal_months = renewal_settings().task_lead_months
    return indicators.thresholds_from(
        overrides=getattr(settings, "TAMARIND_EARLY_WARNING", None),
        first_value_days=onboarding_targets().first_value_days,
        support_green=spec.support_green,
        triage_red_days=triage.red_update_days,
        triage_other_days=triage.yellow_update_days,
        renewal_months=renewal_months,
        survey_poor=poor_limits(),
    )


@dataclass
class IndicatorTotal:
    """How many accounts of the book (and how much ARR) one indicator fires for; ``key`` "any": at least one."""

    key: str
    label: str
    accounts: int
    arr: Decimal


def widget_indicator_totals(
    accounts: AccountQuerySet, limits: indicators.Thresholds, *, today: dt.date, now: dt.datetime
) -> tuple[list[IndicatorTotal], int]:
    """Per indicator, the accounts (and ARR) it fires for across ``accounts``, then the accounts any fires for; and
    how many accounts they were judged among. One aggregate over the accounts shown and their stored facts,
    whatever the book's size."""
    twins = indicator_sql.indicator_qs(limits, today=today, now=now)
    # Each account judged once per indicator, grouped by the combination that fired (at most 2^8 groups): cheaper
    # than a filtered count per indicator, which judges every account again for each.
    flags = {f"fired_{key}": ExpressionWrapper(q, output_field=BooleanField()) for key, q in twins.items()}
    groups = (
        accounts.annotate(**flags)
        .values(*flags)
        .annotate(n=Count("pk"), arr_sum=Coalesce(Sum("arr"), Value(Decimal(0))))
        .order_by()
    )
    labels = {**indicators.LABELS, "any": "Any indicator"}
    totals = {key: IndicatorTotal(key, labels[key], 0, Decimal(0)) for key in [*twins, "any"]}
    base = 0
    for group in groups:
        base += group["n"]
        fired = [key for key in twins if group[f"fired_{key}"]]
        for key in [*fired, *(["any"] if fired else [])]:
            totals[key].accounts += group["n"]
            totals[key].arr += Decimal(group["arr_sum"] or 0)
    return list(totals.values()), base


def _rank() -> Case:
    return Case(
        When(health__color=HealthColor.RED, then=Value(0)),
        When(health__color=HealthColor.YELLOW, then=Value(1)),
        When(health__color=HealthColor.GREEN, then=Value(3)),
        default=Value(2),
        output_field=IntegerField(),
    )


class WorstFirst:
    """Accounts worst health first, cut in two steps: the page's ids in order (the sort over every account shown
    carries three narrow values, not whole rows: half the time at 100,000 accounts), then those rows by key."""

    def __init__(self, accounts: AccountQuerySet) -> None:
        self.accounts = accounts

    def count(self) -> int:
        return self.accounts.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, cut: slice) -> list[Account]:
        ordered = self.accounts.annotate(rank=_rank()).order_by("rank", "health__score", "pk")
        ids = list(ordered.values_list("pk", flat=True)[cut])
        rows = {a.pk: a for a in _listed(Account.objects.filter(pk__in=ids))}
        return [rows[pk] for pk in ids]


def indicator_page(
    accounts: AccountQuerySet, *, page: int, count: int | None = None, per_page: int = LIST_PAGE
) -> Page:
    """One page of accounts, worst health first: two queries when ``count`` is known, three otherwise."""
    ordered: Any = WorstFirst(accounts)  # sliced and counted, all a Paginator asks of it
    paginator = Paginator(ordered, per_page) if count is None else CountedPaginator(ordered, per_page, count=count)
    return paginator.get_page(page)


def account_signals(accounts: list[Account]) -> dict[int, indicators.Signals]:
    """The indicators' inputs for a page of accounts (health loaded): the facts stored with each score, the
    account's own columns, and a query each for the open onboarding records, triage cases and the survey answers
    (as the twins read them)."""
    ids = [a.pk for a in accounts]
    onboarding = {
        row["account_id"]: row
        for row in Onboarding.objects.filter(account_id__in=ids, status__in=OPEN_STATUSES).values(
            "account_id", "contract_start", "first_value"
        )
    }
    cases = {
        row["account_id"]: row
        for row in TriageCase.objects.open()
        .filter(account_id__in=ids)
        .values("account_id", "health_color", "last_update_at")
    }
    plans, ebrs = success_signals(ids)
    surveys = survey_signals(ids)
    out = {}
    for a in accounts:
        o = onboarding.get(a.pk)
        c = cases.get(a.pk)
        h = getattr(a, "health", None)
        out[a.pk] = indicators.Signals(
            priority=a.priority,
            lifecycle_stage=a.lifecycle_stage,
            customer_since=a.customer_since,
            licenses=h.licenses if h else None,
            active_users=h.active_users if h else None,
            active_users_prev=h.active_users_prev if h else None,
            onboarding_open=o is not None,
            contract_start=o["contract_start"] if o else None,
            first_value=o["first_value"] if o else None,
            last_engagement=h.engaged_on if h else None,
            tickets_last_30d=h.tickets_30d if h else None,
            open_urgent_tickets=h.open_urgent if h else 0,
            next_renewal_date=a.next_renewal_date,
            health_color=(h.color or None) if h else None,
            # The case's cadence follows the account's color now (triage.models.red_cadence_q).
            triage_color=((h.color if h else "") or c["health_color"]) if c else None,
            triage_last_update=timezone.localdate(c["last_update_at"]) if c else None,
            success_plan=plans.get(a.pk, "none"),
            ebr_known=True,
            last_ebr=ebrs.get(a.pk),
            survey_answers=surveys.get(a.pk, ()),
        )
    return out


@dataclass
class IndicatorRow:
    account: Account
    fired: list[indicators.Fired]


def widget_indicators(
    accounts: AccountQuerySet,
    limits: indicators.Thresholds,
    *,
    indicator: str | None,
    page: int,
    today: dt.date,
    now: dt.datetime,
    count: int | None = None,
) -> tuple[Page, list[IndicatorRow]]:
    """A page of accounts, worst health first (only those ``indicator`` fires for, when given), each with what
    fired and why: four queries when ``count`` (how many accounts the list holds) is known, five otherwise."""
    listed = accounts
    if indicator is not None:
        listed = accounts.filter(indicator_sql.indicator_q(indicator, limits, today=today, now=now))
    found = indicator_page(listed, page=page, count=count)
    rows = list(found.object_list)
    signals = account_signals(rows)
    return found, [IndicatorRow(a, indicators.evaluate(signals[a.pk], limits, today=today)) for a in rows]


# --- The dashboard ------------------------------------------------------------------------------------------------


@dataclass
class HealthDashboard:
    """The figures of one tab (``tab``), or of every tab (``tab`` None: the API)."""

    filters: HealthFilters
    tab: str | None
    spec_version: int
    staleness_days: int
    thresholds: indicators.Thresholds
    region_choices: list[Region]
    tam_choices: list[User]
    today: dt.date
    overview: Overview | None = None
    trend: list[TrendPoint] | None = None
    red: Page | None = None
    yellow: Page | None = None
    stale: Page | None = None
    measures: list[MeasureLine] | None = None
    indicator_totals: list[IndicatorTotal] | None = None
    indicator_base: int = 0  # the accounts the indicator totals were counted among
    page: Page | None = None
    indicators: list[IndicatorRow] | None = None

    def shows(self, tab: str) -> bool:
        return self.tab is None or self.tab == tab


def health_dashboard(
    user: User,
    filters: HealthFilters,
    *,
    regions: list[Region],
    tab: str | None = None,
    now: dt.datetime | None = None,
    tams: list[User] | None = None,
    left_out: int | None = None,
) -> HealthDashboard:
    """The widgets of ``tab`` (every tab when None) of ``user``'s Customer Health Dashboard: a fixed number of
    queries whatever the size of the book."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    version = live_version()
    spec = version.spec()
    accounts = health_accounts(user, filters)
    tams = health_tams(user, regions) if tams is None else tams
    dash = HealthDashboard(
        filters=filters,
        tab=tab,
        spec_version=version.version,
        staleness_days=spec.staleness_days,
        thresholds=thresholds(spec) if tab in (None, "indicators") else indicators.Thresholds(),
        region_choices=regions,
        tam_choices=tams,
        today=today,
    )
    if dash.shows("overview"):
        left_out = left_out_count(user, filters) if left_out is None else left_out
        dash.overview = widget_overview(accounts, regions=regions, tams=tams, left_out=left_out)
        dash.trend = widget_trend(user, filters, today=today)
    # Every tab at once (the API): the lists take their counts from the overview's totals, not from queries again.
    overview = dash.overview
    if dash.shows("lists"):
        if overview is not None:
            counts = {c: overview.totals.cells[c].accounts for c in COLORS}
        else:
            counts = color_counts(accounts)
        red, yellow = HealthColor.RED, HealthColor.YELLOW
        dash.red = widget_color_page(accounts, red, page=filters.red_page, count=counts.get(red, 0))
        dash.yellow = widget_color_page(accounts, yellow, page=filters.yellow_page, count=counts.get(yellow, 0))
    if dash.shows("stale"):
        stale = overview.stale if overview is not None else None
        dash.stale = widget_stale_page(accounts, page=filters.stale_page, count=stale)
    if dash.shows("measures"):
        dash.measures = widget_measures(accounts)
    if dash.shows("indicators"):
        dash.indicator_totals, dash.indicator_base = widget_indicator_totals(
            accounts, dash.thresholds, today=today, now=now
        )
        by_key = {t.key: t.accounts for t in dash.indicator_totals}
        listed = dash.indicator_base if filters.indicator is None else by_key[filters.indicator]
        dash.page, dash.indicators = widget_indicators(
            accounts,
            dash.thresholds,
            indicator=filters.indicator,
            page=filters.page,
            today=today,
            now=now,
            count=listed,
        )
    return dash


# --- Figures as JSON: the API's, and the page's charts (the same functions, so the charts draw what the API says) --


def mix_figures(line: MixLine) -> dict[str, Any]:
    """One line of the health mix: accounts and ARR in all and per color (``none``: not scored)."""
    return {
        "key": line.key,
        "label": line.label,
        "accounts": line.accounts,
        "arr": money(line.arr),
        "colors": {c: {"accounts": cell.accounts, "arr": money(cell.arr)} for c, cell in line.cells.items()},
    }


def trend_figures(points: list[TrendPoint]) -> list[dict[str, Any]]:
    """The trend, one point per day: accounts and ARR per color, stale reviews."""
    return [
        {
            "day": p.day,
            "accounts": dict(p.accounts),
            "arr": {c: money(v) for c, v in p.arr.items()},
            "stale": p.stale,
        }
        for p in points
    ]


def overview_figures(overview: Overview, trend: list[TrendPoint]) -> dict[str, Any]:
    """What the Overview's charts draw: the API's ``totals``, ``mix`` and ``trend``."""
    return {
        "totals": mix_figures(overview.totals),
        "mix": {key: [mix_figures(line) for line in lines] for key, lines in overview.mix.items()},
        "trend": trend_figures(trend),
    }
