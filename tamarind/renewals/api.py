"""REST routes of renewals under ``/api/v1/renewals/`` (auth and error bodies: ``tamarind.core.api``).

Routes parse, gate (``selectors.renewal_for_user`` / ``Renewal.objects.visible_to`` / ``policy``), call a service
and shape the answer. Money is a decimal string; bad input answers 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import (
    AccountRef,
    Id,
    InputSchema,
    PageQuery,
    PersonRef,
    QuerySchema,
    actor,
    error_responses,
    paginate,
)
from tamarind.renewals import retention, selectors, services
from tamarind.renewals.models import (
    SETTINGS_FIELDS,
    Forecast,
    OutcomeReason,
    Renewal,
    RenewalOutcome,
    RenewalReview,
    RenewalSettings,
    RenewalStep,
)
from tamarind.renewals.quarters import month_start

router = Router(tags=["Renewals"])

Money = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)]
Text = Annotated[str, Field(max_length=10_000)]


# --- Output ------------------------------------------------------------------------------------------------------


class RenewalStepOut(Schema):
    id: int
    text: str
    due_on: dt.date | None
    done: bool
    done_at: dt.datetime | None


class RenewalOut(Schema):
    """A renewal. `expected_arr`: the new ARR once closed; open, the ARR unless it will churn."""

    id: int
    account: AccountRef
    renewal_date: dt.date
    arr: Decimal
    currency: str
    owner: PersonRef | None = Field(None, description="The SAL / AE.")
    tam: PersonRef | None
    forecast: str = Field(..., description="`commit`, `likely`, `at_risk` or `will_churn`.")
    forecast_reason: str
    notes: str
    crm_opportunity_id: str
    status: str = Field(..., description="`open` or `closed`.")
    outcome: str = Field(..., description="`renewed_flat`, `expanded`, `contracted` or `churned` once closed.")
    new_arr: Decimal | None
    outcome_reason: str
    expected_arr: Decimal | None


class RenewalDetailOut(RenewalOut):
    steps: list[RenewalStepOut]

    @staticmethod
    def resolve_steps(obj: Renewal) -> list[RenewalStep]:
        return list(obj.steps.all())


class RenewalPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[RenewalOut]


class RenewalsForecastTotalOut(Schema):
    forecast: str
    label: str
    count: int
    arr: Decimal


class RenewalsQuarterOut(Schema):
    label: str = Field(..., description="Fiscal quarter, e.g. `FY27-Q1` (the fiscal year named by the year it ends).")
    start: dt.date
    end: dt.date
    count: int
    up_for_renewal: Decimal
    at_risk: Decimal
    expected: Decimal
    by_forecast: list[RenewalsForecastTotalOut]


class RenewalsCadenceOut(Schema):
    region_id: int
    region: str
    last_held: dt.date | None
    overdue: bool


class RenewalsReviewSummaryOut(Schema):
    quarters: list[RenewalsQuarterOut]
    cadence: list[RenewalsCadenceOut]


class RenewalReviewOut(Schema):
    id: int
    region_id: int
    held_on: dt.date
    notes: str
    attendee_ids: list[int]
    decisions: dict[str, str] = Field(..., description="Renewal id -> the decision.")

    @staticmethod
    def resolve_attendee_ids(obj: RenewalReview) -> list[int]:
        return sorted(p.pk for p in obj.attendees.all())

    @staticmethod
    def resolve_decisions(obj: RenewalReview) -> dict[str, str]:
        return {str(d.renewal_id): d.decision for d in obj.decisions.all()}


class RenewalReviewPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[RenewalReviewOut]


class RetentionFigureOut(Schema):
    """One figure: `gross` = Σ min(A, B) / Σ A and `net` = Σ B / Σ A in percent (null when no account had ARR at the
    window's start); `new_accounts`: added during the window, left out of both."""

    key: str
    label: str
    accounts: int
    start_arr: Decimal
    kept_arr: Decimal
    end_arr: Decimal
    gross: Decimal | None
    net: Decimal | None
    new_accounts: int
    new_arr: Decimal

    @staticmethod
    def resolve_key(obj: retention.Ratios) -> str:
        return "" if obj.key is None else str(obj.key)


class RetentionOut(Schema):
    window_start: dt.date
    window_end: dt.date
    by: str
    roll_up_to_parent: bool
    gross_target_pct: Decimal
    net_target_pct: Decimal
    book: RetentionFigureOut
    slices: list[RetentionFigureOut]


class RenewalSettingsOut(Schema):
    fiscal_start_month: int
    task_lead_months: int
    review_due_days: int
    term_months: int
    reviews_per_month: int
    gross_target_pct: Decimal
    net_target_pct: Decimal
    roll_up_to_parent: bool


# --- Input -------------------------------------------------------------------------------------------------------


class RenewalCreateIn(InputSchema):
    """Add a renewal to an account (its TAM and SAL/AE, the region's manager, admins). Defaults: the account's next
    renewal date and ARR. 422 when the account already has a renewal on that date."""

    account_id: Id
    renewal_date: dt.date | None = None
    arr: Money | None = None
    forecast: Forecast | None = None
    forecast_reason: Annotated[str, Field(max_length=500)] = ""
    notes: Text = ""


class RenewalPatchIn(InputSchema):
    """Only the fields sent change. A forecast moved to `at_risk` or `will_churn` notifies the region's manager and
    proposes a triage case."""

    arr: Money = None  # type: ignore[assignment]
    forecast: Forecast = None  # type: ignore[assignment]
    forecast_reason: Annotated[str, Field(max_length=500)] = None  # type: ignore[assignment]
    notes: Text = None  # type: ignore[assignment]
    owner_id: Id | None = None
    tam_id: Id | None = None


class RenewalCloseIn(InputSchema):
    """Close with the outcome and the new ARR (required); churn and contraction need a churn reason, expansion an
    expansion reason. The account's next renewal date moves on by the term unless `next_renewal_date` is given."""

    outcome: RenewalOutcome
    new_arr: Money
    outcome_reason: OutcomeReason | None = None
    notes: Annotated[str, Field(max_length=500)] = ""
    next_renewal_date: dt.date | None = None


class RenewalStepIn(InputSchema):
    text: Annotated[str, Field(min_length=1, max_length=500)]
    due_on: dt.date | None = None


class RenewalReviewIn(InputSchema):
    region_id: Id
    held_on: dt.date
    attendee_ids: list[Id] = []
    notes: Text = ""
    decisions: dict[str, Annotated[str, Field(max_length=500)]] = Field({}, description="Renewal id -> decision.")


class RenewalSettingsIn(InputSchema):
    fiscal_start_month: int = Field(None, ge=1, le=12)  # type: ignore[assignment]
    task_lead_months: int = Field(None, ge=1, le=24)  # type: ignore[assignment]
    review_due_days: int = Field(None, ge=1, le=365)  # type: ignore[assignment]
    term_months: int = Field(None, ge=1, le=120)  # type: ignore[assignment]
    reviews_per_month: int = Field(None, ge=1, le=31)  # type: ignore[assignment]
    gross_target_pct: Decimal = Field(None, gt=0, le=1000, decimal_places=2)  # type: ignore[assignment]
    net_target_pct: Decimal = Field(None, gt=0, le=1000, decimal_places=2)  # type: ignore[assignment]
    roll_up_to_parent: bool = None  # type: ignore[assignment]


class RenewalListQuery(PageQuery):
    """Documents the filters; they are parsed by ``selectors.ReviewFilters``, like the review page."""

    region: str = Field("", description="A region id.")
    tam: str = Field("", description="A TAM id.")
    owner: str = Field("", description="A SAL / AE id.")
    segment: str = Field("", description="`smb`, `mid_market` or `enterprise`.")
    forecast: str = Field("", description="`commit`, `likely`, `at_risk` or `will_churn`.")
    date_from: dt.date | None = Field(None, description="Renewal date on or after.")
    date_to: dt.date | None = Field(None, description="Renewal date on or before.")


class RetentionQuery(QuerySchema):
    end: dt.date | None = Field(None, description="Any day of the window's last month (default: the latest month).")
    by: str = Field("region", description="`book`, `region`, `tam`, `segment`, `engagement_model` or `cohort`.")
    roll_up_to_parent: bool | None = Field(None, description="Default: the renewal settings'.")


# --- Routes ------------------------------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> selectors.ReviewFilters:
    filters = selectors.ReviewFilters.from_params(request.GET)
    if filters.errors:
        raise ValidationFailed({"filters": filters.errors})
    return filters


@router.get(
    "/",
    response={200: RenewalPage, **error_responses(401, 422)},
    summary="List renewals",
    description="The renewals of the accounts you may read, by date, filtered like the review page.",
)
def renewals_list(request: HttpRequest, params: Query[RenewalListQuery]) -> dict[str, Any]:
    user = actor(request)
    qs = selectors.base_queryset(user, _filters(request)).select_related("account", "tam", "owner")
    if params.date_from:
        qs = qs.filter(renewal_date__gte=params.date_from)
    if params.date_to:
        qs = qs.filter(renewal_date__lte=params.date_to)
    return paginate(qs.order_by("renewal_date", "id"), page=params.page, page_size=params.page_size)


@router.post(
    "/",
    response={201: RenewalDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Add a renewal",
    description="404 when the account is outside what you may read; 403 when you may read but not write.",
)
def renewals_create(request: HttpRequest, payload: RenewalCreateIn) -> Status[Renewal]:
    user = actor(request)
    data = payload.changes()
    account = account_for_user(user, data.pop("account_id"))
    renewal = services.renewal_create(actor=user, account=account, data=data, source="api")
    return Status(201, selectors.renewal_for_user(user, renewal.pk))


@router.get(
    "/review",
    response={200: RenewalsReviewSummaryOut, **error_responses(401, 422)},
    summary="The renewal review's totals",
    description="This quarter and the next three: ARR up for renewal, at risk and expected, by forecast; and the "
    "renewal review cadence of the regions you oversee (overdue when not held within it).",
)
def renewals_review_summary(request: HttpRequest) -> dict[str, Any]:
    user = actor(request)
    conf = selectors.renewal_settings()
    from tamarind.renewals.quarters import quarters_from

    quarters = quarters_from(timezone.localdate(), selectors.QUARTERS_SHOWN, conf.fiscal_start_month)
    blocks = selectors.quarter_totals(selectors.base_queryset(user, _filters(request)), quarters)
    cadence = selectors.review_cadence(user, selectors.last_reviews(user), conf, timezone.localdate())
    return {
        "quarters": [
            {
                "label": b.quarter.label,
                "start": b.quarter.start,
                "end": b.quarter.end,
                "count": b.count,
                "up_for_renewal": b.up_for_renewal,
                "at_risk": b.at_risk,
                "expected": b.expected,
                "by_forecast": [vars(f) for f in b.by_forecast],
            }
            for b in blocks
        ],
        "cadence": [
            {"region_id": c.region.pk, "region": c.region.name, "last_held": c.last_held, "overdue": c.overdue}
            for c in cadence
        ],
    }


@router.get(
    "/reviews",
    response={200: RenewalReviewPage, **error_responses(401, 422)},
    summary="List renewal reviews held",
)
def renewals_review_list(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    qs = RenewalReview.objects.visible_to(actor(request)).prefetch_related("attendees", "decisions")
    return paginate(qs.order_by("-held_on", "-id"), page=params.page, page_size=params.page_size)


@router.post(
    "/reviews",
    response={201: RenewalReviewOut, **error_responses(401, 403, 422)},
    summary="Record a renewal review",
    description="The region's manager or an admin: the date, attendees, notes and a decision per renewal.",
)
def renewals_review_create(request: HttpRequest, payload: RenewalReviewIn) -> Status[RenewalReview]:
    user = actor(request)
    if not policy.can_record_renewal_review(user):
        raise PermissionDenied("Only a region's manager or an admin records a renewal review.")
    review = services.review_record(
        actor=user,
        region=payload.region_id,
        held_on=payload.held_on,
        attendees=payload.attendee_ids,
        notes=payload.notes,
        decisions=payload.decisions,
        source="api",
    )
    return Status(201, review)


@router.get(
    "/reviews/{review_id}",
    response={200: RenewalReviewOut, **error_responses(401, 404, 422)},
    summary="Get a renewal review",
)
def renewals_review_detail(request: HttpRequest, review_id: Id) -> RenewalReview:
    return selectors.review_for_user(actor(request), review_id)


@router.get(
    "/retention",
    response={200: RetentionOut, **error_responses(401, 403, 422)},
    summary="Gross and net retention",
    description="Over the 12 months ending in `end`'s month, for the accounts you may read, as sums (never "
    "averages); by a slice. Managers, directors and admins.",
)
def renewals_retention(request: HttpRequest, params: Query[RetentionQuery]) -> dict[str, Any]:
    user = actor(request)
    if not policy.can_view_retention(user):
        raise PermissionDenied("Retention is for managers, directors and admins.")
    if params.by not in retention.DIMENSIONS:
        raise ValidationFailed({"by": [f"Choose one of {', '.join(retention.DIMENSIONS)}."]})
    conf = selectors.renewal_settings()
    end = (
        month_start(params.end) if params.end else (retention.latest_window_end() or month_start(timezone.localdate()))
    )
    roll = conf.roll_up_to_parent if params.roll_up_to_parent is None else params.roll_up_to_parent
    window = retention.Window(end)
    scope = policy.account_scope(user)
    return {
        "window_start": window.start,
        "window_end": window.end,
        "by": params.by,
        "roll_up_to_parent": roll,
        "gross_target_pct": conf.gross_target_pct,
        "net_target_pct": conf.net_target_pct,
        "book": retention.book_retention(account_scope=scope, window=window, roll_up=roll),
        "slices": retention.retention_by(account_scope=scope, window=window, dimension=params.by, roll_up=roll),
    }


@router.get("/settings", response={200: RenewalSettingsOut, **error_responses(401)}, summary="The renewal settings")
def renewals_settings_get(request: HttpRequest) -> RenewalSettings:
    actor(request)
    return selectors.renewal_settings()


@router.patch(
    "/settings",
    response={200: RenewalSettingsOut, **error_responses(401, 403, 422)},
    summary="Change the renewal settings",
    description="Admins only; audited.",
)
def renewals_settings_update(request: HttpRequest, payload: RenewalSettingsIn) -> RenewalSettings:
    changes = {k: v for k, v in payload.changes().items() if k in SETTINGS_FIELDS and v is not None}
    return services.renewal_settings_update(actor=actor(request), changes=changes, source="api")


@router.get(
    "/{renewal_id}",
    response={200: RenewalDetailOut, **error_responses(401, 404, 422)},
    summary="Get a renewal",
    description="With its next steps. 404 when its account is outside what you may read.",
)
def renewals_detail(request: HttpRequest, renewal_id: Id) -> Renewal:
    return selectors.renewal_for_user(actor(request), renewal_id)


@router.patch(
    "/{renewal_id}",
    response={200: RenewalDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Change a renewal",
    description="The account's TAM and SAL/AE, its region's manager and admins may; other readers get 403.",
)
def renewals_update(request: HttpRequest, renewal_id: Id, payload: RenewalPatchIn) -> Renewal:
    user = actor(request)
    renewal = selectors.renewal_for_user(user, renewal_id, write=True)
    changes = payload.changes()
    services.renewal_update(actor=user, renewal=renewal, changes=changes, source="api")
    return selectors.renewal_for_user(user, renewal_id)


@router.post(
    "/{renewal_id}/close",
    response={200: RenewalDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Close a renewal with its outcome",
)
def renewals_close(request: HttpRequest, renewal_id: Id, payload: RenewalCloseIn) -> Renewal:
    user = actor(request)
    renewal = selectors.renewal_for_user(user, renewal_id, write=True)
    services.renewal_close(
        actor=user,
        renewal=renewal,
        outcome=str(payload.outcome.value),
        new_arr=payload.new_arr,
        reason=payload.outcome_reason.value if payload.outcome_reason else "",
        notes=payload.notes,
        next_renewal_date=payload.next_renewal_date,
        source="api",
    )
    return selectors.renewal_for_user(user, renewal_id)


@router.post(
    "/{renewal_id}/steps",
    response={201: RenewalStepOut, **error_responses(401, 403, 404, 422)},
    summary="Add a next step to a renewal",
)
def renewals_step_create(request: HttpRequest, renewal_id: Id, payload: RenewalStepIn) -> Status[RenewalStep]:
    user = actor(request)
    renewal = selectors.renewal_for_user(user, renewal_id, write=True)
    step = services.step_add(actor=user, renewal=renewal, text=payload.text, due_on=payload.due_on, source="api")
    return Status(201, step)
