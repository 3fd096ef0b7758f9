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
from tamarind.core.schemas import actor, error_responses, money
from tamarind.dashboards import selectors

router = Router(tags=["Dashboards"])


class OnboardingDashboardQuery(Schema):
    region: str | None = Field(None, description="A region id (directors and admins; managers see their region).")
    tam: str | None = Field(None, description="A TAM's person id (not for TAMs, whose dashboard is their own).")
    period: str | None = Field(
        None, description="Contract-start period: `all` (default), `3m`, `6m`, `12m`, `24m` or `ytd`."
    )
    from_: str | None = Field(None, alias="from", description="Contract start on or after (YYYY-MM-DD).")
    to: str | None = Field(None, description="Contract start on or before (YYYY-MM-DD).")


class MetricOut(Schema):
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
    metrics: list[MetricOut]


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
    tams: list[LineOut]
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
    dash = selectors.onboarding_dashboard(user, filters, regions=regions, today=today)
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
