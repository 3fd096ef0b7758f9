"""Reads of renewals through the access policy: the settings, one gated fetch per model (``renewal_for_user``,
``step_for_user``, ``review_for_user``), and the renewal review page (totals by aggregate SQL, rows paged per
quarter, a fixed number of queries whatever the book's size)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Segment
from tamarind.core.params import getlist
from tamarind.people.models import Region, Role, User
from tamarind.renewals import rules
from tamarind.renewals.models import (
    Forecast,
    Renewal,
    RenewalQuerySet,
    RenewalReview,
    RenewalSettings,
    RenewalStatus,
    RenewalStep,
)
from tamarind.renewals.quarters import Quarter, quarters_from
from tamarind.triage.models import CaseStatus, TriageCase

MAX_ID = 2**63 - 1
PAGE_SIZE = 25
# What a review page row shows, and nothing else: the health row alone has some thirty columns, and building the
# full models of five tables for a hundred rows cost more than the queries (``bench/renewals_bench.py``).
ROW_FIELDS = (
    "id", "account_id", "renewal_date", "arr", "currency", "forecast", "previous_forecast", "forecast_changed_at",
    "status", "outcome", "new_arr", "tam_id", "owner_id",
    "account__name", "account__crm_id", "account__segment", "account__region_id", "account__region__name",
    "account__health__color", "account__health__stale", "tam__full_name", "owner__full_name",
)  # fmt: skip
QUARTERS_SHOWN = 4  # this quarter and the next three
FORECAST_ORDER = [Forecast.COMMIT, Forecast.LIKELY, Forecast.AT_RISK, Forecast.WILL_CHURN]
MONEY = DecimalField(max_digits=16, decimal_places=2)


def renewal_settings() -> RenewalSettings:
    """The settings row; until an admin has saved one, an unsaved row holding the defaults."""
    return RenewalSettings.objects.filter(pk=RenewalSettings.SINGLETON_PK).first() or RenewalSettings()


def _pk(raw: Any) -> int | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_ID else None


def renewal_for_user(user: User, renewal_id: int | str, *, write: bool = False) -> Renewal:
    """The one permission-gated fetch: 404 when out of scope, 403 when ``write`` and the user may only read."""
    pk = _pk(renewal_id)
    renewal = Renewal.objects.with_related().filter(pk=pk).first() if pk is not None else None
    if renewal is None or not policy.can_read_renewal(user, renewal):
        raise Http404("No such renewal.")
    if write and not policy.can_write_renewal(user, renewal):
        raise PermissionDenied("You may read this renewal but not change it.")
    return renewal


def step_for_user(user: User, renewal: Renewal, step_id: int | str) -> RenewalStep:
    pk = _pk(step_id)
    step = renewal.steps.filter(pk=pk).first() if pk is not None else None
    if step is None:
        raise Http404("No such step.")
    step.renewal = renewal
    return step


def review_for_user(user: User, review_id: int | str) -> RenewalReview:
    pk = _pk(review_id)
    review = RenewalReview.objects.select_related("region", "recorded_by").filter(pk=pk).first() if pk else None
    if review is None or not policy.can_read_renewal_review(user, review):
        raise Http404("No such renewal review.")
    return review


# --- Filters ----------------------------------------------------------------------------------------------------


@dataclass
class ReviewFilters:
    """The review page's filters (web, API, CSV). Values that are not ids or choices are dropped and reported."""

    region: int | None = None
    tam: int | None = None
    owner: int | None = None
    segment: str = ""
    forecast: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: Any) -> ReviewFilters:
        out = cls()
        for key in ("region", "tam", "owner"):
            values = getlist(params, key)
            if values:
                pk = _pk(values[0])
                if pk is None:
                    out.errors.append(f"{key}: {values[0]!r} is not an id.")
                setattr(out, key, pk)
        segment = (getlist(params, "segment") or [""])[0]
        if segment and segment not in Segment.values:
            out.errors.append(f"segment: choose one of {', '.join(Segment.values)}.")
        else:
            out.segment = segment
        forecast = (getlist(params, "forecast") or [""])[0]
        if forecast and forecast not in Forecast.values:
            out.errors.append(f"forecast: choose one of {', '.join(Forecast.values)}.")
        else:
            out.forecast = forecast
        return out

    def q(self) -> Q:
        q = Q()
        if self.region:
            q &= Q(account__region_id=self.region)
        if self.tam:
            q &= Q(tam_id=self.tam)
        if self.owner:
            q &= Q(owner_id=self.owner)
        if self.segment:
            q &= Q(account__segment=self.segment)
        if self.forecast:
            q &= Q(forecast=self.forecast)
        return q

    def querystring(self) -> str:
        parts = [
            f"{k}={v}"
            for k, v in (
                ("region", self.region),
                ("tam", self.tam),
                ("owner", self.owner),
                ("segment", self.segment),
                ("forecast", self.forecast),
            )
            if v
        ]
        return "&".join(parts)


# --- The review page --------------------------------------------------------------------------------------------


@dataclass
class ForecastTotal:
    forecast: str
    label: str
    count: int = 0
    arr: Decimal = Decimal(0)


@dataclass
class QuarterBlock:
    """One quarter of the review page: its ARR totals (from one aggregate query for all quarters), totals by
    forecast, and one page of its rows."""

    quarter: Quarter
    count: int = 0
    up_for_renewal: Decimal = Decimal(0)
    at_risk: Decimal = Decimal(0)
    expected: Decimal = Decimal(0)
    by_forecast: list[ForecastTotal] = field(default_factory=list)
    rows: list[Renewal] = field(default_factory=list)
    page: int = 1
    pages: int = 1

    @property
    def page_param(self) -> str:
        return f"p{self.quarter.key}"


@dataclass
class RegionReview:
    """A region's renewal review cadence: when it was last held and whether it is overdue."""

    region: Region
    last_held: dt.date | None
    overdue: bool


@dataclass
class ReviewPage:
    quarters: list[QuarterBlock]
    last_review: dict[int, dt.date]  # region id -> the day of its last review
    cadence: list[RegionReview]
    settings: RenewalSettings
    today: dt.date
    success_plans: bool  # whether the success plan column shows (the ``success`` app is installed)


def base_queryset(user: User, filters: ReviewFilters) -> RenewalQuerySet:
    return Renewal.objects.visible_to(user).filter(filters.q())


def _bucket(quarters: list[Quarter]) -> Case:
    return Case(
        *[When(renewal_date__gte=q.start, renewal_date__lte=q.end, then=Value(i)) for i, q in enumerate(quarters)],
        default=Value(-1),
        output_field=IntegerField(),
    )


def expected_arr_expression() -> Case:
    """What a renewal is expected to bring, in SQL: the new ARR once closed; open, the ARR unless it will churn."""
    return Case(
        When(status=RenewalStatus.CLOSED, then=F("new_arr")),
        When(forecast=Forecast.WILL_CHURN, then=Value(Decimal(0))),
        default=F("arr"),
        output_field=MONEY,
    )


def forecast_rank() -> Case:
    return Case(
        *[When(forecast=f, then=Value(i)) for i, f in enumerate(FORECAST_ORDER)],
        default=Value(len(FORECAST_ORDER)),
        output_field=IntegerField(),
    )


def quarter_totals(qs: RenewalQuerySet, quarters: list[Quarter]) -> list[QuarterBlock]:
    """ARR totals per quarter and forecast, in one aggregate query."""
    blocks = [
        QuarterBlock(quarter=q, by_forecast=[ForecastTotal(f, str(Forecast(f).label)) for f in FORECAST_ORDER])
        for q in quarters
    ]
    rows = (
        qs.filter(renewal_date__gte=quarters[0].start, renewal_date__lte=quarters[-1].end)
        .annotate(bucket=_bucket(quarters))
        .values("bucket", "forecast")
        .annotate(n=Count("id"), arr_sum=Sum("arr"), expected_sum=Sum(expected_arr_expression()))
        .order_by()
    )
    for row in rows:
        if row["bucket"] < 0:
            continue
        block = blocks[row["bucket"]]
        arr = row["arr_sum"] or Decimal(0)
        block.count += row["n"]
        block.up_for_renewal += arr
        block.expected += row["expected_sum"] or Decimal(0)
        if row["forecast"] in (Forecast.AT_RISK, Forecast.WILL_CHURN):
            block.at_risk += arr
        for total in block.by_forecast:
            if total.forecast == row["forecast"]:
                total.count += row["n"]
                total.arr += arr
    return blocks


def row_queryset(qs: RenewalQuerySet) -> RenewalQuerySet:
    """A page row: the account with its region and health, the owners, the open triage case and the next open
    step (both by subquery), grouped by forecast then date."""
    open_cases = TriageCase.objects.filter(account_id=OuterRef("account_id")).exclude(status=CaseStatus.CLOSED)
    next_step = RenewalStep.objects.filter(renewal_id=OuterRef("pk"), done=False).order_by(
        F("due_on").asc(nulls_last=True), "id"
    )
    return (
        qs.select_related("account", "account__region", "account__health", "tam", "owner")
        .annotate(
            open_case_id=Subquery(open_cases.values("id")[:1]),
            open_case_opened_at=Subquery(open_cases.values("opened_at")[:1]),
            next_step_text=Subquery(next_step.values("text")[:1], output_field=CharField()),
            next_step_due=Subquery(next_step.values("due_on")[:1]),
            forecast_rank=forecast_rank(),
        )
        .order_by("forecast_rank", "renewal_date", "id")
    )


def success_plan_colors(account_ids: list[int]) -> dict[int, str]:
    """The hook for the success plan color column: account id -> its success plan's color. Empty unless the
    ``success`` app is installed; the success app provides ``tamarind.success.selectors.plan_colors`` (wired at
    merge), one query for the page's accounts."""
    if not account_ids or not apps.is_installed("tamarind.success"):
        return {}
    from importlib import import_module

    selectors = import_module("tamarind.success.selectors")
    reader = getattr(selectors, "plan_colors", None)
    return dict(reader(account_ids)) if reader is not None else {}


def last_reviews(user: User) -> dict[int, dt.date]:
    """Region id -> the day of its last renewal review, for the regions whose reviews ``user`` reads."""
    rows = RenewalReview.objects.visible_to(user).values("region_id").annotate(last=Max("held_on")).order_by()
    return {r["region_id"]: r["last"] for r in rows}


def review_cadence(user: User, last: dict[int, dt.date], conf: RenewalSettings, today: dt.date) -> list[RegionReview]:
    """The regions whose renewal review ``user`` oversees (a manager theirs; directors and admins every region
    with a manager), each with its last review and whether it is overdue."""
    if not policy.can_view_review_overdue(user):
        return []
    regions = Region.objects.filter(manager__isnull=False).order_by("name")
    if user.role == Role.MANAGER:
        regions = regions.filter(pk=policy.managed_region_id(user) or 0)
    return [
        RegionReview(r, last.get(r.pk), rules.review_overdue(last.get(r.pk), today, conf.review_every_days))
        for r in regions
    ]


def annotate_changes(rows: list[Renewal], last: dict[int, dt.date], today: dt.date) -> None:
    """What changed since the region's last review, on each row: a forecast move, a triage case opened (a new
    risk), the next step past due."""
    for r in rows:
        since = last.get(r.account.region_id)
        changes: list[str] = []
        moved = r.forecast_changed_at is not None and (
            since is None or timezone.localdate(r.forecast_changed_at) > since
        )
        if moved and r.previous_forecast:
            changes.append(f"forecast {Forecast(r.previous_forecast).label} → {r.get_forecast_display()}")
        opened = getattr(r, "open_case_opened_at", None)
        if opened is not None and (since is None or timezone.localdate(opened) > since):
            changes.append("new triage case")
        due = getattr(r, "next_step_due", None)
        if due is not None and due < today:
            changes.append("next step past due")
        r.changes = changes  # type: ignore[attr-defined]


def review_page(
    *, user: User, filters: ReviewFilters, pages: dict[str, int] | None = None, today: dt.date | None = None
) -> ReviewPage:
    """The renewal review page: this quarter and the next three. Queries: the settings, the totals (one
    aggregate), one page of rows per quarter, the last reviews, the regions' cadence, whatever the book's size."""
    today = today or timezone.localdate()
    pages = pages or {}
    conf = renewal_settings()
    quarters = quarters_from(today, QUARTERS_SHOWN, conf.fiscal_start_month)
    qs = base_queryset(user, filters)
    blocks = quarter_totals(qs, quarters)
    last = last_reviews(user)
    # The row query is built once (its annotations resolved once) and narrowed per quarter.
    rows_qs = row_queryset(qs).only(*ROW_FIELDS)
    for block in blocks:
        block.pages = max(1, -(-block.count // PAGE_SIZE))
        block.page = min(max(1, pages.get(block.page_param, 1)), block.pages)
        if block.count == 0:
            continue
        start = (block.page - 1) * PAGE_SIZE
        q = block.quarter
        block.rows = list(rows_qs.filter(renewal_date__gte=q.start, renewal_date__lte=q.end)[start : start + PAGE_SIZE])
        annotate_changes(block.rows, last, today)
    return ReviewPage(
        quarters=blocks,
        last_review=last,
        cadence=review_cadence(user, last, conf, today),
        settings=conf,
        today=today,
        success_plans=apps.is_installed("tamarind.success"),
    )


def review_choices(user: User) -> dict[str, Any]:
    """The filter choices: regions, TAMs and SAL/AEs the user may filter by, segments, forecasts."""
    regions = Region.objects.order_by("name")
    scope = policy.onboarding_dashboard_region_scope(user)
    if user.role not in (Role.ADMIN, Role.DIRECTOR):
        regions = regions.filter(scope) if scope is not None else regions
    people = User.objects.filter(is_active=True, role__in=[Role.TAM, Role.SAL]).order_by("full_name")
    if policy.account_scope(user) is not None:
        # The owners of the visible renewals, from one pass over them (distinct TAM and owner pairs: a few hundred
        # at most) rather than two IN subqueries that each join the scope's renewals to their accounts (at 100,000
        # renewals the two cost a manager's page some 40 ms of its ~190 ms; ``bench/renewals_bench.py``).
        pairs = Renewal.objects.visible_to(user).order_by().values_list("tam_id", "owner_id").distinct()
        ids = {pk for pair in pairs for pk in pair if pk is not None}
        people = people.filter(pk__in=ids)
    people_list = list(people.values("pk", "full_name", "role"))
    return {
        "regions": list(regions.values("pk", "name")),
        "tams": [p for p in people_list if p["role"] == Role.TAM],
        "owners": [p for p in people_list if p["role"] == Role.SAL],
        "segments": Segment.choices,
        "forecasts": Forecast.choices,
    }


def renewal_history(*, renewal: Renewal) -> list[Any]:
    """The renewal's audit trail, newest first."""
    from tamarind.audit.models import AuditEvent

    return list(
        AuditEvent.objects.filter(object_type="renewals.renewal", object_id=str(renewal.pk)).order_by("-at", "-id")[:50]
    )
