"""REST routes of customer health under ``/api/v1/health/`` (auth and errors: ``tamarind.core.api``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.schemas import Id, InputSchema, actor, error_responses
from tamarind.health import selectors, services
from tamarind.health.models import HealthModelVersion, Sentiment

router = Router(tags=["Health"])


class MeasureOut(Schema):
    key: str = Field(..., description="`sentiment`, `product_usage`, `success_plan`, `engagement` or `support`.")
    value: str = Field(..., description="The input as shown on the account page, worked out for today.")
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description="What the measure was judged on (counts, dates; `last_engagement`, `tickets_last_30d`, ...).",
    )
    score: int | None = Field(None, description="0-100; null when the measure has no data (its weight passed on).")
    band: str | None
    weight: str = Field(..., description="The model's weight, percent.")
    effective_weight: str = Field(..., description="The weight after redistribution, percent of the whole.")
    contribution: str = Field(..., description="Points of the overall score.")
    updated_at: dt.date | None = Field(None, description="When the measure's input was last updated.")


class HistoryPoint(Schema):
    day: dt.date
    score: int
    color: str


class SentimentOut(Schema):
    id: int
    account_id: int
    color: str
    reason: str
    requires_triage: bool
    set_by_id: int | None
    set_at: dt.datetime


class HealthOut(Schema):
    account_id: int
    score: int | None = Field(None, description="0-100; null until some measure has data.")
    color: str | None = Field(None, description="`green`, `yellow` or `red`.")
    red_override: bool = Field(False, description="Red because the TAM's sentiment is Red.")
    drag: str | None = Field(None, description="The measure pulling the score down most.")
    stale: bool = Field(False, description="The TAM's sentiment is older than the model's staleness days.")
    requires_triage: bool = False
    model_version: int | None = None
    computed_at: dt.datetime | None = None
    measures: list[MeasureOut]
    history: list[HistoryPoint]
    sentiments: list[SentimentOut] = Field(..., description="The newest sentiments, newest first (at most 10).")


class SentimentIn(InputSchema):
    """The TAM's health review: a color and why. The account is rescored at once."""

    color: Literal["green", "yellow", "red"]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    requires_triage: bool = Field(False, description="Yellow that needs a triage case all the same.")


class ModelVersionOut(Schema):
    version: int
    definition: dict[str, Any]
    note: str
    created_by_id: int | None
    created_at: dt.datetime


class ModelVersionIn(InputSchema):
    definition: dict[str, Any] = Field(..., description="The whole model, as `GET /health/model` returns it.")
    note: Annotated[str, Field(max_length=500)] = ""


@router.get(
    "/accounts/{account_id}",
    response={200: HealthOut, **error_responses(401, 404)},
    summary="An account's health",
    description="Score, color, each measure's breakdown, the daily history and recent sentiments. 404 outside "
    "what you may read.",
)
def health_detail(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    account = account_for_user(actor(request), account_id)
    health = selectors.account_score(account_id=account.pk)
    return {
        "account_id": account.pk,
        "score": health.score if health else None,
        "color": (health.color or None) if health else None,
        "red_override": bool(health and health.red_override),
        "drag": (health.drag or None) if health else None,
        "stale": bool(health and health.stale),
        "requires_triage": bool(health and health.requires_triage),
        "model_version": health.model_version if health else None,
        "computed_at": health.computed_at if health else None,
        "measures": selectors.stored_measures(health),
        "history": selectors.account_history(account_id=account.pk),
        "sentiments": selectors.account_sentiments(account_id=account.pk),
    }


@router.post(
    "/accounts/{account_id}/sentiment",
    response={201: SentimentOut, **error_responses(401, 403, 404, 422)},
    summary="Set the TAM sentiment",
    description="The account's TAM, its region's manager and admins; others who read the account get 403.",
)
def sentiment_create(request: HttpRequest, account_id: Id, payload: SentimentIn) -> Status[Sentiment]:
    user = actor(request)
    account = account_for_user(user, account_id)
    if not policy.can_set_sentiment(user, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins set its sentiment.")
    sentiment = services.sentiment_set(
        actor=user,
        account=account,
        color=payload.color,
        reason=payload.reason,
        requires_triage=payload.requires_triage,
        source="api",
    )
    return Status(201, sentiment)


@router.get(
    "/model",
    response={200: list[ModelVersionOut], **error_responses(401)},
    summary="Health model versions",
    description="Every saved version of the health model, newest (live) first.",
)
def model_version_list(request: HttpRequest) -> list[HealthModelVersion]:
    if not policy.can_read_health_model(actor(request)):
        raise PermissionDenied
    selectors.live_version()
    return list(HealthModelVersion.objects.order_by("-version")[:100])


@router.post(
    "/model",
    response={201: ModelVersionOut, **error_responses(401, 403, 422)},
    summary="Save a new health model version",
    description="Admins only. Validated; 422 names each bad place. Scores follow at the next full recompute.",
)
def model_version_create(request: HttpRequest, payload: ModelVersionIn) -> Status[HealthModelVersion]:
    version = services.health_model_save(
        actor=actor(request), definition=payload.definition, note=payload.note, source="api"
    )
    return Status(201, version)
