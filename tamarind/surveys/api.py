"""REST routes of surveys under ``/api/v1/surveys/`` (auth and error bodies: ``tamarind.core.api``).

Invitations (list, read, create, revoke) and answers follow the account: who reads an account reads its surveys
(others: 404); who writes it (its TAM, the region's manager, admins) sends and revokes (others: 403). Results (NPS
and CSAT per group) are the results page's: TAMs their book, managers their region, directors and admins all;
SAL/AE and SA 403. Answering is web only (the link), never through the API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, QuerySchema, actor, error_responses, paginate
from tamarind.people.models import User
from tamarind.renewals.selectors import renewal_settings
from tamarind.surveys import scoring, selectors, services
from tamarind.surveys.models import SurveyAnswer, SurveyInvitation

router = Router(tags=["Surveys"])


class SurveyContactRef(Schema):
    id: int
    name: str
    email: str


class SurveyInvitationOut(Schema):
    """One contact invited to one survey. `path`: the answer link's path (prefix the site's address); `state`:
    `open`, `answered`, `expired` or `revoked`."""

    id: int
    account: AccountRef
    contact: SurveyContactRef
    kind: str = Field(..., description="`nps` (0-10) or `csat` (1-5).")
    source: str
    program: str = Field(..., description="The journey program's key that sent it; empty when sent by hand.")
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    path: str
    state: str
    score: int | None = Field(None, description="The answer's score, once answered.")

    @staticmethod
    def resolve_state(obj: SurveyInvitation) -> str:
        state = obj.state(timezone.now())
        return "answered" if state == "open" and selectors.answer_of(obj) is not None else state

    @staticmethod
    def resolve_score(obj: SurveyInvitation) -> int | None:
        answer = selectors.answer_of(obj)
        return answer.score if answer is not None else None


class SurveyInvitationPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[SurveyInvitationOut]


class SurveyAnswerOut(Schema):
    id: int
    invitation: int
    account: AccountRef
    contact: SurveyContactRef
    kind: str
    score: int
    comment: str
    answered_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_invitation(obj: SurveyAnswer) -> int:
        return obj.invitation_id

    @staticmethod
    def resolve_contact(obj: SurveyAnswer) -> Contact:
        return obj.invitation.contact


class SurveyAnswerPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[SurveyAnswerOut]


class SurveyInvitationListQuery(PageQuery):
    account: Id | None = Field(None, description="Only this account's invitations.")
    kind: Literal["nps", "csat", ""] = ""
    state: Literal["open", "answered", "expired", "revoked", ""] = ""


class SurveyInvitationIn(InputSchema):
    """Invite a contact: the link works for `valid_days` (1-365, 30 by default)."""

    contact: Id
    kind: Literal["nps", "csat"]
    valid_days: Annotated[int, Field(ge=1, le=services.MAX_VALID_DAYS)] = services.INVITATION_DAYS
    program: Annotated[str, Field(max_length=50)] = ""


class SurveyFilterQuery(QuerySchema):
    quarter: str = Field("", max_length=7, description="A fiscal quarter key, `2027-1` (fiscal year-quarter).")
    tam: Id | None = Field(None, description="Accounts of this TAM.")
    program: str | None = Field(None, max_length=50, description="A program key; `-` for those sent by hand.")
    kind: Literal["nps", "csat", ""] = ""
    account: Id | None = None


class SurveyAnswerListQuery(SurveyFilterQuery, PageQuery):
    bucket: Literal["promoter", "passive", "detractor", "satisfied", "unsatisfied", ""] = ""


class SurveyResultsQuery(SurveyFilterQuery):
    group: Literal["quarter", "tam", "program", "account"] = Field("quarter", description="How to group the figures.")


class SurveyFiguresOut(Schema):
    """NPS = % promoters (9-10) - % detractors (0-6), whole points, null with no NPS answers; CSAT average of 1-5
    (null with none) and the share satisfied (4-5)."""

    label: str
    key: dict[str, Any] = Field(..., description="The filter that lists the answers behind the figures.")
    nps: int | None
    nps_answers: int
    promoters: int
    passives: int
    detractors: int
    csat_average: Decimal | None
    satisfied_pct: int | None
    csat_answers: int


class SurveyResultsOut(Schema):
    group: str
    total: SurveyFiguresOut
    groups: list[SurveyFiguresOut]


def _figures(label: str, key: dict[str, Any], f: scoring.Figures) -> dict[str, Any]:
    return {
        "label": label,
        "key": key,
        "nps": f.nps,
        "nps_answers": f.nps_answers,
        "promoters": f.promoters,
        "passives": f.passives,
        "detractors": f.detractors,
        "csat_average": f.csat_average,
        "satisfied_pct": f.satisfied_pct,
        "csat_answers": f.csat_answers,
    }


def _filters(params: SurveyFilterQuery, bucket: str = "") -> selectors.ResultFilters:
    data = {
        "quarter": params.quarter,
        "tam": params.tam,
        "program": params.program,
        "kind": params.kind,
        "account": params.account,
        "bucket": bucket,
    }
    filters = selectors.parse_filters(data, renewal_settings().fiscal_start_month)
    if params.quarter and filters.quarter is None:
        # An unreadable quarter is refused, not dropped: dropping it would answer every quarter's figures.
        raise ValidationFailed({"quarter": ["Use a fiscal quarter key such as 2027-1 (fiscal year-quarter)."]})
    return filters


def _results_user(request: HttpRequest) -> User:
    user = actor(request)
    if not policy.can_view_survey_results(user):
        raise PermissionDenied("Survey results are for TAMs, managers, directors and admins.")
    return user


@router.get(
    "/invitations",
    response={200: SurveyInvitationPage, **error_responses(401, 404, 422)},
    summary="List survey invitations",
    description="Newest first, of the accounts you may read; `account` narrows to one (404 when out of reach).",
)
def survey_invitation_list(request: HttpRequest, params: Query[SurveyInvitationListQuery]) -> dict[str, Any]:
    user = actor(request)
    qs: QuerySet[SurveyInvitation] = selectors.invitations_for(user).order_by("-created_at", "-pk")
    if params.account is not None:
        account_for_user(user, params.account)
        qs = qs.filter(account_id=params.account)
    if params.kind:
        qs = qs.filter(kind=params.kind)
    now = timezone.now()
    live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if params.state == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    elif params.state == "expired":
        qs = qs.filter(revoked_at__isnull=True, expires_at__lte=now)
    elif params.state == "answered":
        qs = qs.filter(live, answer__isnull=False)
    elif params.state == "open":
        qs = qs.filter(live, answer__isnull=True)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.get(
    "/invitations/{invitation_id}",
    response={200: SurveyInvitationOut, **error_responses(401, 404, 422)},
    summary="Get a survey invitation",
)
def survey_invitation_detail(request: HttpRequest, invitation_id: Id) -> SurveyInvitation:
    return selectors.invitation_for_user(actor(request), invitation_id)


@router.post(
    "/invitations",
    response={201: SurveyInvitationOut, **error_responses(401, 403, 404, 422)},
    summary="Invite a contact to a survey",
    description="The account's TAM, the region's manager and admins (others who read the account: 403; an unknown "
    "contact or one out of reach: 404). Audited.",
)
def survey_invitation_create(request: HttpRequest, payload: SurveyInvitationIn) -> Status[Any]:
    user = actor(request)
    contact = Contact.objects.select_related("account").filter(pk=payload.contact).first()
    if contact is None or not policy.can_read_account(user, contact.account):
        raise Http404("No such contact.")
    if not policy.can_send_survey(user, contact.account):
        raise PermissionDenied("Only the account's TAM, the region's manager or an admin sends a survey.")
    invitation = services.survey_invitation_create(
        contact=contact,
        kind=payload.kind,
        actor=user,
        source="api",
        valid_days=payload.valid_days,
        program=payload.program,
    )
    return Status(201, selectors.invitation_for_user(user, invitation.pk))


@router.post(
    "/invitations/{invitation_id}/revoke",
    response={200: SurveyInvitationOut, **error_responses(401, 403, 404, 422)},
    summary="Revoke a survey invitation",
    description="The link answers 410 from then on (an answer given stays). Audited; revoking twice changes nothing.",
)
def survey_invitation_revoke(request: HttpRequest, invitation_id: Id) -> SurveyInvitation:
    user = actor(request)
    invitation = selectors.invitation_for_user(user, invitation_id, write=True)
    services.survey_invitation_revoke(actor=user, invitation=invitation, source="api")
    return selectors.invitation_for_user(user, invitation_id)


@router.get(
    "/answers",
    response={200: SurveyAnswerPage, **error_responses(401, 422)},
    summary="List survey answers",
    description="Newest first, of the accounts you may read, with the same filters as the results.",
)
def survey_answer_list(request: HttpRequest, params: Query[SurveyAnswerListQuery]) -> dict[str, Any]:
    user = actor(request)
    filters = _filters(params, params.bucket)
    qs = selectors.answers_page(user, filters, reading=True)
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.get(
    "/results",
    response={200: SurveyResultsOut, **error_responses(401, 403, 422)},
    summary="Survey results (NPS and CSAT) per group",
    description="Grouped per fiscal `quarter`, `tam`, `program` or `account` (the 50 with the most answers), with "
    "the total; each group's `key` filters `/answers` to the answers behind it.",
)
def survey_results(request: HttpRequest, params: Query[SurveyResultsQuery]) -> dict[str, Any]:
    user = _results_user(request)
    found = selectors.survey_results(user, _filters(params))
    rows = {"quarter": found.quarters, "tam": found.tams, "program": found.programs, "account": found.accounts}
    return {
        "group": params.group,
        "total": _figures("All", {}, found.total),
        "groups": [_figures(r.label, r.key, r.figures) for r in rows[params.group]],
    }
