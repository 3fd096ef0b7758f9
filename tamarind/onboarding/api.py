"""REST routes of onboarding under ``/api/v1/onboarding/`` (auth and error bodies: ``tamarind.core.api``).

Routes parse, gate (``selectors.onboarding_for_user`` / ``Onboarding.objects.visible_to``), call a service and
shape the answer; the access policy and the rules stay in ``tamarind.policy`` and the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, PersonRef, actor, error_responses, paginate
from tamarind.onboarding import selectors, services
from tamarind.onboarding.metrics import Measure
from tamarind.onboarding.models import STEPS, Onboarding, OnboardingStatus, OnboardingTargets

router = Router(tags=["Onboarding"])


# --- Output ---------------------------------------------------------------------------------------------------


class OnboardingMetricOut(Schema):
    key: str = Field(..., description="`time_to_engage`, `time_to_first_value` or `time_to_onboard`.")
    label: str
    state: str = Field(
        ...,
        description=(
            "`met` / `missed` (milestone reached within / after target), `running` / `overdue` (not reached yet, "
            "within / past target), `pending` (nothing to count yet), `data_error` (milestone before its start)."
        ),
    )
    days: int | None = Field(
        None, description="Days from start to milestone; days so far while running or overdue; null otherwise."
    )
    target_days: int
    days_over: int | None = Field(None, description="Days over (positive) or under (negative) the target.")
    error: str = Field("", description="What is wrong with the dates, for `data_error`.")


def _metric(m: Measure) -> dict[str, Any]:
    return {
        "key": m.key,
        "label": m.label,
        "state": str(m.state),
        "days": m.days,
        "target_days": m.target,
        "days_over": m.delta,
        "error": m.error,
    }


class OnboardingStepOut(Schema):
    key: str
    label: str
    done_on: dt.date | None


class OnboardingOut(Schema):
    """An onboarding record with its milestone dates, checklist and time-to-value metrics."""

    id: int
    account: AccountRef
    tam: PersonRef | None = Field(None, description="Null while the account has no TAM (unassigned).")
    status: str = Field(..., description="`not_started`, `scheduled`, `in_progress`, `on_hold` or `completed`.")
    contract_start: dt.date | None = Field(None, description="The purchase date.")
    onboarding_start: dt.date | None
    first_engagement: dt.date | None = Field(None, description="The first call with the customer (kickoff).")
    infrastructure_ready: dt.date | None
    first_value: dt.date | None
    onboarding_finish: dt.date | None = Field(None, description="The first cadence call.")
    steps: list[OnboardingStepOut]
    notes: str
    challenges: str
    highlights: str
    delay_reason: str
    experience_score: int | None = Field(None, description="1-5; required to complete.")
    metrics: list[OnboardingMetricOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_steps(obj: Onboarding) -> list[dict[str, Any]]:
        return [{"key": s.key, "label": s.label, "done_on": getattr(obj, s.field)} for s in STEPS]

    @staticmethod
    def resolve_metrics(obj: Onboarding, context: dict[str, Any]) -> list[dict[str, Any]]:
        request = context["request"]
        targets = getattr(request, "_onboarding_targets", None)
        if targets is None:
            targets = selectors.onboarding_targets().as_days()
            request._onboarding_targets = targets
        return [_metric(m) for m in selectors.onboarding_metrics(obj, targets, timezone.localdate())]


class OnboardingPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[OnboardingOut]


class TargetsOut(Schema):
    engage_days: int = Field(..., description="Time to engage target: onboarding start to first engagement.")
    first_value_days: int = Field(..., description="Time to first value target: contract start to first value.")
    onboard_days: int = Field(..., description="Time to onboard target: onboarding start to onboarding finish.")


# --- Input ----------------------------------------------------------------------------------------------------

Day = Annotated[dt.date | None, Field(description="A date (YYYY-MM-DD) or null to clear.")]
Text = Annotated[str, Field(max_length=20_000)]


class OnboardingPatchIn(InputSchema):
    """Only the fields sent change. Completing (`status: completed`) needs every milestone date in order,
    `notes` and `experience_score`, and moves the account to Adoption."""

    status: OnboardingStatus = None  # type: ignore[assignment]
    contract_start: Day = None
    onboarding_start: Day = None
    first_engagement: Day = None
    infrastructure_ready: Day = None
    first_value: Day = None
    onboarding_finish: Day = None
    handoff_done_on: Day = None
    welcome_email_done_on: Day = None
    kickoff_call_done_on: Day = None
    success_plan_done_on: Day = None
    cadence_call_done_on: Day = None
    notes: Text = None  # type: ignore[assignment]
    challenges: Text = None  # type: ignore[assignment]
    highlights: Text = None  # type: ignore[assignment]
    delay_reason: Annotated[str, Field(max_length=500)] = None  # type: ignore[assignment]
    experience_score: Annotated[int | None, Field(ge=1, le=5)] = None


class TargetsPatchIn(InputSchema):
    engage_days: Annotated[int, Field(ge=1, le=3650)] = None  # type: ignore[assignment]
    first_value_days: Annotated[int, Field(ge=1, le=3650)] = None  # type: ignore[assignment]
    onboard_days: Annotated[int, Field(ge=1, le=3650)] = None  # type: ignore[assignment]


class OnboardingListQuery(PageQuery):
    """Documents the filters; they are parsed by ``selectors.OnboardingFilters``, like the web list."""

    scope: str = Field("", description="`mine` (records where you are the TAM) or `all` (all you may read).")
    state: str = Field("open", description="`open`, `overdue` (open and past a target), `completed` or `any`.")
    status: list[str] = Field([], description="Statuses (repeat the parameter or separate with commas).")
    tam: list[str] = Field([], description="TAM ids, or `none` for unassigned records.")
    q: str = Field("", description="Account name contains this, or its CRM id equals it.")


# --- Routes ---------------------------------------------------------------------------------------------------


@router.get(
    "/",
    response={200: OnboardingPage, **error_responses(401, 422)},
    summary="List onboarding records",
    description=(
        "The onboarding records you may read (those of the accounts you may read), oldest onboarding start first. "
        "A TAM gets their own records unless `scope=all`. An invalid filter answers 422 naming the parameter."
    ),
)
def onboarding_list(request: HttpRequest, params: Query[OnboardingListQuery]) -> dict[str, Any]:
    user = actor(request)
    filters = selectors.OnboardingFilters.from_params(request.GET, user=user)
    if filters.errors:
        raise ValidationFailed({key: [msg] for key, msg in filters.errors.items()})
    targets = selectors.onboarding_targets().as_days()
    request._onboarding_targets = targets  # type: ignore[attr-defined]
    qs = selectors.onboarding_list(user=user, filters=filters, targets=targets)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.get(
    "/targets",
    response={200: TargetsOut, **error_responses(401)},
    summary="Time-to-value targets",
    description="The targets in days (admin-editable; defaults 14, 30 and 45).",
)
def onboarding_targets_detail(request: HttpRequest) -> OnboardingTargets:
    return selectors.onboarding_targets()


@router.patch(
    "/targets",
    response={200: TargetsOut, **error_responses(401, 403, 422)},
    summary="Change the time-to-value targets",
    description="Admins only; every change is audited.",
)
def onboarding_targets_update(request: HttpRequest, payload: TargetsPatchIn) -> OnboardingTargets:
    return services.onboarding_targets_update(actor=actor(request), changes=payload.changes(), source="api")


@router.get(
    "/{onboarding_id}",
    response={200: OnboardingOut, **error_responses(401, 404, 422)},
    summary="Get an onboarding record",
    description="404 when it does not exist or its account is outside what you may read.",
)
def onboarding_detail(request: HttpRequest, onboarding_id: Id) -> Onboarding:
    return selectors.onboarding_for_user(actor(request), onboarding_id)


@router.patch(
    "/{onboarding_id}",
    response={200: OnboardingOut, **error_responses(401, 403, 404, 422)},
    summary="Change an onboarding record",
    description=(
        "Send only the fields to change. The record's TAM, the account's region manager and admins may; "
        "others who read it get 403. Completing needs every milestone date (in order), notes and the score."
    ),
)
def onboarding_update(request: HttpRequest, onboarding_id: Id, payload: OnboardingPatchIn) -> Onboarding:
    user = actor(request)
    onboarding = selectors.onboarding_for_user(user, onboarding_id, write=True)
    return services.onboarding_update(actor=user, onboarding=onboarding, changes=payload.changes(), source="api")
