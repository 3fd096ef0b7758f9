"""REST routes of the qualification rules (``/api/v1/rules/``) and the accounts to staff.

Everyone signed in reads the rules and their versions; admins save a new version and dry-run a draft. The
accounts to staff follow the account scope (managers their region, directors and admins all).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.assignment import selectors, services
from tamarind.assignment.models import Qualification, RuleSetVersion
from tamarind.assignment.rules import RuleError
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import Id, InputSchema, PageQuery, actor, error_responses, money, paginate

router = Router(tags=["Qualification rules"])


class ConditionIO(Schema):
    field: str = Field(
        ...,
        description="`arr`, `licenses`, `priority`, `tier` (a rung, 0 = Free), `segment`, "
        "`region` (ids), `engagement_model`, `lifecycle_stage` or `has_parent`.",
    )
    op: str = Field(..., description="`gt`, `gte`, `lt`, `lte`, `eq`, `ne`, `in`, `not_in` or `is`.")
    value: Any = Field(..., description="A number, a boolean, or a list for `in`/`not_in`.")


class RuleVersionOut(Schema):
    version: int
    name: str
    match: str
    conditions: list[ConditionIO]
    described: list[str] = Field(..., description="Each condition in words.")
    note: str
    created_by: str | None
    created_at: dt.datetime
    live: bool


class RuleSetIn(InputSchema):
    match: Literal["all", "any"] = "all"
    conditions: list[dict[str, Any]] = Field(..., description="Conditions as in `RuleVersionOut.conditions`.")
    note: str = Field("", max_length=500)
    name: str = Field("", max_length=120)


class DryRunOut(Schema):
    evaluated: int
    live_count: int
    draft_count: int
    gained: list[int] = Field(..., description="Ids of accounts that would start qualifying.")
    lost: list[int] = Field(..., description="Ids of accounts that would stop qualifying.")


class StaffingOut(Schema):
    account_id: int
    name: str
    region: str
    segment: str
    arr: str | None
    currency: str
    tier: str | None
    qualified_at: dt.datetime | None
    rule_version: int


class StaffingPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[StaffingOut]


def _out(version: RuleSetVersion, vocab: selectors.Vocabulary, live: RuleSetVersion) -> dict[str, Any]:
    spec = version.spec()
    return {
        "version": version.version,
        "name": version.name,
        "match": spec.match,
        "conditions": version.definition.get("conditions", []),
        "described": [vocab.describe(c) for c in spec.conditions],
        "note": version.note,
        "created_by": version.created_by.full_name if version.created_by else None,
        "created_at": version.created_at,
        "live": version.pk == live.pk,
    }


def _require_reader(request: HttpRequest) -> Any:
    user = actor(request)
    if not policy.can_read_rules(user):
        raise PermissionDenied
    return user


@router.get("/", response={200: list[RuleVersionOut], **error_responses(401)}, summary="List rule versions")
def rule_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every saved version, newest (live) first."""
    _require_reader(request)
    vocab, live = selectors.vocabulary(), selectors.live_rules()
    return [_out(v, vocab, live) for v in selectors.rule_versions()[:500]]


@router.get("/live", response={200: RuleVersionOut, **error_responses(401)}, summary="The live rules")
def rule_live(request: HttpRequest) -> dict[str, Any]:
    _require_reader(request)
    live = selectors.live_rules()
    return _out(live, selectors.vocabulary(), live)


@router.get("/v{version}", response={200: RuleVersionOut, **error_responses(401, 404, 422)}, summary="One rule version")
def rule_detail(request: HttpRequest, version: Id) -> dict[str, Any]:
    _require_reader(request)
    return _out(selectors.rule_version(version), selectors.vocabulary(), selectors.live_rules())


@router.post(
    "/",
    response={201: RuleVersionOut, **error_responses(401, 403, 422)},
    summary="Save a new rules version",
    description="Admins only. The new version is live at once; every account is re-evaluated in the background.",
)
def rule_save(request: HttpRequest, payload: RuleSetIn) -> Status[dict[str, Any]]:
    user = actor(request)
    definition = {"match": payload.match, "conditions": payload.conditions}
    version = services.rule_set_save(
        actor=user, definition=definition, note=payload.note, name=payload.name, source="api"
    )
    return Status(201, _out(version, selectors.vocabulary(), version))


@router.post(
    "/dry-run",
    response={200: DryRunOut, **error_responses(401, 403, 422)},
    summary="Dry-run a draft",
    description="Admins only. Which accounts the draft would qualify, against the live rules. Nothing is saved.",
)
def rule_dry_run(request: HttpRequest, payload: RuleSetIn) -> dict[str, Any]:
    user = actor(request)
    if not policy.can_edit_rules(user):
        raise PermissionDenied("Only admins change the qualification rules.")
    try:
        draft = selectors.vocabulary().parse({"match": payload.match, "conditions": payload.conditions})
    except RuleError as exc:
        raise ValidationFailed(exc.errors) from exc
    result = selectors.rules_dry_run(draft, sample=0)
    return {
        "evaluated": result.evaluated,
        "live_count": result.live_count,
        "draft_count": result.draft_count,
        "gained": result.gained_ids,
        "lost": result.lost_ids,
    }


def _staffing_out(q: Qualification) -> dict[str, Any]:
    a = q.account
    return {
        "account_id": a.pk,
        "name": a.name,
        "region": a.region.name,
        "segment": a.segment,
        "arr": money(a.arr),
        "currency": a.currency,
        "tier": a.product_tier.name if a.product_tier else None,
        "qualified_at": q.qualified_at,
        "rule_version": q.rule_version,
    }


@router.get(
    "/staffing",
    response={200: StaffingPage, **error_responses(401, 403, 422)},
    summary="New accounts to staff",
    description="Qualifying accounts without a TAM, newest first: managers see their region, directors and admins all.",
)
def staffing_list(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    user = actor(request)
    if not policy.can_view_staffing(user):
        raise PermissionDenied("New accounts to staff is the TAM Managers' list.")
    page = paginate(selectors.staffing_list(user), page=params.page, page_size=params.page_size)
    page["results"] = [_staffing_out(q) for q in page["results"]]
    return page
