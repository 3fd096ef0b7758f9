"""Reads behind the Customer Health Dashboard, one named function per widget.

Every widget is one query whatever the number of accounts: the health mix (accounts and ARR per color) is grouped
by region, TAM, segment and priority in the database; the per-measure view aggregates the stored breakdown JSON of
each account's current ``HealthScore``; the red, yellow and stale lists are cut to ``LIST_LIMIT`` rows.

The early-warning indicators (``dashboards.indicators``) need facts that live in several apps (usage rollups,
onboarding, the timeline, triage). What fired and why is computed for a bounded page of accounts only
(``INDICATOR_PAGE`` rows, worst health first: red, yellow, unscored, green; then lowest score): a fixed number of
queries per page, whatever the book's size. How many accounts (and how much ARR) each indicator fires for across
the whole book comes from the indicators' SQL twins (``dashboards.indicator_sql``) in one grouped query; the same
twins cut the per-account list to one indicator.

The stale widgets read the stored ``HealthScore.stale`` flag (set by every recompute from the model's staleness
days) instead of judging each account's newest sentiment again.

Accounts whose lifecycle stage is "will churn" are out of health reporting (domain section 6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account, AccountQuerySet, LifecycleStage, Priority, Segment
from tamarind.accounts.selectors import BookScope, book_scope
from tamarind.dashboards import indicator_sql, indicators
from tamarind.dashboards.selectors import param_id, param_text, parse_region_and_tam, regions_in
from tamarind.health.models import HealthColor, Sentiment
from tamarind.health.selectors import live_version
from tamarind.health.spec import MEASURE_LABELS, MEASURES, HealthSpec
from tamarind.onboarding.models import OPEN_STATUSES, Onboarding
from tamarind.onboarding.selectors import onboarding_targets
from tamarind.people.models import Region, Role, User
from tamarind.timeline.models import ENGAGEMENT_KINDS, TimelineEntry
from tamarind.triage.models import TriageCase
from tamarind.triage.selectors import triage_settings
from tamarind.usage.selectors import usage_facts

LIST_LIMIT = 50
INDICATOR_PAGE = 25
COLORS: tuple[str, ...] = (HealthColor.GREEN, HealthColor.YELLOW, HealthColor.RED)
COLUMNS: tuple[str, ...] = (*COLORS, "none")  # "none": no score yet
GROUPS: dict[str, str] = {"region": "region_id", "tam": "tam_id", "segment": "segment", "priority": "priority"}


# --- Filters --------------------------------------------------------------------------------------------------


@dataclass
class HealthFilters:
    """Region, TAM, segment; the indicator the per-account list shows (all accounts when none) and its page. Bad
    values land in ``errors`` (page: shown and ignored; API: 422)."""

    region: int | None = None
    tam: int | None = None
    segment: str | None = None
    indicator: str | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, user: User, regions: Iterable[Region]) -> HealthFilters:
        f = cls()
        f.region, f.tam = parse_region_and_tam(params, user=user, regions=regions, errors=f.errors, own="accounts")
        f.segment = _one_of(params, "segment", Segment.values, f.errors)
        f.indicator = _one_of(params, "indicator", indicators.LABELS, f.errors)
        page = param_text(params.get("page"))
        if page:
            pk = param_id(page)
            if pk is None:
                f.errors["page"] = f"page must be a positive number, got {page!r}."
            else:
                f.page = pk
        return f


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


def health_accounts(user: User, filters: HealthFilters) -> AccountQuerySet:
    """The accounts on ``user``'s health dashboard under ``filters`` (no query runs here): the book under review,
    less the will-churn accounts (out of health reporting, domain section 6)."""
    return health_book(user, filters).exclude(lifecycle_stage=LifecycleStage.WILL_CHURN)


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
    return book_scope(health_book(user, filters), label=label)


def health_book(user: User, filters: HealthFilters) -> AccountQuerySet:
    """The accounts ``user``'s health dashboard reviews under ``filters``, will-churn ones included."""
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


def _color_q(color: str) -> Q:
    if color == "none":
        return Q(health__isnull=True) | Q(health__color="")
    return Q(health__color=color)


# --- Widget: health mix -----------------------------------------------------------------------------------------


def mix_aggregates() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in COLUMNS:
        out[f"{c}_accounts"] = Count("pk", filter=_color_q(c))
        out[f"{c}_arr"] = Coalesce(Sum("arr", filter=_color_q(c)), Value(Decimal(0)))
    return out


def widget_mix(accounts: AccountQuerySet, *, by: str | None = None) -> list[dict[str, Any]]:
    """Accounts and ARR per health color, overall (one row) or per region / TAM / segment / priority. One query."""
    if by is None:
        return [accounts.aggregate(**mix_aggregates())]
    key = GROUPS[by]
    return [dict(row) for row in accounts.values(key).annotate(**mix_aggregates()).order_by(key)]


# --- Widgets: red and yellow lists, stale reviews ---------------------------------------------------------------


def _last_sentiment() -> Subquery:
    return Subquery(Sentiment.objects.filter(account_id=OuterRef("pk")).order_by("-set_at", "-id").values("set_at")[:1])


def widget_color_list(accounts: AccountQuerySet, color: str, *, limit: int = LIST_LIMIT) -> list[Account]:
    """Accounts of ``color``, lowest score first, with their score (drag, stale) and last sentiment's time."""
    return list(
        accounts.filter(health__color=color)
        .annotate(last_sentiment_at=_last_sentiment())
        .select_related("health", "region", "tam")
        .order_by("health__score", "name", "pk")[:limit]
    )


def widget_stale_counts(accounts: AccountQuerySet) -> dict[str, int]:
    """How many accounts have a stale sentiment (the score's stored ``stale`` flag, which every recompute sets from
    the model's staleness days) and how many were never reviewed. Two queries: a join on the scores, and an anti
    join on the sentiments' account index (as one query the anti join would run as a probe per account)."""
    stale = accounts.filter(health__stale=True).count()
    never = accounts.filter(~Exists(Sentiment.objects.filter(account_id=OuterRef("pk")))).count()
    return {"stale": stale, "never": never}


def widget_stale_list(accounts: AccountQuerySet, *, limit: int = LIST_LIMIT) -> list[Account]:
    """Accounts whose score is flagged stale, oldest review first: the flagged scores joined to the sentiments and
    grouped (one pass over the flagged accounts' sentiments, not a newest-sentiment probe per account)."""
    return list(
        accounts.filter(health__stale=True)
        .annotate(last_sentiment_at=Max("sentiments__set_at"))
        .select_related("health", "region", "tam")
        .order_by("last_sentiment_at", "name", "pk")[:limit]
    )


# --- Widget: per measure ----------------------------------------------------------------------------------------


def _measure_path(index: int, key: str) -> str:
    return f"health__breakdown__measures__{index}__{key}"


def widget_measures(accounts: AccountQuerySet) -> dict[str, Any]:
    """For each measure (the breakdown stores them in model order): accounts Green / Yellow / Red on it, accounts
    without it, and its average score. One query over the stored breakdowns."""
    aggregates: dict[str, Any] = {}
    for i, key in enumerate(MEASURES):
        band = _measure_path(i, "band")
        for c in COLORS:
            aggregates[f"{key}__{c}"] = Count("pk", filter=Q(**{band: c}))
        score = KeyTextTransform("score", KeyTransform(i, KeyTransform("measures", "health__breakdown")))
        # Only where the measure is rated: a missing one stores JSON null, which SQLite would cast to 0.
        rated = Q(**{f"{band}__in": list(COLORS)})
        aggregates[f"{key}__avg"] = Avg(Cast(score, FloatField()), filter=rated)
    return accounts.filter(health__isnull=False).aggregate(**aggregates)


@dataclass
class MeasureLine:
    key: str
    label: str
    counts: dict[str, int]
    average: float | None

    @property
    def rated(self) -> int:
        return sum(self.counts.values())


def measure_lines(row: Mapping[str, Any]) -> list[MeasureLine]:
    return [
        MeasureLine(
            key=key,
            label=MEASURE_LABELS[key],
            counts={c: row.get(f"{key}__{c}") or 0 for c in COLORS},
            average=None if row.get(f"{key}__avg") is None else round(float(row[f"{key}__avg"]), 1),
        )
        for key in MEASURES
    ]


# --- Widget: early-warning indicators ---------------------------------------------------------------------------


def _rank() -> Case:
    return Case(
        When(health__color=HealthColor.RED, then=Value(0)),
        When(health__color=HealthColor.YELLOW, then=Value(1)),
        When(health__color=HealthColor.GREEN, then=Value(3)),
        default=Value(2),
        output_field=IntegerField(),
    )


def indicator_page(accounts: AccountQuerySet, *, page: int, per_page: int = INDICATOR_PAGE) -> Page:
    """One page of accounts, worst health first (two queries: the count and the page)."""
    ordered = (
        accounts.annotate(rank=_rank())
        .select_related("health", "region", "tam")
        .order_by("rank", "health__score", "name", "pk")
    )
    return Paginator(ordered, per_page).get_page(page)


def thresholds(spec: HealthSpec) -> indicators.Thresholds:
    triage = triage_settings()
    return indicators.thresholds_from(
        overrides=getattr(settings, "TAMARIND_EARLY_WARNING", None),
        first_value_days=onboarding_targets().first_value_days,
        support_green=spec.support_green,
        triage_red_days=triage.red_update_days,
        triage_other_days=triage.yellow_update_days,
    )


def _day(value: dt.datetime | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    return value


def account_signals(accounts: list[Account], *, now: dt.datetime | None = None) -> dict[int, indicators.Signals]:
    """The indicators' inputs for a page of accounts (health loaded): a fixed number of queries."""
    ids = [a.pk for a in accounts]
    facts = usage_facts(ids, now=now) if ids else {}
    onboarding = {
        row["account_id"]: row
        for row in Onboarding.objects.filter(account_id__in=ids, status__in=OPEN_STATUSES).values(
            "account_id", "contract_start", "first_value"
        )
    }
    engaged = dict(
        TimelineEntry.objects.filter(account_id__in=ids, kind__in=ENGAGEMENT_KINDS)
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .order_by()
        .values_list("account_id", "last")
    )
    cases = {
        row["account_id"]: row
        for row in TriageCase.objects.open()
        .filter(account_id__in=ids)
        .values("account_id", "health_color", "last_update_at")
    }
    out = {}
    for a in accounts:
        f = facts.get(a.pk)
        o = onboarding.get(a.pk)
        c = cases.get(a.pk)
        health = getattr(a, "health", None)
        out[a.pk] = indicators.Signals(
            priority=a.priority,
            lifecycle_stage=a.lifecycle_stage,
            customer_since=a.customer_since,
            licenses=f.licenses if f and f.usage_updated_at else None,
            active_users=f.active_users if f and f.usage_updated_at else None,
            active_users_prev=f.active_users_prev if f and f.usage_updated_at else None,
            onboarding_open=o is not None,
            contract_start=o["contract_start"] if o else None,
            first_value=o["first_value"] if o else None,
            last_engagement=_day(engaged.get(a.pk)),
            tickets_last_30d=f.tickets_last_30d if f and f.tickets_updated_at else None,
            open_urgent_tickets=f.open_urgent_tickets if f else 0,
            next_renewal_date=a.next_renewal_date,
            health_color=(health.color or None) if health else None,
            triage_color=c["health_color"] if c else None,
            triage_last_update=_day(c["last_update_at"]) if c else None,
        )
    return out


@dataclass
class IndicatorTotal:
    """How many accounts of the book (and how much ARR) one indicator fires for; ``key`` "any": at least one."""

    key: str
    label: str
    accounts: int
    arr: Decimal


def widget_indicator_totals(
    accounts: AccountQuerySet,
    limits: indicators.Thresholds,
    *,
    today: dt.date,
    now: dt.datetime,
    within: AccountQuerySet | None = None,
) -> list[IndicatorTotal]:
    """Per indicator, the accounts (and ARR) it fires for across ``accounts``, then the accounts any fires for.

    One query, whatever the book's size: each account is judged by the indicators' SQL twins
    (``indicator_sql``) and the book is grouped by the combination that fired (at most 2^8 groups). ``within``
    (``accounts`` again, when they are a part of the book) keeps the twins' passes to those accounts' rows."""
    flags = indicator_sql.indicator_flags(limits, today=today, now=now, within=within)
    groups = list(
        accounts.annotate(**flags)
        .values(*flags)
        .annotate(n=Count("pk"), arr_sum=Coalesce(Sum("arr"), Value(Decimal(0))))
        .order_by()
    )
    totals = {key: IndicatorTotal(key, label, 0, Decimal(0)) for key, label, _ in indicators.INDICATORS}
    fired_any = IndicatorTotal("any", "Any indicator", 0, Decimal(0))
    for group in groups:
        fired = [key for key in totals if group[f"fired_{key}"]]
        for line in [*(totals[key] for key in fired), *([fired_any] if fired else [])]:
            line.accounts += group["n"]
            line.arr += Decimal(group["arr_sum"] or 0)
    return [*totals.values(), fired_any]


@dataclass
class IndicatorRow:
    account: Account
    fired: list[indicators.Fired]


# --- The page -----------------------------------------------------------------------------------------------------


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


def mix_line(key: str, label: str, row: Mapping[str, Any]) -> MixLine:
    return MixLine(
        key=key,
        label=label,
        cells={
            c: MixCell(accounts=row.get(f"{c}_accounts") or 0, arr=Decimal(row.get(f"{c}_arr") or 0)) for c in COLUMNS
        },
    )


@dataclass
class HealthDashboard:
    filters: HealthFilters
    spec_version: int
    staleness_days: int
    thresholds: indicators.Thresholds
    totals: MixLine
    mix: dict[str, list[MixLine]]
    red: list[Account]
    yellow: list[Account]
    stale_counts: dict[str, int]
    stale: list[Account]
    measures: list[MeasureLine]
    indicators: list[IndicatorRow]
    indicator_totals: list[IndicatorTotal]
    page: Page
    region_choices: list[Region]
    tam_choices: list[User]
    today: dt.date


def health_tams(user: User, regions: list[Region]) -> list[User]:
    """The TAMs the TAM filter offers: none for a TAM; the active TAMs of the regions covered otherwise."""
    if not policy.can_filter_dashboard_by_tam(user):
        return []
    qs = User.objects.filter(role=Role.TAM, is_active=True)
    if policy.health_dashboard_region_scope(user) is not None:
        qs = qs.filter(region_id__in=[r.pk for r in regions])
    return list(qs.select_related("region").order_by("full_name", "pk"))


def health_dashboard(
    user: User, filters: HealthFilters, *, regions: list[Region], now: dt.datetime | None = None
) -> HealthDashboard:
    """Every widget of the Customer Health Dashboard for ``user``. A fixed number of queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    version = live_version()
    spec = version.spec()
    accounts = health_accounts(user, filters)
    tams = health_tams(user, regions)

    region_names = {r.pk: r.name for r in regions}
    mix: dict[str, list[MixLine]] = {}
    by_region = widget_mix(accounts, by="region")
    extra_regions = {row["region_id"] for row in by_region} - set(region_names)
    if extra_regions:  # a TAM's accounts may sit outside any region they cover (never for managers)
        region_names.update(Region.objects.filter(pk__in=extra_regions).values_list("pk", "name"))
    mix["region"] = [mix_line(f"region-{r['region_id']}", region_names.get(r["region_id"], "?"), r) for r in by_region]
    by_tam = widget_mix(accounts, by="tam")
    tam_names = {t.pk: t.full_name for t in tams}
    missing = {row["tam_id"] for row in by_tam} - set(tam_names) - {None}
    if missing:
        tam_names.update(User.objects.filter(pk__in=missing).values_list("pk", "full_name"))
    mix["tam"] = sorted(
        (
            mix_line(
                f"tam-{r['tam_id'] or 'none'}", tam_names.get(r["tam_id"], "No TAM") if r["tam_id"] else "No TAM", r
            )
            for r in by_tam
        ),
        key=lambda line: (line.label == "No TAM", line.label),
    )
    segments = dict(Segment.choices)
    mix["segment"] = [
        mix_line(f"segment-{r['segment']}", segments.get(r["segment"], r["segment"]), r)
        for r in widget_mix(accounts, by="segment")
    ]
    priorities = dict(Priority.choices)
    mix["priority"] = [
        mix_line(f"priority-{r['priority']}", str(priorities.get(r["priority"], r["priority"])), r)
        for r in widget_mix(accounts, by="priority")
    ]
    totals = mix_line("all", "All", widget_mix(accounts)[0])

    limits = thresholds(spec)
    # A region's, a TAM's or a segment's accounts: the indicator twins read only their rows (the whole book's
    # otherwise, where the extra join would cost more than it saves).
    narrowed = policy.health_dashboard_scope(user) is not None or any(
        v is not None for v in (filters.region, filters.tam, filters.segment)
    )
    within = accounts if narrowed else None
    listed = accounts
    if filters.indicator is not None:
        twin = indicator_sql.indicator_q(filters.indicator, limits, today=today, now=now, within=within)
        listed = accounts.filter(twin)
    page = indicator_page(listed, page=filters.page)
    page_accounts = list(page.object_list)
    signals = account_signals(page_accounts, now=now)
    rows = [
        IndicatorRow(account=a, fired=indicators.evaluate(signals[a.pk], limits, today=today)) for a in page_accounts
    ]
    return HealthDashboard(
        filters=filters,
        spec_version=version.version,
        staleness_days=spec.staleness_days,
        thresholds=limits,
        totals=totals,
        mix=mix,
        red=widget_color_list(accounts, HealthColor.RED),
        yellow=widget_color_list(accounts, HealthColor.YELLOW),
        stale_counts=widget_stale_counts(accounts),
        stale=widget_stale_list(accounts),
        measures=measure_lines(widget_measures(accounts)),
        indicators=rows,
        indicator_totals=widget_indicator_totals(accounts, limits, today=today, now=now, within=within),
        page=page,
        region_choices=regions,
        tam_choices=tams,
        today=today,
    )


def sentiment_age(account: Account, today: dt.date) -> int | None:
    """Days since the account's newest sentiment (``last_sentiment_at`` annotated by the list widgets)."""
    at = getattr(account, "last_sentiment_at", None)
    return None if at is None else (today - timezone.localdate(at)).days
