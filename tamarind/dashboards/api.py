"""REST routes of the dashboards, mounted by ``core.api`` under ``/api/v1/dashboards``.

The Customer Onboarding Dashboard's figures, with the same access policy and filters as the page
(``tamarind.policy``, Dashboards section): directors and admins all regions, a TAM Manager their region, a TAM
their own records; SAL/AE and SA 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import QuerySchema, actor, error_responses, money
from tamarind.dashboards import health_selectors, selectors
from tamarind.dashboards.selectors import param_text

LIST_PAGE_HEALTH = health_selectors.LIST_PAGE

router = Router(tags=["Dashboards"])


class OnboardingDashboardQuery(QuerySchema):
    region: str | None = Field(None, description="A region id (directors and admins; managers see their region).")
    tam: str | None = Field(None, description="A TAM's person id (not for TAMs, whose dashboard is their own).")
    period: str | None = Field(
        None, description="Contract-start period: `all` (default), `3m`, `6m`, `12m`, `24m` or `ytd`."
    )
    from_: str | None = Field(None, alias="from", description="Contract start on or after (YYYY-MM-DD).")
    to: str | None = Field(None, description="Contract start on or before (YYYY-MM-DD).")
    tam_page: int = Field(
        1, ge=1, le=2**63 - 1, description=f"The page of `tams`, {selectors.TAM_PAGE_SIZE} lines a page."
    )


class DashboardMetricOut(Schema):
    key: str = Field(..., description="`time_to_engage`, `time_to_first_value` or `time_to_onboard`.")
    label: str
    target_days: int
    median_days: float | None = Field(..., description="Median over records whose milestone is reached.")
    within_target_share: float | None = Field(
        ..., description="met / (met + missed + overdue), 0 to 1; null when no record is judged yet."
    )
    met: int = Field(..., description="Milestone reached within the target.")
    missed: int = Field(..., description="Milestone reached after the target.")
    overdue: int = Field(..., description="Open, past the target, milestone not reached.")
    data_errors: int = Field(..., description="Milestone dated before its start.")


class LineOut(Schema):
    key: str
    label: str
    region_id: int | None
    tam_id: int | None
    in_onboarding: int = Field(..., description="Open (not completed) records.")
    by_status: dict[str, int]
    over_target: int = Field(..., description="Open records past a target without the milestone.")
    unassigned_records: int = Field(..., description="Open records without a TAM (regions and totals only).")
    unassigned_accounts: int = Field(..., description="Qualifying accounts with no TAM and no open record.")
    metrics: list[DashboardMetricOut]


class OverTargetOut(Schema):
    onboarding_id: int
    account_id: int
    account: str
    region: str
    tam_id: int | None
    tam: str | None
    status: str
    contract_start: dt.date | None
    days_over: int = Field(..., description="The largest days over among the metrics past their target.")
    over: dict[str, int] = Field(..., description="Days over per metric past its target.")


class UnassignedRecordOut(Schema):
    onboarding_id: int
    account_id: int
    account: str
    region_id: int
    region: str
    contract_start: dt.date | None


class UnassignedAccountOut(Schema):
    account_id: int
    account: str
    region_id: int
    region: str
    arr: str | None
    currency: str
    tier: str | None


class ChartMonthOut(Schema):
    month: dt.date = Field(..., description="First day of the month of contract start.")
    median_days: float | None
    reached: int = Field(..., description="Records of the month with first value reached.")
    met: int = Field(..., description="Of those, within the target.")


class FiltersOut(Schema):
    region: int | None
    tam: int | None
    period: str
    date_from: dt.date | None
    date_to: dt.date | None


class OnboardingDashboardOut(Schema):
    today: dt.date
    targets: dict[str, int] = Field(..., description="Target days per metric key (admin-editable).")
    filters: FiltersOut
    totals: LineOut
    regions: list[LineOut]
    tams: list[LineOut] = Field(
        ...,
        description=f"One page ({selectors.TAM_PAGE_SIZE} lines) of the per-TAM figures: `Unassigned` first (open "
        "records without a TAM), then the TAMs by name.",
    )
    tam_page: int = Field(..., description="The page of `tams` (a page past the end answers the last).")
    tam_pages: int
    tams_total: int = Field(..., description="Per-TAM lines over all pages.")
    over_target: list[OverTargetOut] = Field(..., description=f"The {selectors.LIST_LIMIT} most overdue.")
    unassigned_records: list[UnassignedRecordOut]
    unassigned_accounts: list[UnassignedAccountOut]
    first_value_by_month: list[ChartMonthOut]


def _line(line: selectors.Line) -> dict[str, Any]:
    return {
        "key": line.key,
        "label": line.label,
        "region_id": line.region.pk if line.region else None,
        "tam_id": line.tam.pk if line.tam else None,
        "in_onboarding": line.open,
        "by_status": line.by_status,
        "over_target": line.over_target,
        "unassigned_records": line.unassigned_records,
        "unassigned_accounts": line.unassigned_accounts,
        "metrics": [
            {
                "key": m.key,
                "label": m.label,
                "target_days": m.target,
                "median_days": m.median,
                "within_target_share": m.share,
                "met": m.met,
                "missed": m.missed,
                "overdue": m.overdue,
                "data_errors": m.errors,
            }
            for m in line.metrics
        ],
    }


def _over(row: selectors.OverTarget) -> dict[str, Any]:
    o = row.onboarding
    return {
        "onboarding_id": o.pk,
        "account_id": o.account_id,
        "account": o.account.name,
        "region": o.account.region.name,
        "tam_id": o.tam_id,
        "tam": o.tam.full_name if o.tam else None,
        "status": o.status,
        "contract_start": o.contract_start,
        "days_over": row.days_over,
        "over": {m.key: m.over_by for m in row.overdue},
    }


@router.get(
    "/onboarding",
    response={200: OnboardingDashboardOut, **error_responses(401, 403, 422)},
    summary="Customer onboarding dashboard",
    description="Per region and per TAM: records in onboarding, unassigned, over target, and each time-to-value "
    "metric's median and share within target; the median time to first value by month of contract start. "
    "Directors and admins see every region, a TAM Manager their region, a TAM their own records.",
)
def onboarding_dashboard(request: HttpRequest, params: Query[OnboardingDashboardQuery]) -> dict[str, Any]:
    user = actor(request)
    if not policy.can_view_onboarding_dashboard(user):
        raise PermissionDenied("The onboarding dashboard is for TAMs, their managers, directors and admins.")
    today = timezone.localdate()
    regions = selectors.dashboard_regions(user)
    raw = {"region": params.region, "tam": params.tam, "period": params.period, "from": params.from_, "to": params.to}
    filters = selectors.DashboardFilters.from_params(raw, user=user, regions=regions, today=today)
    if filters.errors:
        raise ValidationFailed({k: [v] for k, v in filters.errors.items()})
    dash = selectors.onboarding_dashboard(user, filters, regions=regions, today=today, tam_page=params.tam_page)
    return {
        "today": today,
        "targets": {
            "time_to_engage": dash.targets.engage,
            "time_to_first_value": dash.targets.first_value,
            "time_to_onboard": dash.targets.onboard,
        },
        "filters": {
            "region": filters.region,
            "tam": filters.tam,
            "period": filters.period,
            "date_from": filters.date_from,
            "date_to": filters.date_to,
        },
        "totals": _line(dash.totals),
        "regions": [_line(line) for line in dash.regions],
        "tams": [_line(line) for line in dash.tams],
        "tam_page": dash.tam_page,
        "tam_pages": dash.tam_pages,
        "tams_total": dash.tams_total,
        "over_target": [_over(row) for row in dash.over_target],
        "unassigned_records": [
            {
                "onboarding_id": o.pk,
                "account_id": o.account_id,
                "account": o.account.name,
                "region_id": o.account.region_id,
                "region": o.account.region.name,
                "contract_start": o.contract_start,
            }
            for o in dash.unassigned_records
        ],
        "unassigned_accounts": [
            {
                "account_id": a.pk,
                "account": a.name,
                "region_id": a.region_id,
                "region": a.region.name,
                "arr": money(a.arr),
                "currency": a.currency,
                "tier": a.product_tier.name if a.product_tier else None,
            }
            for a in dash.unassigned_accounts
        ],
        "first_value_by_month": [
            {"month": m.month, "median_days": m.median, "reached": m.reached, "met": m.met} for m in dash.chart
        ],
    }


# --- Customer Health Dashboard ------------------------------------------------------------------------------------


class HealthDashboardQuery(QuerySchema):
    region: str | None = Field(None, description="A region id (directors and admins; managers see their region).")
    tam: str | None = Field(None, description="A TAM's person id (not for TAMs, whose dashboard is their own).")
    segment: str | None = Field(None, description="`smb`, `mid_market` or `enterprise`.")
    indicator: str | None = Field(
        None,
        description="Only the accounts this early-warning indicator fires for in the per-account list: "
        "`low_utilization`, `active_users_falling`, `no_first_value`, `no_call`, `ticket_spike`, `open_urgent`, "
        "`renewal_at_risk` or `stalled_triage`.",
    )
    page: str | None = Field(None, description="The page of the early-warning indicators (worst health first).")
    red_page: str | None = Field(None, description="The page of the red accounts (lowest score first).")
    yellow_page: str | None = Field(None, description="The page of the yellow accounts (lowest score first).")
    stale_page: str | None = Field(None, description="The page of the stale reviews (oldest review first).")
    tab: str | None = Field(
        None,
        description="Only one tab's figures, as the page shows them: `overview` (totals, left_out, mix, trend, "
        "stale and never-reviewed counts), `lists` (red, yellow), `stale`, `measures` or `indicators` (indicator "
        "totals and the per-account page); the other fields are null. Every tab's figures when absent.",
    )


class MixCellOut(Schema):
    accounts: int
    arr: str | None


class MixLineOut(Schema):
    key: str = Field(..., description="`all`, `region-<id>`, `tam-<id>` / `tam-none`, `segment-<key>`, `priority-<n>`.")
    label: str
    accounts: int
    arr: str | None
    colors: dict[str, MixCellOut] = Field(..., description="Per `green`, `yellow`, `red` and `none` (not scored).")


class HealthTrendPointOut(Schema):
    day: dt.date
    accounts: dict[str, int] = Field(..., description="Per `green`, `yellow`, `red` and `none` (not scored).")
    arr: dict[str, str | None] = Field(..., description="ARR per color, the same keys.")
    stale: int = Field(..., description="Accounts whose TAM sentiment was stale that day.")


class HealthLeftOutOut(Schema):
    will_churn: int = Field(..., description="Accounts of the same scope that will churn: out of health reporting.")


class HealthAccountOut(Schema):
    account_id: int
    account: str
    region: str
    tam_id: int | None
    tam: str | None
    score: int | None
    color: str | None
    drag: str | None = Field(..., description="The measure pulling the score down most.")
    stale: bool
    sentiment_age_days: int | None = Field(..., description="Days since the newest TAM sentiment; null: never.")
    next_renewal_date: dt.date | None


class HealthListPageOut(Schema):
    page: int
    pages: int
    accounts: int = Field(..., description="Accounts in the whole list (every page).")


class MeasureLineOut(Schema):
    key: str
    label: str
    green: int
    yellow: int
    red: int
    average: float | None = Field(..., description="Average score of the accounts rated on this measure.")


class FiredOut(Schema):
    key: str
    label: str
    why: str


class IndicatorRowOut(Schema):
    account_id: int
    account: str
    color: str | None
    score: int | None
    fired: list[FiredOut]


class IndicatorTotalOut(Schema):
    key: str = Field(..., description="The indicator's key; `any`: at least one indicator fired.")
    label: str
    accounts: int = Field(..., description="Accounts of the book shown (filters applied) it fires for.")
    arr: str | None = Field(..., description="Their ARR.")


class IndicatorPageOut(Schema):
    indicator: str | None = Field(..., description="The indicator the list is cut to (null: every account).")
    page: int
    pages: int
    accounts: int
    rows: list[IndicatorRowOut]


class HealthDashboardOut(Schema):
    """Every tab's figures; with ``tab``, the other tabs' fields are null."""

    today: dt.date
    model_version: int
    staleness_days: int
    filters: dict[str, Any]
    totals: MixLineOut | None = Field(..., description="The accounts in health reporting (see `left_out`).")
    left_out: HealthLeftOutOut | None
    mix: dict[str, list[MixLineOut]] | None = Field(..., description="By `region`, `tam`, `segment` and `priority`.")
    trend: list[HealthTrendPointOut] | None = Field(
        ...,
        description=f"The mix of the accounts shown on each of the last {health_selectors.TREND_DAYS} days, as "
        "that day's last full recompute left it (days without one are absent).",
    )
    red: list[HealthAccountOut] | None = Field(
        ..., description=f"One page (`red_page`) of {LIST_PAGE_HEALTH}, lowest score first."
    )
    red_page: HealthListPageOut | None
    yellow: list[HealthAccountOut] | None = Field(..., description="One page (`yellow_page`), lowest score first.")
    yellow_page: HealthListPageOut | None
    stale_count: int | None
    never_reviewed_count: int | None
    stale: list[HealthAccountOut] | None = Field(..., description="One page (`stale_page`), oldest review first.")
    stale_page: HealthListPageOut | None
    measures: list[MeasureLineOut] | None
    indicator_totals: list[IndicatorTotalOut] | None = Field(
        ..., description="Per early-warning indicator, in order, then `any`: accounts and ARR it fires for."
    )
    indicators: IndicatorPageOut | None


def _health_account(a: Any, dash: health_selectors.HealthDashboard) -> dict[str, Any]:
    health = getattr(a, "health", None)
    age = health_selectors.sentiment_age(a, dash.today)
    return {
        "account_id": a.pk,
        "account": a.name,
        "region": a.region.name,
        "tam_id": a.tam_id,
        "tam": a.tam.full_name if a.tam else None,
        "score": health.score if health else None,
        "color": (health.color or None) if health else None,
        "drag": (health.drag or None) if health else None,
        "stale": age is not None and age > dash.staleness_days,
        "sentiment_age_days": age,
        "next_renewal_date": a.next_renewal_date,
    }


def _list_page(page: Any) -> dict[str, int]:
    return {"page": page.number, "pages": page.paginator.num_pages, "accounts": page.paginator.count}


@router.get(
    "/health",
    response={200: HealthDashboardOut, **error_responses(401, 403, 422)},
    summary="Customer health dashboard",
    description="The health mix (accounts and ARR per color) by region, TAM, segment and priority, and its trend; "
    "red and yellow accounts and stale reviews, a page of each; each measure's bands and average; per early-warning "
    "indicator, the accounts and ARR it fires for across the book; and one page of early-warning indicators per "
    "account (what fired and why), optionally only the accounts one indicator fires for. Directors and admins see "
    "every region, a TAM Manager their region, a TAM their own accounts; accounts that will churn are out of health "
    "reporting (`left_out`).",
)
def health_dashboard(request: HttpRequest, params: Query[HealthDashboardQuery]) -> dict[str, Any]:
    user = actor(request)
    if not policy.can_view_health_dashboard(user):
        raise PermissionDenied("The health dashboard is for TAMs, their managers, directors and admins.")
    regions = health_selectors.health_regions(user)
    raw = params.dict()
    filters = health_selectors.HealthFilters.from_params(raw, user=user, regions=regions)
    tab = param_text(params.tab) or None
    if tab is not None and tab not in health_selectors.TABS:
        filters.errors["tab"] = f"Unknown tab {tab!r}: one of {', '.join(health_selectors.TABS)}."
    if filters.errors:
        raise ValidationFailed({k: [v] for k, v in filters.errors.items()})
    dash = health_selectors.health_dashboard(user, filters, regions=regions, tab=tab)
    out: dict[str, Any] = {
        "today": dash.today,
        "model_version": dash.spec_version,
        "staleness_days": dash.staleness_days,
        "filters": {
            "region": filters.region,
            "tam": filters.tam,
            "segment": filters.segment,
            "indicator": filters.indicator,
            **{key: getattr(filters, key) for key in health_selectors.PAGES},
            "tab": tab,
        },
        **dict.fromkeys(
            ["totals", "left_out", "mix", "trend", "stale_count", "never_reviewed_count", "measures"], None
        ),
        **dict.fromkeys(["red", "red_page", "yellow", "yellow_page", "stale", "stale_page"], None),
        **dict.fromkeys(["indicator_totals", "indicators"], None),
    }
    if dash.overview is not None and dash.trend is not None:
        out.update(health_selectors.overview_figures(dash.overview, dash.trend))
        out["left_out"] = {"will_churn": dash.overview.left_out}
        out["stale_count"], out["never_reviewed_count"] = dash.overview.stale, dash.overview.never
    for key in ("red", "yellow", "stale"):
        page = getattr(dash, key)
        if page is not None:
            out[key] = [_health_account(a, dash) for a in page]
            out[f"{key}_page"] = _list_page(page)
    if dash.measures is not None:
        out["measures"] = [{"key": m.key, "label": m.label, **m.counts, "average": m.average} for m in dash.measures]
    if dash.indicator_totals is not None and dash.page is not None and dash.indicators is not None:
        out["indicator_totals"] = [
            {"key": t.key, "label": t.label, "accounts": t.accounts, "arr": money(t.arr)} for t in dash.indicator_totals
        ]
        out["indicators"] = {
            "indicator": filters.indicator,
            **_list_page(dash.page),
            "rows": [
                {
                    "account_id": row.account.pk,
                    "account": row.account.name,
                    "color": _color(row.account),
                    "score": getattr(getattr(row.account, "health", None), "score", None),
                    "fired": [{"key": f.key, "label": f.label, "why": f.why} for f in row.fired],
                }
                for row in dash.indicators
            ],
        }
    return out


def _color(account: Any) -> str | None:
    health = getattr(account, "health", None)
    return (health.color or None) if health else None
