"""REST routes of stuck-customer triage under ``/api/v1/stuck/`` (auth and error bodies: ``tamarind.core.api``).

The same access as the pages: the queue for TAMs, managers, directors and admins (others 403); a case gated by
``selectors.case_for_user`` (out of scope: 404; directors' writes: 403); every write through an audited service.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, PersonRef, actor, error_responses, paginate
from tamarind.people.models import User
from tamarind.stuck import selectors, services
from tamarind.stuck.models import CaseStatus, Outcome, StuckCase, StuckRule

assert set(Outcome.values) == {"unstuck", "handed_over", "no_response", "not_stuck"}, "StuckResolveIn.outcome"

router = Router(tags=["Stuck customers"])


class StuckReasonOut(Schema):
    rule: str = Field(..., description="The key of the rule that fired.")
    name: str
    kind: str
    why: str


class StuckPoolRef(Schema):
    id: int
    name: str


class StuckCaseOut(Schema):
    """A stuck case: why it fired (as of the last daily sweep), who claimed it, the outcome once resolved.
    `unstuck_at`: when no rule fired any more; `unstuck_within_30_days` compares it with `opened_at`."""

    id: int
    account: AccountRef
    pool: StuckPoolRef | None
    reasons: list[StuckReasonOut]
    status: str = Field(..., description="`open`, `claimed` or `resolved`.")
    opened_at: dt.datetime
    claimed_by: PersonRef | None
    claimed_at: dt.datetime | None
    outreach_count: int
    last_outreach_at: dt.datetime | None
    outcome: str = Field(..., description="Once resolved: `unstuck`, `handed_over`, `no_response` or `not_stuck`.")
    notes: str
    resolved_at: dt.datetime | None
    unstuck_at: dt.datetime | None
    unstuck_within_30_days: bool

    @staticmethod
    def resolve_reasons(obj: StuckCase) -> list[dict[str, str]]:
        return [r for r in (obj.reasons or []) if isinstance(r, dict)]

    @staticmethod
    def resolve_unstuck_within_30_days(obj: StuckCase) -> bool:
        return obj.unstuck_within()


class StuckCasePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[StuckCaseOut]


class StuckRuleOut(Schema):
    id: int
    key: str
    name: str
    kind: str
    params: dict[str, int]
    enabled: bool


class StuckCaseListQuery(PageQuery):
    status: str = Field("", description="`open`, `claimed`, `resolved` or `unresolved` (open or claimed).")
    rule: str = Field("", max_length=50, description="A rule key: only cases it fired for.")
    pool: Id | None = Field(None, description="A pool id.")


class StuckOutreachIn(InputSchema):
    """Log an outreach on the account's timeline (an open case is claimed by whoever reaches out)."""

    kind: Annotated[str, Field(description="`call`, `meeting`, `email` or `note`.", max_length=20)]
    title: Annotated[str, Field(max_length=200)] = ""
    notes: Annotated[str, Field(max_length=20_000)] = ""
    external_attendees: Annotated[str, Field(max_length=2000)] = ""


class StuckResolveIn(InputSchema):
    outcome: Literal["unstuck", "handed_over", "no_response", "not_stuck"]
    notes: Annotated[str, Field(max_length=5000)] = ""


class StuckRuleIn(InputSchema):
    enabled: bool | None = Field(None, description="Switch the rule on or off; omitted: unchanged.")
    params: dict[Annotated[str, Field(max_length=40)], int] | None = Field(
        None, description="The thresholds by name (whole numbers in each one's range); omitted ones take defaults."
    )


class StuckOutreachOut(Schema):
    id: int = Field(..., description="The timeline entry's id.")
    kind: str
    title: str
    occurred_at: dt.datetime


def _user(request: HttpRequest) -> User:
    user = actor(request)
    if not policy.can_view_stuck(user):
        raise PermissionDenied("The stuck-customer queue is for TAMs, managers, directors and admins.")
    return user


@router.get(
    "/cases",
    response={200: StuckCasePage, **error_responses(401, 403, 422)},
    summary="List stuck cases",
    description="The cases you may read: open first (oldest first), then claimed, then resolved.",
)
def stuck_case_list(request: HttpRequest, params: Query[StuckCaseListQuery]) -> dict[str, Any]:
    user = _user(request)
    status = params.status if params.status in (*CaseStatus.values, "unresolved") else ""
    filters = selectors.QueueFilters(status=status, rule=params.rule, pool=params.pool)
    qs = selectors.queue(user=user, filters=filters)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.get(
    "/cases/{case_id}",
    response={200: StuckCaseOut, **error_responses(401, 403, 404, 422)},
    summary="Get a stuck case",
)
def stuck_case_detail(request: HttpRequest, case_id: Id) -> StuckCase:
    return selectors.case_for_user(_user(request), case_id)


@router.post(
    "/cases/{case_id}/claim",
    response={200: StuckCaseOut, **error_responses(401, 403, 404, 422)},
    summary="Claim a stuck case",
    description="The pool's TAMs and manager, the region's manager and admins; 422 once resolved.",
)
def stuck_case_claim(request: HttpRequest, case_id: Id) -> StuckCase:
    user = _user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    services.stuck_case_claim(actor=user, case=case, source="api")
    return selectors.case_for_user(user, case_id)


@router.post(
    "/cases/{case_id}/outreach",
    response={201: StuckOutreachOut, **error_responses(401, 403, 404, 422)},
    summary="Log outreach to a stuck customer",
    description="Written on the account's timeline; 422 for an unknown kind or a resolved case.",
)
def stuck_case_outreach(request: HttpRequest, case_id: Id, payload: StuckOutreachIn) -> Status[Any]:
    user = _user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    entry = services.stuck_case_log_outreach(
        actor=user,
        case=case,
        kind=payload.kind,
        title=payload.title,
        notes=payload.notes,
        external_attendees=payload.external_attendees,
        source="api",
    )
    return Status(201, entry)


@router.post(
    "/cases/{case_id}/resolve",
    response={200: StuckCaseOut, **error_responses(401, 403, 404, 422)},
    summary="Resolve a stuck case with its outcome",
)
def stuck_case_resolve(request: HttpRequest, case_id: Id, payload: StuckResolveIn) -> StuckCase:
    user = _user(request)
    case = selectors.case_for_user(user, case_id, write=True)
    services.stuck_case_resolve(actor=user, case=case, outcome=payload.outcome, notes=payload.notes, source="api")
    return selectors.case_for_user(user, case_id)


@router.get(
    "/rules",
    response={200: list[StuckRuleOut], **error_responses(401, 403)},
    summary="List the stuck-customer rules",
    description="Each rule's kind and thresholds (`params`); only enabled rules fire.",
)
def stuck_rule_list(request: HttpRequest) -> list[StuckRule]:
    _user(request)
    return selectors.all_rules()


@router.patch(
    "/rules/{rule_id}",
    response={200: StuckRuleOut, **error_responses(401, 403, 404, 422)},
    summary="Change a stuck-customer rule (admins)",
    description="Switch it on or off and set its thresholds; checked per kind, audited, applied by the next sweep.",
)
def stuck_rule_update(request: HttpRequest, rule_id: Id, payload: StuckRuleIn) -> StuckRule:
    user = actor(request)
    rule = selectors.rule_for_user(user, rule_id, write=True)
    return services.stuck_rule_update(
        actor=user, rule=rule, enabled=payload.enabled, params=payload.params, source="api"
    )
