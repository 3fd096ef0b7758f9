"""Reads behind the Customer Onboarding Dashboard, one named function per widget.

Every widget is one query (two for a list with its total) whatever the number of accounts: counts, shares and
medians are computed by the database (``expressions.Median``, ``expressions.DaysBetween``), and lists are cut
to a page. ``onboarding_dashboard`` runs them all for the page and the API; the bench times each widget against
its own SQL run through a bare cursor.

What the figures mean (the metric definitions and targets come from ``onboarding.metrics`` and the
admin-edited ``OnboardingTargets``, the states mirror ``onboarding.metrics.measure``):

- *in onboarding*: records not completed (one per account, a database constraint);
- a metric's *median*: over records whose milestone is reached (both dates, in order), in days;
- a metric's *share within target*: met / (met + missed + overdue), where *met*/*missed* are reached milestones
  within/after the target and *overdue* are open records past the target without the milestone: a late
  milestone counts against the share as soon as it is late, not only once it is reached. Records still within
  target without the milestone (running) and records without a start are not counted; reversed dates are
  counted apart as data errors;
- *over target*: open records with at least one milestone past its target and not reached, with the days over;
- *unassigned*: open records with no TAM, and qualifying accounts with no TAM that have no open record yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Greatest, TruncMonth
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.accounts.selectors import BookScope, book_scope
from tamarind.assignment.models import Qualification
from tamarind.core.values import DATE_RANGE_MESSAGE, date_out_of_range
from tamarind.dashboards.expressions import DaysBetween, Median
from tamarind.onboarding.metrics import METRICS, Measure, MetricDef, MetricState, TargetDays
from tamarind.onboarding.models import OPEN_STATUSES, Onboarding, OnboardingQuerySet, OnboardingStatus
from tamarind.onboarding.selectors import any_overdue_q, onboarding_metrics, onboarding_targets, overdue_q
from tamarind.people.models import Region, Role, User

MAX_ID = 2**63 - 1
LIST_LIMIT = 50
CHART_MONTHS = 12
# TAM lines per page of the "By TAM" table: a region has hundreds of TAMs at 100,000 accounts.
TAM_PAGE_SIZE = 25

# Contract-start periods offered by the filter: key -> (label, whole months back, counting the current one).
PERIODS: dict[str, tuple[str, int | None]] = {
    "all": ("All time", None),
    "3m": ("Last 3 months", 3),
    "6m": ("Last 6 months", 6),
    "12m": ("Last 12 months", 12),
    "24m": ("Last 24 months", 24),
    "ytd": ("This year", None),
    "custom": ("Custom dates", None),
}


def _rows(qs: Iterable[Any]) -> list[dict[str, Any]]:
    """The rows of a ``values()`` query as plain dicts (a handful: the query groups them)."""
    return [dict(row) for row in qs]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after (or before, when negative) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


# --- Filters --------------------------------------------------------------------------------------------------


@dataclass
class DashboardFilters:
    """Region, TAM and contract-start period, shared by the page and the API. Bad values land in ``errors``
    (the page shows them and ignores the value; the API answers 422)."""

    region: int | None = None
    tam: int | None = None
    period: str = "all"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], *, user: User, regions: Iterable[Region], today: dt.date
    ) -> DashboardFilters:
        f = cls()
        f.region, f.tam = parse_region_and_tam(params, user=user, regions=regions, errors=f.errors, own="records")
        period = param_text(params.get("period")) or "all"
        if period not in PERIODS:
            f.errors["period"] = f"Unknown period {period!r}."
            period = "all"
        f.period = period
        _label, months = PERIODS[period]
        if months is not None:
            f.date_from = add_months(today, -(months - 1))
        elif period == "ytd":
            f.date_from = dt.date(today.year, 1, 1)
        for key, attr in (("from", "date_from"), ("to", "date_to")):
            value = param_text(params.get(key))
            if not value:
                continue
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                f.errors[key] = f"{key} must be a date (YYYY-MM-DD), got {value!r}."
                continue
            if date_out_of_range(day):
                f.errors[key] = f"{key}: {DATE_RANGE_MESSAGE}"
                continue
            setattr(f, attr, day)
            f.period = "custom"
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors["to"] = "The period ends before it starts."
            f.date_to = None
        return f

    @property
    def period_label(self) -> str:
        if self.period != "custom":
            return PERIODS[self.period][0]
        start = self.date_from.isoformat() if self.date_from else "…"
        end = self.date_to.isoformat() if self.date_to else "…"
        return f"{start} to {end}"

    def chart_window(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The months the chart spans: [first, last] month starts. The period's months; without a start, the
        ``CHART_MONTHS`` months up to its end (or this month)."""
        last = month_start(self.date_to or today)
        first = month_start(self.date_from) if self.date_from else add_months(last, -(CHART_MONTHS - 1))
        return first, max(first, last)


def param_text(value: Any) -> str:
    """A query parameter as trimmed text (the first of a list; NULs dropped; at most 100 characters)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").replace("\x00", "").strip()[:100]


def page_number(value: Any) -> int:
    """A page number from a query parameter: a positive whole number, else the first page (as Django's
    ``Paginator.get_page`` reads one); a page past the end shows the last."""
    try:
        number = int(param_text(value))
    except ValueError:
        return 1
    return number if 0 < number <= MAX_ID else 1


def param_id(value: str) -> int | None:
    """A positive id that fits a bigint, or ``None``."""
    try:
        pk = int(value)
    except ValueError:
        return None
    return pk if 0 < pk <= MAX_ID else None


def parse_region_and_tam(
    params: Mapping[str, Any], *, user: User, regions: Iterable[Region], errors: dict[str, str], own: str
) -> tuple[int | None, int | None]:
    """The region and TAM filters every dashboard shares: a region among ``regions`` (for those who may filter by
    region), a TAM's id (for those who may filter by TAM; ``own`` names what a TAM's dashboard shows). Bad values
    land in ``errors`` and come back as ``None``."""
    region_id = tam_id = None
    region = param_text(params.get("region"))
    if region:
        pk = param_id(region)
        allowed = {r.pk for r in regions} if policy.can_filter_dashboard_by_region(user) else set()
        if pk is None:
            errors["region"] = f"region must be a region id, got {region!r}."
        elif pk not in allowed:
            errors["region"] = "That region is not one you can filter by."
        else:
            region_id = pk
    tam = param_text(params.get("tam"))
    if tam:
        pk = param_id(tam)
        if not policy.can_filter_dashboard_by_tam(user):
            errors["tam"] = f"Your dashboard shows your own {own} only."
        elif pk is None:
            errors["tam"] = f"tam must be a person's id, got {tam!r}."
        else:
            tam_id = pk
    return region_id, tam_id


# --- Scope ----------------------------------------------------------------------------------------------------


def regions_in(scope: Q | None) -> list[Region]:
    """The regions a dashboard's region scope (``policy``; ``None``: all) covers, by name."""
    qs = Region.objects.order_by("name")
    return list(qs if scope is None else qs.filter(scope))


def dashboard_regions(user: User) -> list[Region]:
    """The regions ``user``'s dashboard covers, by name (none for a TAM: their dashboard is their own)."""
    return regions_in(policy.onboarding_dashboard_region_scope(user))


def dashboard_records(user: User, filters: DashboardFilters, *, with_tam: bool = True) -> OnboardingQuerySet:
    """The onboarding records on ``user``'s dashboard under ``filters`` (no query runs here)."""
    qs = Onboarding.objects.all()
    scope = policy.onboarding_dashboard_scope(user)
    if scope is not None:
        qs = qs.filter(scope)
    if filters.region is not None:
        qs = qs.filter(account__region_id=filters.region)
    if with_tam and filters.tam is not None:
        qs = qs.filter(tam_id=filters.tam)
    if filters.date_from is not None:
        qs = qs.filter(contract_start__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(contract_start__lte=filters.date_to)
    return qs.order_by()


# --- Widget: accounts in onboarding ---------------------------------------------------------------------------


def widget_in_onboarding(records: OnboardingQuerySet, *, targets: TargetDays, today: dt.date) -> list[dict[str, Any]]:
    """Open records per (region, TAM): how many, by status, and how many are over a target. One query."""
    by_status = {
        f"status_{s}": Count("pk", filter=Q(status=s)) for s in OPEN_STATUSES if s != OnboardingStatus.NOT_STARTED
    }
    return _rows(
        records.filter(status__in=OPEN_STATUSES)
        .values("account__region_id", "tam_id")
        .annotate(
            open=Count("pk"),
            status_not_started=Count("pk", filter=Q(status=OnboardingStatus.NOT_STARTED)),
            **by_status,
            over_target=Count("pk", filter=any_overdue_q(targets, today)),
        )
        .order_by()
    )


# --- Widget: time-to-value metrics ----------------------------------------------------------------------------


def _error_q(m: MetricDef) -> Q:
    """Records whose milestone is dated before its start: a data error (``metrics.date_order_error``); for time to
    engage only before the purchase (a call before the onboarding start is engaged on day 0)."""
    error = Q(**{f"{m.end_field}__lt": F(m.start_field)})
    if m.floor_field is not None:
        error &= Q(**{f"{m.floor_field}__isnull": False, f"{m.end_field}__lt": F(m.floor_field)})
    return error


def _reached_q(m: MetricDef) -> Q:
    reached = Q(**{f"{m.start_field}__isnull": False, f"{m.end_field}__isnull": False})
    if m.floor_field is None:
        return reached & Q(**{f"{m.end_field}__gte": F(m.start_field)})
    return reached & ~_error_q(m)


def _days(m: MetricDef) -> Any:
    """Days from start to milestone; never negative (``metrics.measure``: an early engagement is 0 days)."""
    days = DaysBetween(F(m.start_field), F(m.end_field))
    return days if m.floor_field is None else Greatest(days, Value(0))


def metric_aggregates(targets: TargetDays, today: dt.date) -> dict[str, Any]:
    """For each metric: median of reached milestones, and counts met / missed / overdue / data errors."""
    out: dict[str, Any] = {}
    for m in METRICS:
        target = getattr(targets, m.target)
        reached = _reached_q(m)
        days = _days(m)
        out[f"{m.key}__median"] = Median(days, filter=reached)
        out[f"{m.key}__met"] = Count("pk", filter=reached & Q(LessThanOrEqual(days, target)))
        out[f"{m.key}__missed"] = Count("pk", filter=reached & Q(GreaterThan(days, target)))
        out[f"{m.key}__overdue"] = Count("pk", filter=Q(status__in=OPEN_STATUSES) & overdue_q(m, target, today))
        out[f"{m.key}__errors"] = Count("pk", filter=_error_q(m))
    return out


GROUPS = {"all": (), "region": ("account__region_id",), "tam": ("tam_id",)}


def widget_metrics(
    records: OnboardingQuerySet, *, targets: TargetDays, today: dt.date, by: str = "all"
) -> list[dict[str, Any]]:
    """The metrics' figures over ``records``, overall (one row) or per region or per TAM. One query."""
    aggregates = metric_aggregates(targets, today)
    if by == "all":
        return [records.aggregate(**aggregates)]
    return list(records.values(*GROUPS[by]).annotate(**aggregates).order_by())


# --- Widget: over target --------------------------------------------------------------------------------------


def widget_over_target(
    records: OnboardingQuerySet, *, targets: TargetDays, today: dt.date, limit: int = LIST_LIMIT
) -> list[Onboarding]:
    """Open records past a target without the milestone, most days over first (account, region, TAM loaded)."""
    over = []
    for m in METRICS:
        target = getattr(targets, m.target)
        running = DaysBetween(F(m.start_field), Value(today))
        over.append(Case(When(overdue_q(m, target, today), then=running - target), default=Value(-1)))
    return list(
        records.filter(status__in=OPEN_STATUSES)
        .filter(any_overdue_q(targets, today))
        .annotate(days_over=Greatest(*over))
        .select_related("account", "account__region", "tam")
        .order_by("-days_over", "account__name", "pk")[:limit]
    )


# --- Widgets: unassigned ---------------------------------------------------------------------------------------


def widget_unassigned_records(records: OnboardingQuerySet, *, limit: int = LIST_LIMIT) -> list[Onboarding]:
    """Open records with no TAM, oldest contract first (account and region loaded)."""
    return list(
        records.filter(status__in=OPEN_STATUSES, tam__isnull=True)
        .select_related("account", "account__region", "account__product_tier")
        .order_by(F("contract_start").asc(nulls_last=True), "account__name", "pk")[:limit]
    )


def staffing_accounts(user: User, filters: DashboardFilters) -> QuerySet[Qualification]:
    """Qualifying accounts with no TAM and no open onboarding yet, within ``user``'s reach and the region filter."""
    if not policy.can_view_staffing(user):
        return Qualification.objects.none()
    qs = Qualification.objects.to_staff()
    if policy.account_scope(user) is not None:
        qs = qs.filter(account__in=Account.objects.visible_to(user))
    if filters.region is not None:
        qs = qs.filter(account__region_id=filters.region)
    open_records = Onboarding.objects.filter(status__in=OPEN_STATUSES).values("account_id")
    return qs.exclude(account_id__in=open_records).order_by()


def onboarding_scope(user: User, filters: DashboardFilters, *, regions: Iterable[Region]) -> BookScope | None:
    """The caption of the unassigned figures: the book they come from, how many of its accounts have no TAM and how
    many of those qualify for one (the rest never show as unassigned). ``None`` on a TAM's own dashboard. One
    query (``accounts.selectors.book_scope``)."""
    if not policy.can_view_staffing(user):
        return None
    accounts = Account.objects.visible_to(user)
    label = policy.account_scope_label(user)
    if filters.region is not None:
        accounts = accounts.filter(region_id=filters.region)
        label = next((r.name for r in regions if r.pk == filters.region), "One region")
    return book_scope(accounts, label=label)


def widget_unassigned_accounts(user: User, filters: DashboardFilters, *, limit: int = LIST_LIMIT) -> list[Account]:
    """Accounts to staff (see ``staffing_accounts``), newest qualification first, region and tier loaded."""
    return [
        q.account
        for q in staffing_accounts(user, filters)
        .select_related("account", "account__region", "account__product_tier")
        .order_by("-qualified_at", "account__name")[:limit]
    ]


def widget_unassigned_counts(
    records: OnboardingQuerySet, user: User, filters: DashboardFilters
) -> list[dict[str, Any]]:
    """Per region: open records with no TAM and accounts to staff. Two grouped counts in one query (UNION)."""
    unassigned_records = (
        records.filter(status__in=OPEN_STATUSES, tam__isnull=True)
        .values("account__region_id")
        .annotate(records=Count("pk"), accounts=Value(0))
        .order_by()
    )
    to_staff = (
        staffing_accounts(user, filters)
        .values("account__region_id")
        .annotate(records=Value(0), accounts=Count("pk"))
        .order_by()
    )
    return _rows(unassigned_records.union(to_staff, all=True))


# --- Widget: time to first value by month of contract start --------------------------------------------------


def widget_first_value_by_month(
    records: OnboardingQuerySet, *, targets: TargetDays, first: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """Per month of contract start in [first, last]: the median time to first value, records reached, met."""
    m = METRICS[1]
    days = _days(m)
    return _rows(
        records.filter(_reached_q(m), contract_start__gte=first, contract_start__lt=add_months(last, 1))
        .annotate(month=TruncMonth("contract_start"))
        .values("month")
        .annotate(
            median=Median(days),
            reached=Count("pk"),
            met=Count("pk", filter=Q(LessThanOrEqual(days, getattr(targets, m.target)))),
        )
        .order_by("month")
    )


# --- The page's figures ---------------------------------------------------------------------------------------


@dataclass
class MetricFigure:
    """One metric over a group of records."""

    key: str
    label: str
    target: int
    median: float | None
    met: int
    missed: int
    overdue: int
    errors: int

    @property
    def judged(self) -> int:
        return self.met + self.missed + self.overdue

    @property
    def share(self) -> float | None:
        """Share within target, 0..1 (``None`` when no record is judged yet)."""
        return self.met / self.judged if self.judged else None

    @property
    def share_pct(self) -> int | None:
        share = self.share
        return None if share is None else round(share * 100)

    @property
    def median_display(self) -> str:
        if self.median is None:
            return "—"
        return f"{self.median:.0f}" if float(self.median).is_integer() else f"{self.median:.1f}"

    @property
    def median_over(self) -> bool:
        return self.median is not None and self.median > self.target


def figures(row: Mapping[str, Any] | None, targets: TargetDays) -> list[MetricFigure]:
    row = row or {}
    return [
        MetricFigure(
            key=m.key,
            label=m.label,
            target=getattr(targets, m.target),
            median=row.get(f"{m.key}__median"),
            met=row.get(f"{m.key}__met") or 0,
            missed=row.get(f"{m.key}__missed") or 0,
            overdue=row.get(f"{m.key}__overdue") or 0,
            errors=row.get(f"{m.key}__errors") or 0,
        )
        for m in METRICS
    ]


@dataclass
class Line:
    """One row of the per-region or per-TAM table (or the totals)."""

    key: str
    label: str
    region: Region | None = None
    tam: User | None = None
    open: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    over_target: int = 0
    unassigned_records: int = 0
    unassigned_accounts: int = 0
    metrics: list[MetricFigure] = field(default_factory=list)

    @property
    def unassigned(self) -> int:
        return self.unassigned_records + self.unassigned_accounts


@dataclass
class OverTarget:
    """An open record over a target: its metrics (from ``onboarding.metrics``) and the largest days over."""

    onboarding: Onboarding
    measures: list[Measure]
    days_over: int

    @property
    def overdue(self) -> list[Measure]:
        return [m for m in self.measures if m.state == MetricState.OVERDUE]


@dataclass
class ChartMonth:
    month: dt.date
    median: float | None
    reached: int
    met: int


@dataclass
class OnboardingDashboard:
    filters: DashboardFilters
    targets: TargetDays
    today: dt.date
    totals: Line
    regions: list[Line]
    tams: list[Line]
    over_target: list[OverTarget]
    unassigned_records: list[Onboarding]
    unassigned_accounts: list[Account]
    chart: list[ChartMonth]
    region_choices: list[Region]
    tam_choices: list[TamRow]
    tam_page: int = 1
    tam_pages: int = 1
    tams_total: int = 0

    @property
    def tam_first(self) -> int:
        """The position of the page's first TAM line, counting from 1."""
        return (self.tam_page - 1) * TAM_PAGE_SIZE + 1 if self.tams else 0

    @property
    def tam_last(self) -> int:
        return self.tam_first + len(self.tams) - 1 if self.tams else 0


def _counts_into(line: Line, row: Mapping[str, Any]) -> None:
    line.open += row["open"]
    line.over_target += row["over_target"]
    for s in OPEN_STATUSES:
        line.by_status[s] = line.by_status.get(s, 0) + row[f"status_{s}"]


class TamRow(NamedTuple):
    """A TAM as the dashboard lists them (its lines, the TAM filter, the assign pickers): plain values, since an
    admin's dashboard at 100,000 accounts lists some 2,000 TAMs."""

    pk: int
    full_name: str
    region_id: int | None
    region_name: str | None
    is_active: bool

    def person(self) -> User:
        """The TAM as an (unsaved) ``User`` with their region, for a line of the table."""
        person = User(pk=self.pk, full_name=self.full_name, region_id=self.region_id, is_active=self.is_active)
        if self.region_id is not None:
            person.region = Region(pk=self.region_id, name=self.region_name or "")
        return person


def _tam_rows(where: Q) -> list[TamRow]:
    rows = (
        User.objects.filter(where)
        .order_by("full_name", "pk")
        .values_list("pk", "full_name", "region_id", "region__name", "is_active")
    )
    return [TamRow(*row) for row in rows]


def region_tams(region_id: int) -> list[TamRow]:
    """The active TAMs of a region, by name: whom an "assign a TAM" picker offers for its accounts."""
    return _tam_rows(Q(role=Role.TAM, is_active=True, region_id=region_id))


def dashboard_tams(user: User, region_ids: Iterable[int], extra_ids: Iterable[int]) -> list[TamRow]:
    """The TAMs the dashboard lists: a TAM themselves; others the active TAMs of the regions covered and any TAM
    who holds records on it (an inactive one, or one from elsewhere). One query, by name."""
    if user.role == Role.TAM:
        where = Q(pk=user.pk)
    else:
        scope = policy.onboarding_dashboard_region_scope(user)
        where = Q(is_active=True) if scope is None else Q(is_active=True, region_id__in=list(region_ids))
        where = Q(role=Role.TAM) & (where | Q(pk__in=list(extra_ids)))
    return _tam_rows(where)


def tams_with_records(records: OnboardingQuerySet) -> set[int | None]:
    """The TAMs holding records among ``records`` (``None`` for records without a TAM). One query."""
    return set(records.order_by().values_list("tam_id", flat=True).distinct())


def onboarding_dashboard(
    user: User,
    filters: DashboardFilters,
    *,
    regions: list[Region],
    today: dt.date | None = None,
    tam_page: int = 1,
) -> OnboardingDashboard:
    """Every widget of the Customer Onboarding Dashboard for ``user``. A fixed number of queries.

    ``regions`` is ``dashboard_regions(user)``; ``filters`` comes from ``DashboardFilters.from_params`` over it.
    The "By TAM" lines come a page (``tam_page``, ``TAM_PAGE_SIZE`` lines) at a time, "Unassigned" first, then
    the TAMs by name; only that page's TAMs have their metrics computed.
    """
    today = today or timezone.localdate()
    targets = onboarding_targets().as_days()
    records = dashboard_records(user, filters)

    cells = widget_in_onboarding(records, targets=targets, today=today)
    overall = widget_metrics(records, targets=targets, today=today)[0]
    per_region = {
        r["account__region_id"]: r for r in widget_metrics(records, targets=targets, today=today, by="region")
    }
    unassigned = widget_unassigned_counts(dashboard_records(user, filters, with_tam=False), user, filters)

    totals = Line(key="all", label="All", metrics=figures(overall, targets))
    region_lines = {
        r.pk: Line(key=f"region-{r.pk}", label=r.name, region=r, metrics=figures(per_region.get(r.pk), targets))
        for r in regions
        if filters.region is None or r.pk == filters.region
    }
    tam_ids = tams_with_records(records)
    all_tams = dashboard_tams(user, [r.pk for r in regions], [pk for pk in tam_ids if pk is not None])
    listed: list[TamRow | None] = [None] if None in tam_ids else []
    listed += [
        t
        for t in all_tams
        if (filters.tam is None or t.pk == filters.tam)
        and (filters.region is None or t.region_id == filters.region or t.pk in tam_ids)
    ]
    tam_pages = max(1, -(-len(listed) // TAM_PAGE_SIZE))
    tam_page = min(max(1, tam_page), tam_pages)
    shown = listed[(tam_page - 1) * TAM_PAGE_SIZE : tam_page * TAM_PAGE_SIZE]
    on_page = Q(tam_id__in=[t.pk for t in shown if t is not None])
    if None in shown:
        on_page |= Q(tam__isnull=True)
    per_tam = {r["tam_id"]: r for r in widget_metrics(records.filter(on_page), targets=targets, today=today, by="tam")}
    tam_lines: dict[int | None, Line] = {}
    for t in shown:
        if t is None:
            tam_lines[None] = Line(key="tam-none", label="Unassigned", metrics=figures(per_tam.get(None), targets))
        else:
            tam_lines[t.pk] = Line(
                key=f"tam-{t.pk}", label=t.full_name, tam=t.person(), metrics=figures(per_tam.get(t.pk), targets)
            )
    for cell in cells:
        _counts_into(totals, cell)
        if cell["account__region_id"] in region_lines:
            _counts_into(region_lines[cell["account__region_id"]], cell)
        if cell["tam_id"] in tam_lines:
            _counts_into(tam_lines[cell["tam_id"]], cell)
    for row in unassigned:
        totals.unassigned_records += row["records"]
        totals.unassigned_accounts += row["accounts"]
        line = region_lines.get(row["account__region_id"])
        if line is not None:
            line.unassigned_records += row["records"]
            line.unassigned_accounts += row["accounts"]
    for line in tam_lines.values():
        if line.tam is not None:
            line.region = line.tam.region
        line.by_status = {s: line.by_status.get(s, 0) for s in OPEN_STATUSES}
    for line in [totals, *region_lines.values()]:
        line.by_status = {s: line.by_status.get(s, 0) for s in OPEN_STATUSES}

    over = [
        OverTarget(onboarding=o, measures=onboarding_metrics(o, targets, today), days_over=o.days_over)  # type: ignore[attr-defined]
        for o in widget_over_target(records, targets=targets, today=today, limit=LIST_LIMIT)
    ]
    first, last = filters.chart_window(today)
    months = {
        _as_date(row["month"]): row
        for row in widget_first_value_by_month(records, targets=targets, first=first, last=last)
    }
    chart = []
    month = first
    while month <= last:
        found = months.get(month)
        chart.append(
            ChartMonth(
                month=month,
                median=found["median"] if found else None,
                reached=found["reached"] if found else 0,
                met=found["met"] if found else 0,
            )
        )
        month = add_months(month, 1)

    return OnboardingDashboard(
        filters=filters,
        targets=targets,
        today=today,
        totals=totals,
        regions=list(region_lines.values()),
        tams=list(tam_lines.values()),
        over_target=over,
        unassigned_records=widget_unassigned_records(
            dashboard_records(user, filters, with_tam=False), limit=LIST_LIMIT
        ),
        unassigned_accounts=widget_unassigned_accounts(user, filters, limit=LIST_LIMIT),
        chart=chart,
        region_choices=regions,
        tam_choices=[t for t in all_tams if t.is_active or t.pk == filters.tam],
        tam_page=tam_page,
        tam_pages=tam_pages,
        tams_total=len(listed),
    )


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
