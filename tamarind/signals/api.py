"""REST routes of the signal evidence under ``/api/v1/signals/`` (auth and error bodies: ``tamarind.core.api``).

The same access as the pages: TAMs, managers, directors and admins read (others 403), each over the accounts they
may see; an account's history is gated by ``accounts.selectors.account_for_user`` (out of scope: 404); trust
labels are set by admins (others 403) through the audited service, with the evidence computed here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.schemas import Id, InputSchema, QuerySchema, actor, error_responses
from tamarind.people.models import User
from tamarind.signals import history, selectors, services
from tamarind.signals import weights as suggested
from tamarind.signals.backtest import Estimate, SignalLine
from tamarind.signals.models import Outcome, SignalInterval, SignalTrust

router = Router(tags=["Signals"])


class SignalEstimateOut(Schema):
    value: float | None
    low: float | None = Field(None, description="Lower bound of the 95% interval.")
    high: float | None = Field(None, description="Upper bound of the 95% interval.")


class SignalLineOut(Schema):
    """One signal at one horizon. `status`: `ok`, `too_few` (fewer churned or contracted accounts than the
    minimum: no figures), `never_fired` or `no_outcomes`."""

    horizon: int = Field(..., description="Days before the outcome.")
    judged: int
    bad: int = Field(..., description="Judged accounts that churned or contracted.")
    fired: int = Field(..., description="Judged accounts the signal fired for within the horizon.")
    fired_bad: int
    status: str
    base_rate: float | None
    precision: SignalEstimateOut
    recall: SignalEstimateOut
    lift: SignalEstimateOut
    lead_days: SignalEstimateOut


class SignalBacktestRowOut(Schema):
    key: str
    label: str
    trusted: bool
    history: str = Field(..., description="What the stored history of this signal covers.")
    lines: list[SignalLineOut]


class SignalScoreOut(Schema):
    status: str
    scored: int
    unscored: int
    auc: SignalEstimateOut
    calibration: list[dict[str, Any]]


class SignalBacktestOut(Schema):
    start: dt.date | None
    end: dt.date | None
    judged: int
    bad: int
    outcomes_before_account: int = Field(..., description="Outcomes dated before their account existed: left out.")
    signals: list[SignalBacktestRowOut]
    health_score: SignalScoreOut


class SignalBacktestQuery(QuerySchema):
    segment: str = Field("", max_length=20)
    region: Id | None = None
    engagement_model: str = Field("", max_length=40)
    iteration: Id | None = None
    start: dt.date | None = None
    end: dt.date | None = None


class SignalIntervalOut(Schema):
    key: str
    started_on: dt.date
    ended_on: dt.date | None = Field(None, description="The first day it no longer fired; null while it fires.")


class SignalOutcomeOut(Schema):
    kind: str
    on: dt.date
    source: str


class SignalAccountHistoryOut(Schema):
    account_id: int
    intervals: list[SignalIntervalOut]
    outcomes: list[SignalOutcomeOut]


class SignalTrustOut(Schema):
    key: str
    version: int
    trusted: bool
    thresholds: dict[str, Any]
    evidence: dict[str, Any]
    note: str
    decided_at: dt.datetime


class SignalTrustIn(InputSchema):
    key: Annotated[str, Field(max_length=40)]
    trusted: bool
    note: Annotated[str, Field(max_length=500)] = ""


def _user(request: HttpRequest) -> User:
    user = actor(request)
    if not policy.can_view_signals(user):
        raise PermissionDenied("The Signals back-test is for TAMs, managers, directors and admins.")
    return user


def _est(e: Estimate) -> dict[str, float | None]:
    return e.as_dict()


def _line(line: SignalLine) -> dict[str, Any]:
    return {
        "horizon": line.horizon,
        "judged": line.judged,
        "bad": line.bad,
        "fired": line.fired,
        "fired_bad": line.fired_bad,
        "status": line.status,
        "base_rate": line.base_rate,
        "precision": _est(line.precision),
        "recall": _est(line.recall),
        "lift": _est(line.lift),
        "lead_days": _est(line.lead_days),
    }


@router.get(
    "/backtest",
    response={200: SignalBacktestOut, **error_responses(401, 403, 422)},
    summary="Back-test the signals",
    description="Every indicator and health color at each horizon (precision, recall, lift, median lead time, "
    "95% intervals), and the health score's AUC and calibration, over the accounts you may see.",
)
def signal_backtest(request: HttpRequest, params: Query[SignalBacktestQuery]) -> dict[str, Any]:
    user = _user(request)
    filters = selectors.BacktestFilters.from_params(
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.model_dump().items()}
    )
    result = selectors.run_backtest(user=user, filters=filters)
    fit = result.score
    assert fit is not None
    return {
        "start": result.start,
        "end": result.end,
        "judged": result.judged,
        "bad": result.bad,
        "outcomes_before_account": result.before_birth,
        "signals": [
            {
                "key": s["key"],
                "label": s["label"],
                "trusted": s["trusted"],
                "history": s["rebuild_note"],
                "lines": [_line(line) for line in s["lines"]],
            }
            for s in result.signals
        ],
        "health_score": {
            "status": fit.status,
            "scored": fit.scored,
            "unscored": fit.unscored,
            "auc": _est(fit.auc),
            "calibration": [
                {"band": r["band"], "accounts": r["accounts"], "bad": r["bad"], "rate": r["rate"].as_dict()}  # type: ignore[attr-defined]
                for r in fit.calibration
            ],
        },
    }


@router.get(
    "/accounts/{account_id}/history",
    response={200: SignalAccountHistoryOut, **error_responses(401, 403, 404, 422)},
    summary="An account's signal history",
    description="When each signal fired for the account (intervals) and its outcomes.",
)
def signal_account_history(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    user = _user(request)
    account = account_for_user(user, account_id)
    return {
        "account_id": account.pk,
        "intervals": list(SignalInterval.objects.filter(account=account).order_by("started_on", "key")),
        "outcomes": list(Outcome.objects.filter(account=account).order_by("on")),
    }


@router.get(
    "/trust",
    response={200: list[SignalTrustOut], **error_responses(401, 403)},
    summary="List the trust labels",
    description="The newest trust label of each signal that has one (others are unproven).",
)
def signal_trust_list(request: HttpRequest) -> list[SignalTrust]:
    _user(request)
    return list(selectors.trust_labels().values())


@router.post(
    "/trust",
    response={201: SignalTrustOut, **error_responses(401, 403, 422)},
    summary="Set a trust label",
    description="Admins only. Trusted only when the signal's evidence (widest horizon, whole book) clears the "
    "thresholds in the back-test settings; a new version each time, audited.",
)
def signal_trust_set(request: HttpRequest, payload: SignalTrustIn) -> Status[SignalTrust]:
    user = _user(request)
    if not policy.can_manage_signals(user):
        raise PermissionDenied("Only an admin sets trust labels.")
    if payload.key not in history.signal_keys():
        from tamarind.core.errors import ValidationFailed

        raise ValidationFailed({"key": [f"Unknown signal {payload.key!r}."]})
    row = services.signal_trust_set(
        actor=user,
        key=payload.key,
        trusted=payload.trusted,
        evidence=selectors.trust_evidence(user=user, key=payload.key),
        note=payload.note,
        source="api",
    )
    return Status(201, row)


# --- Suggested weights ---------------------------------------------------------------------------------------------


class SignalsWeightsMeasureOut(Schema):
    key: str
    label: str
    current: float = Field(..., description="The live model's weight.")
    suggested: float = Field(..., description="The fitted weight (the current one when nothing was fitted).")
    fitted: bool = Field(..., description="False: this measure's weight was not fitted (see `why`).")
    coefficient: float | None = Field(None, description="Logistic coefficient on the standardised input.")
    odds_ratio: float | None = Field(
        None, description="Odds of churn or contraction, all its indicators firing vs none."
    )
    fired_share: float | None = Field(None, description="Share of judged accounts with one of its indicators firing.")
    why: str


class SignalsWeightsEffectOut(Schema):
    weights: str = Field(..., description="`current` or `suggested`.")
    threshold: str = Field(
        ...,
        description="`red` (below the Yellow band), `not_green` (below the Green band) or `share` (the "
        "lowest-scored accounts, as many as churned or contracted; ties at the cut included).",
    )
    below: int = Field(..., description="The score flagged below (`share`: at or below).")
    flagged: int
    flagged_bad: int
    precision: SignalEstimateOut
    recall: SignalEstimateOut


class SignalsWeightsOut(Schema):
    """The health model's weights fitted on the back-test's outcomes. `status`: `ok`, or why nothing is suggested:
    `no_outcomes`, `one_class`, `too_few`, `no_variation`, `not_converged`, `no_positive`, `failed` (`message`
    explains)."""

    status: str
    message: str
    live_version: int
    judged: int
    bad: int
    horizon: int = Field(..., description="Days before the outcome the measures' indicators are read over.")
    iterations: int | None
    measures: list[SignalsWeightsMeasureOut]
    effects: list[SignalsWeightsEffectOut]
    auc: dict[str, SignalEstimateOut]
    caveats: list[str]


class SignalsWeightsDraftIn(InputSchema):
    """The filters the weights are fitted over (as for the GET); none: the whole book you see."""

    segment: Annotated[str, Field(max_length=20)] = ""
    region: Id | None = None
    engagement_model: Annotated[str, Field(max_length=40)] = ""
    iteration: Id | None = None
    start: dt.date | None = None
    end: dt.date | None = None


class SignalsWeightsDraftOut(Schema):
    draft_id: int
    based_on_version: int
    definition: dict[str, Any]
    editor_url: str = Field(..., description="The health model editor with the draft and its preview.")


def _weights_filters(values: dict[str, Any]) -> selectors.BacktestFilters:
    return selectors.BacktestFilters.from_params(
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
    )


@router.get(
    "/weights",
    response={200: SignalsWeightsOut, **error_responses(401, 403, 422)},
    summary="Suggest the health model's weights",
    description="A regularised logistic regression of churn or contraction on each health measure's trouble "
    "before the outcome, over the accounts you may see: the fitted weights beside the live model's, with the "
    "effect of each on precision and recall; or why nothing could be fitted.",
)
def signal_weights(request: HttpRequest, params: Query[SignalBacktestQuery]) -> dict[str, Any]:
    user = _user(request)
    suggestion = suggested.suggest_weights(user=user, filters=_weights_filters(params.model_dump()))
    fit = suggestion.fit
    return {
        "status": fit.status,
        "message": fit.message,
        "live_version": suggestion.live_version,
        "judged": fit.judged,
        "bad": fit.bad,
        "horizon": fit.horizon,
        "iterations": fit.iterations,
        "measures": [
            {
                "key": m.key,
                "label": m.label,
                "current": float(m.current),
                "suggested": float(m.suggested),
                "fitted": m.fitted,
                "coefficient": m.coefficient,
                "odds_ratio": m.odds_ratio,
                "fired_share": m.fired_share,
                "why": m.why,
            }
            for m in fit.measures
        ],
        "effects": [
            {
                "weights": e.weights,
                "threshold": e.threshold,
                "below": e.below,
                "flagged": e.flagged,
                "flagged_bad": e.flagged_bad,
                "precision": _est(e.precision),
                "recall": _est(e.recall),
            }
            for e in fit.effects
        ],
        "auc": {k: _est(v) for k, v in fit.auc.items()},
        "caveats": fit.caveats,
    }


@router.post(
    "/weights/draft",
    response={201: SignalsWeightsDraftOut, **error_responses(401, 403, 422)},
    summary="Make a draft health model from the suggested weights",
    description="Admins only. Fits the weights over the filters given and keeps a draft of the health model with "
    "them (not live; audited); open `editor_url` to preview it and save it as the next version. 422 when the fit "
    "suggests nothing (the reason is in the error).",
)
def signal_weights_draft(request: HttpRequest, payload: SignalsWeightsDraftIn) -> Status[dict[str, Any]]:
    user = _user(request)
    if not policy.can_draft_health_weights(user):
        raise PermissionDenied("Only an admin makes a draft of the health model.")
    fit = suggested.suggest_weights(user=user, filters=_weights_filters(payload.model_dump())).fit
    draft = services.signal_weights_draft(actor=user, fit=fit, source="api")
    return Status(
        201,
        {
            "draft_id": draft.pk,
            "based_on_version": draft.based_on_version,
            "definition": draft.definition,
            "editor_url": reverse("health:model_edit") + f"?draft={draft.pk}",
        },
    )
