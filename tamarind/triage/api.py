"""REST routes of triage under ``/api/v1/triage/`` (auth and error bodies: ``tamarind.core.api``).

Routes parse, gate (``selectors.case_for_user`` / ``TriageCase.objects.visible_to``), call a service and shape
the answer; the access policy and the rules (one open case per account, an outcome to close) stay in
``tamarind.policy`` and the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, PersonRef, actor, error_responses, paginate
from tamarind.triage import selectors, services
from tamarind.triage.models import (
    CaseStatus,
    Classification,
    Escalation,
    EscalationStatus,
    HealthColor,
    Outcome,
    RiskReason,
    RiskType,
    Severity,
    TriageCase,
    TriageSettings,
    TriageStep,
)

router = Router(tags=["Triage"])


# --- Output ---------------------------------------------------------------------------------------------------


class TriageStepOut(Schema):
    id: int
    text: str
    due_on: dt.date | None
    done: bool
    done_at: dt.datetime | None


class NoteOut(Schema):
    id: int
    text: str
    author: str = ""
    created_at: dt.datetime

    @staticmethod
    def resolve_author(obj: Any) -> str:
        return obj.author.full_name if obj.author_id else "system"


class CaseOut(Schema):
    """A triage case. `overdue`: open and not updated within its color's days (triage settings)."""

    id: int
    account: AccountRef
    health_color: str = Field(..., description="Health at open: `green`, `yellow`, `red` or empty.")
    risk_type: str
    risk_reason: str
    classification: str
    renewal_date: dt.date | None
    owner: PersonRef | None
    status: str = Field(..., description="`new`, `investigating`, `action_plan`, `monitoring` or `closed`.")
    outcome: str = Field(..., description="`won_back`, `lost_churn` or `lost_contraction` once closed.")
    summary: str
    opened_at: dt.datetime
    last_update_at: dt.datetime
    closed_at: dt.datetime | None
    overdue: bool

    @staticmethod
    def resolve_overdue(obj: TriageCase, context: dict[str, Any]) -> bool:
        if hasattr(obj, "overdue"):
            return bool(obj.overdue)
        request = context["request"]
        row = getattr(request, "_triage_settings", None)
        if row is None:
            row = request._triage_settings = selectors.triage_settings()
        return obj.is_overdue(row)


class CaseDetailOut(CaseOut):
    steps: list[TriageStepOut]
    notes: list[NoteOut]

    @staticmethod
    def resolve_steps(obj: TriageCase) -> list[TriageStep]:
        return list(obj.steps.all())

    @staticmethod
    def resolve_notes(obj: TriageCase) -> list[Any]:
        return list(obj.notes.select_related("author"))


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CaseOut]


# --- Input ----------------------------------------------------------------------------------------------------

Text = Annotated[str, Field(max_length=20_000)]


class CaseCreateIn(InputSchema):
    """Open a case (the account's TAM, its region's manager, admins). Defaults: the account's renewal date, its
    TAM as owner, its current health color. 422 when the account already has an open case."""

    account_id: Id
    health_color: HealthColor = None  # type: ignore[assignment]
    risk_type: RiskType = None  # type: ignore[assignment]
    risk_reason: RiskReason = None  # type: ignore[assignment]
    classification: Classification = None  # type: ignore[assignment]
    renewal_date: dt.date | None = None
    owner_id: Id | None = None
    summary: Text = None  # type: ignore[assignment]


class CasePatchIn(InputSchema):
    """Only the fields sent change. `status` moves the case between columns; `closed` needs `outcome`;
    `note` posts an update. Any change restarts the overdue clock."""

    status: CaseStatus = None  # type: ignore[assignment]
    outcome: Outcome = None  # type: ignore[assignment]
    risk_type: RiskType | None = None
    risk_reason: RiskReason | None = None
    classification: Classification | None = None
    renewal_date: dt.date | None = None
    owner_id: Id = None  # type: ignore[assignment]
    summary: Text = None  # type: ignore[assignment]
    note: Text = None  # type: ignore[assignment]


class StepIn(InputSchema):
    text: Annotated[str, Field(min_length=1, max_length=500)]
    due_on: dt.date | None = None


class StepPatchIn(InputSchema):
    done: bool


class CaseListQuery(PageQuery):
    """Documents the filters; they are parsed by ``selectors.CaseFilters``, like the board."""

    region: list[str] = Field([], description="Region ids.")
    tam: list[str] = Field([], description="The account's TAM ids.")
    risk_reason: list[str] = Field([], description="Risk reasons.")
    status: list[str] = Field([], description="Statuses (columns).")
    account: str = Field("", description="An account id.")
    overdue: str = Field("", description="`true`: open cases not updated in time only.")


def _none_to_blank(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("" if v is None and k in ("risk_type", "risk_reason", "classification") else v) for k, v in changes.items()
    }


# --- Routes ---------------------------------------------------------------------------------------------------


@router.get(
    "/cases",
    response={200: CasePage, **error_responses(401, 422)},
    summary="List triage cases",
    description="The cases of the accounts you may read, most recently updated first, filtered like the board.",
)
def triage_case_list(request: HttpRequest, params: Query[CaseListQuery]) -> dict[str, Any]:
    user = actor(request)
    filters = selectors.CaseFilters.from_params(request.GET)
    if filters.errors:
        raise ValidationFailed({key: [msg] for key, msg in filters.errors.items()})
    qs = selectors.case_list(user=user, filters=filters, now=timezone.now())
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/cases",
    response={201: CaseDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Open a triage case",
    description="404 when the account is outside what you may read; 403 when you may read but not open.",
)
def triage_case_create(request: HttpRequest, payload: CaseCreateIn) -> Status[TriageCase]:
    user = actor(request)
    data = payload.changes()
    account = account_for_user(user, data.pop("account_id"))
    case = services.case_open(actor=user, account=account, data=_none_to_blank(data), source="api")
    return Status(201, selectors.case_for_user(user, case.pk))


@router.get(
    "/cases/{case_id}",
    response={200: CaseDetailOut, **error_responses(401, 404, 422)},
    summary="Get a triage case",
    description="With its next steps and updates. 404 when its account is outside what you may read.",
)
def triage_case_detail(request: HttpRequest, case_id: Id) -> TriageCase:
    return selectors.case_for_user(actor(request), case_id)


@router.patch(
    "/cases/{case_id}",
    response={200: CaseDetailOut, **error_responses(401, 403, 404, 422)},
    summary="Change, move or close a triage case",
    description="The account's TAM, its region's manager and admins may; other readers get 403.",
)
def triage_case_update(request: HttpRequest, case_id: Id, payload: CasePatchIn) -> TriageCase:
    user = actor(request)
    case = selectors.case_for_user(user, case_id, write=True)
    return services.case_update(actor=user, case=case, changes=_none_to_blank(payload.changes()), source="api")


@router.post(
    "/cases/{case_id}/steps",
    response={201: TriageStepOut, **error_responses(401, 403, 404, 422)},
    summary="Add a next step to a case",
)
def triage_step_create(request: HttpRequest, case_id: Id, payload: StepIn) -> Status[TriageStep]:
    user = actor(request)
    case = selectors.case_for_user(user, case_id, write=True)
    step = services.step_add(actor=user, case=case, text=payload.text, due_on=payload.due_on, source="api")
    return Status(201, step)


@router.patch(
    "/cases/{case_id}/steps/{step_id}",
    response={200: TriageStepOut, **error_responses(401, 403, 404, 422)},
    summary="Mark a next step done (or not)",
)
def triage_step_update(request: HttpRequest, case_id: Id, step_id: Id, payload: StepPatchIn) -> TriageStep:
    user = actor(request)
    case = selectors.case_for_user(user, case_id, write=True)
    step = case.steps.filter(pk=step_id).first() if abs(step_id) < 2**63 else None
    if step is None:
        raise Http404("No such step.")
    step.case = case
    return services.step_complete(actor=user, step=step, done=payload.done, source="api")


# --- Escalations and settings ---------------------------------------------------------------------------------


class EscalationOut(Schema):
    """An escalation. `overdue`: open and not updated within its severity's cadence (triage settings)."""

    id: int
    account: AccountRef
    case_id: int | None
    title: str
    severity: str = Field(..., description="`critical`, `high`, `medium` or `low`.")
    status: str = Field(..., description="`open` or `resolved`.")
    description: str
    owner: PersonRef | None
    opened_at: dt.datetime
    last_update_at: dt.datetime
    resolved_at: dt.datetime | None
    overdue: bool

    @staticmethod
    def resolve_overdue(obj: Escalation, context: dict[str, Any]) -> bool:
        request = context["request"]
        row = getattr(request, "_triage_settings", None)
        if row is None:
            row = request._triage_settings = selectors.triage_settings()
        return obj.is_overdue(row)


class EscalationUpdateOut(Schema):
    """One entry of an escalation's history: an update's text and/or the fields it changed (owners by name)."""

    at: dt.datetime
    actor_name: str
    opened: bool = Field(..., description="True for the entry that opened the escalation.")
    note: str
    changes: list[dict[str, Any]] = Field(..., description="`field`, `before`, `after` of each change.")

    @staticmethod
    def resolve_changes(obj: selectors.EscalationUpdate) -> list[dict[str, Any]]:
        return [{"field": f, "before": b, "after": a} for f, b, a in obj.changes]


class EscalationDetailOut(EscalationOut):
    """An escalation with its cadence and history (newest first)."""

    update_every_days: int = Field(..., description="Its severity's update cadence (triage settings).")
    updates: list[EscalationUpdateOut]

    @staticmethod
    def resolve_update_every_days(obj: Escalation, context: dict[str, Any]) -> int:
        request = context["request"]
        row = getattr(request, "_triage_settings", None)
        if row is None:
            row = request._triage_settings = selectors.triage_settings()
        return row.escalation_days(obj.severity)

    @staticmethod
    def resolve_updates(obj: Escalation) -> list[selectors.EscalationUpdate]:
        return selectors.escalation_history(escalation=obj)


class EscalationPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[EscalationOut]


class EscalationCreateIn(InputSchema):
    account_id: Id
    title: Annotated[str, Field(min_length=1, max_length=200)]
    severity: Severity = Severity.MEDIUM
    description: Text = ""
    owner_id: Id | None = None


class EscalationPatchIn(InputSchema):
    """`note` records an update (restarting the cadence clock) with or without other changes."""

    title: Annotated[str, Field(min_length=1, max_length=200)] = None  # type: ignore[assignment]
    severity: Severity = None  # type: ignore[assignment]
    status: EscalationStatus = None  # type: ignore[assignment]
    description: Text = None  # type: ignore[assignment]
    owner_id: Id = None  # type: ignore[assignment]
    note: Text = None  # type: ignore[assignment]


class EscalationListQuery(PageQuery):
    state: str = Field("open", description="`open` (default) or `all`.")
    account: Id | None = Field(None, description="An account id.")


class SettingsOut(Schema):
    red_update_days: int
    yellow_update_days: int
    critical_update_days: int
    high_update_days: int
    medium_update_days: int
    low_update_days: int


Days = Annotated[int, Field(ge=1, le=3650)]


class SettingsPatchIn(InputSchema):
    red_update_days: Days = None  # type: ignore[assignment]
    yellow_update_days: Days = None  # type: ignore[assignment]
    critical_update_days: Days = None  # type: ignore[assignment]
    high_update_days: Days = None  # type: ignore[assignment]
    medium_update_days: Days = None  # type: ignore[assignment]
    low_update_days: Days = None  # type: ignore[assignment]


@router.get(
    "/escalations",
    response={200: EscalationPage, **error_responses(401, 422)},
    summary="List escalations",
    description="The escalations of the accounts you may read, open first, most recently updated first.",
)
def triage_escalation_list(request: HttpRequest, params: Query[EscalationListQuery]) -> dict[str, Any]:
    if params.state not in ("open", "all"):
        raise ValidationFailed({"state": ["Choose open or all."]})
    qs = selectors.escalation_list(user=actor(request), open_only=params.state == "open")
    if params.account is not None:
        qs = qs.filter(account_id=params.account)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/escalations",
    response={201: EscalationOut, **error_responses(401, 403, 404, 422)},
    summary="Open an escalation",
    description="On an account (tied to its open triage case, if any): its TAM, its region's manager, admins.",
)
def triage_escalation_create(request: HttpRequest, payload: EscalationCreateIn) -> Status[Escalation]:
    user = actor(request)
    data = payload.changes()
    account = account_for_user(user, data.pop("account_id"))
    esc = services.escalation_open(actor=user, account=account, data=data, source="api")
    return Status(201, selectors.escalation_for_user(user, esc.pk))


@router.get(
    "/escalations/{escalation_id}",
    response={200: EscalationDetailOut, **error_responses(401, 404, 422)},
    summary="Get an escalation",
    description="With its update cadence and its updates and changes, newest first. 404 when its account is "
    "outside what you may read.",
)
def triage_escalation_detail(request: HttpRequest, escalation_id: Id) -> Escalation:
    return selectors.escalation_for_user(actor(request), escalation_id)


@router.patch(
    "/escalations/{escalation_id}",
    response={200: EscalationOut, **error_responses(401, 403, 404, 422)},
    summary="Update, change or resolve an escalation",
)
def triage_escalation_update(request: HttpRequest, escalation_id: Id, payload: EscalationPatchIn) -> Escalation:
    user = actor(request)
    esc = selectors.escalation_for_user(user, escalation_id, write=True)
    return services.escalation_update(actor=user, escalation=esc, changes=payload.changes(), source="api")


@router.get(
    "/settings",
    response={200: SettingsOut, **error_responses(401)},
    summary="Triage update cadences",
    description="Days between updates before a case (by health color) or escalation (by severity) is overdue.",
)
def triage_settings_detail(request: HttpRequest) -> TriageSettings:
    return selectors.triage_settings()


@router.patch(
    "/settings",
    response={200: SettingsOut, **error_responses(401, 403, 422)},
    summary="Change the triage update cadences",
    description="Admins only; every change is audited.",
)
def triage_settings_update(request: HttpRequest, payload: SettingsPatchIn) -> TriageSettings:
    return services.triage_settings_update(actor=actor(request), changes=payload.changes(), source="api")
