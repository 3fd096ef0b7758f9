"""REST routes of engagement under ``/api/v1/engagement/``: models (admins write), an account's placement,
capacity, the what-if planner (read-only: a draft in, the moves out, nothing written), iterations and their
comparison. Auth and error bodies: ``tamarind.core.api``; the access policy: ``tamarind.policy``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.assignment.rules import RuleError
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import Id, InputSchema, QuerySchema, actor, error_responses
from tamarind.engagement import selectors, services
from tamarind.engagement.comparison import compare
from tamarind.engagement.models import EngagementModel, Iteration, Placement

router = Router(tags=["Engagement"])


class EngagementModelOut(Schema):
    key: str
    name: str
    description: str
    tam_managed: bool
    criteria: dict[str, Any] = Field(..., description="Qualification criteria, like the assignment rules.")
    precedence: int | None = Field(..., description="Lower wins where criteria overlap; null: none.")
    cadence_days: dict[str, int]
    services: list[str]
    metrics: list[str]
    indicators: list[str]
    is_active: bool


Criteria = dict[str, Any]


class EngagementModelIn(InputSchema):
    """A model's settings. Criteria overlapping another active model's need distinct precedences on both (422)."""

    key: Annotated[str, Field(max_length=40)] | None = None
    name: Annotated[str, Field(max_length=80)] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    tam_managed: bool | None = None
    criteria: Criteria | None = None
    precedence: Annotated[int, Field(ge=0, le=32767)] | None = None
    cadence_days: dict[str, int] | None = None
    services: list[Annotated[str, Field(max_length=200)]] | None = None
    metrics: list[str] | None = None
    indicators: list[str] | None = None
    is_active: bool | None = None


class EngagementPlacementOut(Schema):
    from_model: str
    to_model: str
    source: str = Field(..., description="`rules`, `manual` or `initial`.")
    reason: str
    placed_on: dt.date


class EngagementAccountOut(Schema):
    account_id: int
    model: str = Field(..., description="The model's key on the day asked (today by default); empty: none.")
    on: dt.date
    history: list[EngagementPlacementOut]


class EngagementPlaceIn(InputSchema):
    model: Annotated[str, Field(max_length=40, description="A model's key; empty for none.")]
    reason: Annotated[str, Field(max_length=500)]


class EngagementDayQuery(QuerySchema):
    on: dt.date | None = None


class EngagementTamLoadOut(Schema):
    tam_id: int
    tam: str
    accounts: int
    arr: Decimal
    target_arr: Decimal
    p1_share: float
    over: bool


class EngagementCapacityOut(Schema):
    target_arr_per_tam: Decimal
    target_p1_share: Decimal
    tams: list[EngagementTamLoadOut]


class EngagementWhatIfQuery(QuerySchema):
    drafts: Annotated[str, Field(max_length=100_000)] = Field(
        "{}",
        description='A JSON object: model key -> criteria, or -> {"criteria": ..., "precedence": ...}.',
    )


class EngagementMoveOut(Schema):
    from_model: str
    to_model: str
    accounts: int
    arr: Decimal


class EngagementRegionNeedOut(Schema):
    region: str
    arr: Decimal
    needed: int
    have: int


class EngagementOverOut(Schema):
    tam: str
    arr: Decimal
    target: Decimal


class EngagementWhatIfOut(Schema):
    accounts: int
    moved_accounts: int
    moved_arr: Decimal
    moves: list[EngagementMoveOut]
    regions: list[EngagementRegionNeedOut]
    over_target: list[EngagementOverOut]


class EngagementIterationOut(Schema):
    id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    notes: str
    models_snapshot: list[dict[str, Any]]


class EngagementIterationIn(InputSchema):
    name: Annotated[str, Field(max_length=120)]
    starts_on: dt.date
    ends_on: dt.date
    notes: Annotated[str, Field(max_length=5000)] = ""


class EngagementFigureOut(Schema):
    value: float | None
    n: int
    low: float | None
    high: float | None
    difference: float | None = Field(None, description="Against the same model in the first iteration.")
    difference_low: float | None = None
    difference_high: float | None = None
    within_noise: bool | None = None


class EngagementGroupOut(Schema):
    iteration_id: int
    model: str = Field(..., description="A model's key; empty: every model of the iteration.")
    accounts: int
    arr: Decimal
    figures: dict[str, EngagementFigureOut]


class EngagementComparisonOut(Schema):
    groups: list[EngagementGroupOut]
    unmeasured: list[str] = Field(..., description="Metrics whose providing app has not landed yet.")


class EngagementCompareQuery(QuerySchema):
    it: list[Id] = Field(default_factory=list, description="Iteration ids; none: every iteration.")


def _leader(request: HttpRequest) -> Any:
    user = actor(request)
    if not policy.can_view_capacity(user):
        raise PermissionDenied("Capacity, the what-if planner and iterations are for managers, directors, admins.")
    return user


@router.get(
    "/models", response={200: list[EngagementModelOut], **error_responses(401)}, summary="List engagement models"
)
def engagement_model_list(request: HttpRequest) -> list[EngagementModel]:
    return list(selectors.models_list())


@router.post(
    "/models",
    response={201: EngagementModelOut, **error_responses(401, 403, 422)},
    summary="Create an engagement model",
    description="Admins only.",
)
def engagement_model_create(request: HttpRequest, payload: EngagementModelIn) -> Status[EngagementModel]:
    model = services.engagement_model_save(actor=actor(request), data=payload.changes(), source="api")
    return Status(201, model)


@router.patch(
    "/models/{key}",
    response={200: EngagementModelOut, **error_responses(401, 403, 404, 422)},
    summary="Change an engagement model",
    description="Admins only. The key never changes.",
)
def engagement_model_update(request: HttpRequest, key: str, payload: EngagementModelIn) -> EngagementModel:
    model = selectors.engagement_model_get(key)
    return services.engagement_model_save(actor=actor(request), data=payload.changes(), model=model, source="api")


@router.get(
    "/accounts/{account_id}",
    response={200: EngagementAccountOut, **error_responses(401, 404, 422)},
    summary="An account's engagement model on a day, and its moves",
)
def engagement_account_detail(
    request: HttpRequest, account_id: Id, params: Query[EngagementDayQuery]
) -> dict[str, Any]:
    from django.utils import timezone

    account = account_for_user(actor(request), account_id)
    day = params.on or timezone.localdate()
    history: list[Placement] = list(selectors.placement_history(account))
    return {"account_id": account.pk, "model": selectors.model_on_day(account, day), "on": day, "history": history}


@router.post(
    "/accounts/{account_id}/placement",
    response={201: EngagementPlacementOut, **error_responses(401, 403, 404, 422)},
    summary="Place an account in a model by hand, with a reason",
)
def engagement_account_place(request: HttpRequest, account_id: Id, payload: EngagementPlaceIn) -> Status[Placement]:
    user = actor(request)
    account = account_for_user(user, account_id, write=True)
    placement = services.account_place(
        actor=user, account=account, model_key=payload.model, reason=payload.reason, source="api"
    )
    return Status(201, placement)


@router.get(
    "/capacity",
    response={200: EngagementCapacityOut, **error_responses(401, 403)},
    summary="Capacity per TAM against the targets",
)
def engagement_capacity(request: HttpRequest) -> dict[str, Any]:
    cap = selectors.capacity(_leader(request))
    return {
        "target_arr_per_tam": cap.settings.target_arr_per_tam,
        "target_p1_share": cap.settings.target_p1_share,
        "tams": [
            {
                "tam_id": t.tam.pk,
                "tam": t.tam.full_name,
                "accounts": t.accounts,
                "arr": t.arr,
                "target_arr": t.target_arr,
                "p1_share": t.p1_share,
                "over": t.over,
            }
            for t in cap.tams
        ],
    }


@router.get(
    "/whatif",
    response={200: EngagementWhatIfOut, **error_responses(401, 403, 422)},
    summary="Try a draft of the models' criteria on today's book (read-only)",
    description="Nothing is written: the answer says how many accounts and how much ARR would move, the TAMs "
    "each region would need at the capacity target, and which TAMs would go over it.",
)
def engagement_whatif(request: HttpRequest, params: Query[EngagementWhatIfQuery]) -> dict[str, Any]:
    user = _leader(request)
    try:
        drafts = json.loads(params.drafts)
    except json.JSONDecodeError as exc:
        raise ValidationFailed({"drafts": [f"Not valid JSON: {exc.msg}."]}) from None
    if not isinstance(drafts, dict):
        raise ValidationFailed({"drafts": ["A JSON object of model key -> criteria."]})
    known = set(selectors.model_names())
    unknown = sorted(set(map(str, drafts)) - known)
    if unknown:
        raise ValidationFailed({"drafts": [f"Unknown model(s): {', '.join(unknown)}."]})
    try:
        result = selectors.whatif(user, drafts)
    except RuleError as exc:
        raise ValidationFailed({f"drafts.{k}": v for k, v in exc.errors.items()}) from None
    moved = result.moved()
    return {
        "accounts": result.accounts,
        "moved_accounts": moved[0],
        "moved_arr": moved[1],
        "moves": [
            {"from_model": r["from_key"], "to_model": r["to_key"], "accounts": r["accounts"], "arr": r["arr"]}
            for r in result.move_rows()
        ],
        "regions": [{k: r[k] for k in ("region", "arr", "needed", "have")} for r in result.region_rows()],
        "over_target": result.over_rows(),
    }


@router.get(
    "/iterations", response={200: list[EngagementIterationOut], **error_responses(401, 403)}, summary="List iterations"
)
def engagement_iteration_list(request: HttpRequest) -> list[Iteration]:
    _leader(request)
    return list(selectors.iterations())


@router.post(
    "/iterations",
    response={201: EngagementIterationOut, **error_responses(401, 403, 422)},
    summary="Record an iteration",
    description="Admins only; 422 when its dates overlap another iteration's.",
)
def engagement_iteration_create(request: HttpRequest, payload: EngagementIterationIn) -> Status[Iteration]:
    it = services.iteration_create(actor=actor(request), data=payload.changes(), source="api")
    return Status(201, it)


@router.get(
    "/comparison",
    response={200: EngagementComparisonOut, **error_responses(401, 403, 422)},
    summary="Compare iterations and models",
    description="Each figure with its count and 95% interval; differences against the same model in the first "
    "iteration, with `within_noise` when the difference's interval includes 0.",
)
def engagement_comparison(request: HttpRequest, params: Query[EngagementCompareQuery]) -> dict[str, Any]:
    user = _leader(request)
    its = list(selectors.iterations())
    chosen = [i for i in its if i.pk in set(params.it)] or its
    result = compare(chosen, region_id=policy.capacity_region_id(user))
    groups = []
    for gi, g in enumerate(result.groups):
        figures = {}
        for row in result.rows:
            if row.slot:
                continue
            c = row.cells[gi]
            figures[row.metric.key] = {
                "value": c.estimate.value,
                "n": c.estimate.n,
                "low": c.estimate.low,
                "high": c.estimate.high,
                "difference": c.diff.value if c.diff else None,
                "difference_low": c.diff.low if c.diff else None,
                "difference_high": c.diff.high if c.diff else None,
                "within_noise": c.diff.within_noise if c.diff else None,
            }
        groups.append(
            {
                "iteration_id": g.iteration.pk,
                "model": g.model_key,
                "accounts": g.accounts,
                "arr": g.arr,
                "figures": figures,
            }
        )
    return {"groups": groups, "unmeasured": [r.metric.key for r in result.rows if r.slot]}
