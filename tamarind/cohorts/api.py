"""REST routes of customer cohorts under ``/api/v1/cohorts/`` (auth and error bodies: ``tamarind.core.api``).

The same access as the pages (``selectors.cohort_for_user``: out of scope 404, read-only 403); every write through
an audited service; bad input 422.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.cohorts import csv_import, selectors, services
from tamarind.cohorts.models import Cohort, CohortActivity, CohortContact, CohortMember
from tamarind.cohorts.report import CohortReport, cohort_report
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import (
    AccountRef,
    Id,
    InputSchema,
    PageQuery,
    PersonRef,
    RegionRef,
    actor,
    error_responses,
    paginate,
)
from tamarind.people.models import Region

router = Router(tags=["Customer cohorts"])
UPLOAD_MAX = 5 * 1024 * 1024
Status_ = Literal["planned", "running", "ended"]


class CohortOut(Schema):
    id: int
    name: str
    space_url: str = Field(..., description="The shared collaboration space.")
    namespace_url: str
    target_size: int | None
    engagement_rules: str
    scope: str
    starts_on: dt.date
    ends_on: dt.date | None
    status: str = Field(..., description="`planned`, `running` or `ended`.")
    region: RegionRef | None = Field(None, description="Empty: company-wide.")
    owners: list[PersonRef]

    @staticmethod
    def resolve_owners(obj: Cohort) -> list[Any]:
        return list(obj.owners.all())


class CohortPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CohortOut]


class CohortIn(InputSchema):
    """A new cohort. Links must be full URLs (http or https); a manager's cohort is in their region."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    starts_on: dt.date
    ends_on: dt.date | None = None
    space_url: Annotated[str, Field(max_length=500)] = ""
    namespace_url: Annotated[str, Field(max_length=500)] = ""
    target_size: Annotated[int, Field(ge=1, le=100_000)] | None = None
    engagement_rules: Annotated[str, Field(max_length=20_000)] = ""
    scope: Annotated[str, Field(max_length=20_000)] = ""
    status: Status_ = "planned"
    region_id: Id | None = Field(None, description="Admins only; empty: company-wide.")
    owner_ids: list[Id] = Field([], max_length=100, description="TAM owners.")


class CohortPatchIn(InputSchema):
    """Only the fields sent change; `owner_ids` replaces the owners."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = None  # type: ignore[assignment]
    starts_on: dt.date = None  # type: ignore[assignment]
    ends_on: dt.date | None = None
    space_url: Annotated[str, Field(max_length=500)] = None  # type: ignore[assignment]
    namespace_url: Annotated[str, Field(max_length=500)] = None  # type: ignore[assignment]
    target_size: Annotated[int, Field(ge=1, le=100_000)] | None = None
    engagement_rules: Annotated[str, Field(max_length=20_000)] = None  # type: ignore[assignment]
    scope: Annotated[str, Field(max_length=20_000)] = None  # type: ignore[assignment]
    status: Status_ = None  # type: ignore[assignment]
    owner_ids: list[Id] = Field(None, max_length=100)  # type: ignore[arg-type]


class CohortContactOut(Schema):
    id: int
    contact_id: int
    name: str
    email: str
    account_id: int

    @staticmethod
    def resolve_name(obj: CohortContact) -> str:
        return obj.contact.name

    @staticmethod
    def resolve_email(obj: CohortContact) -> str:
        return obj.contact.email

    @staticmethod
    def resolve_account_id(obj: CohortContact) -> int:
        return obj.member.account_id


class CohortMemberOut(Schema):
    id: int
    account: AccountRef
    joined_on: dt.date
    left_on: dt.date | None
    posts: int
    answers: int
    sessions: int

    @staticmethod
    def resolve_posts(obj: CohortMember) -> int:
        return int(obj.totals["post"])  # type: ignore[attr-defined]

    @staticmethod
    def resolve_answers(obj: CohortMember) -> int:
        return int(obj.totals["answer"])  # type: ignore[attr-defined]

    @staticmethod
    def resolve_sessions(obj: CohortMember) -> int:
        return int(obj.totals["session"])  # type: ignore[attr-defined]


class CohortMemberIn(InputSchema):
    account_id: Id
    joined_on: dt.date | None = None


class CohortLeaveIn(InputSchema):
    left_on: dt.date | None = None


class CohortContactIn(InputSchema):
    contact_id: Id


class CohortActivityOut(Schema):
    id: int
    account: AccountRef
    contact_id: int | None
    kind: str = Field(..., description="`post`, `answer` or `session`.")
    day: dt.date
    count: int
    notes: str
    source: str = Field(..., description="`manual`, `csv` or `api`.")

    @staticmethod
    def resolve_account(obj: CohortActivity) -> Account:
        return obj.member.account


class CohortActivityPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CohortActivityOut]


class CohortActivityIn(InputSchema):
    account_id: Id = Field(..., description="The member account.")
    kind: Literal["post", "answer", "session"]
    day: dt.date
    count: Annotated[int, Field(ge=1, le=100_000)] = 1
    contact_id: Id | None = None
    notes: Annotated[str, Field(max_length=2000)] = ""


class CohortImportOut(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int


class CohortEstimateOut(Schema):
    value: float | None
    n: int
    low: float | None
    high: float | None


class CohortDifferenceOut(Schema):
    value: float | None
    low: float | None
    high: float | None
    within_noise: bool
    verdict: str


class CohortFigureOut(Schema):
    key: str
    label: str
    kind: str = Field(..., description="`mean` or `share` (0 to 1).")
    members: CohortEstimateOut
    others: CohortEstimateOut
    difference: CohortDifferenceOut = Field(
        ..., description="Members minus similar non-members, with its 95% interval."
    )


class CohortReportOut(Schema):
    cohort_id: int
    period_start: dt.date
    period_end: dt.date
    members: int
    similar_non_members: int
    window_start: dt.date | None
    window_end: dt.date | None
    figures: list[CohortFigureOut]
    health_mix: dict[str, dict[str, int]]


def _report_out(r: CohortReport) -> dict[str, Any]:
    def est(e: Any) -> dict[str, Any]:
        return {"value": e.value, "n": e.n, "low": e.low, "high": e.high}

    return {
        "cohort_id": r.cohort.pk,
        "period_start": r.period_start,
        "period_end": r.period_end,
        "members": len(r.member_ids),
        "similar_non_members": len(r.other_ids),
        "window_start": r.window[0] if r.window else None,
        "window_end": r.window[1] if r.window else None,
        "figures": [
            {
                "key": f.key,
                "label": f.label,
                "kind": f.kind,
                "members": est(f.members),
                "others": est(f.others),
                "difference": {
                    "value": f.diff.value,
                    "low": f.diff.low,
                    "high": f.diff.high,
                    "within_noise": f.diff.within_noise,
                    "verdict": f.diff.verdict,
                },
            }
            for f in r.figures
        ],
        "health_mix": r.mix,
    }


@router.get("/", response={200: CohortPage, **error_responses(401, 403, 422)}, summary="List cohorts")
def cohort_list(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    qs = selectors.cohorts_for(actor(request)).order_by("-starts_on", "name", "pk")
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post("/", response={201: CohortOut, **error_responses(401, 403, 422)}, summary="Create a cohort")
def cohort_create(request: HttpRequest, payload: CohortIn) -> Status[Any]:
    user = actor(request)
    region = None
    if payload.region_id is not None:
        region = Region.objects.filter(pk=payload.region_id).first()
        if region is None:
            raise ValidationFailed({"region_id": ["No such region."]})
    data = payload.model_dump(exclude={"region_id"})
    cohort = services.cohort_create(actor=user, region=region, source="api", **data)
    return Status(201, selectors.cohort_for_user(user, cohort.pk))


@router.get("/{cohort_id}", response={200: CohortOut, **error_responses(401, 403, 404, 422)}, summary="Get a cohort")
def cohort_detail(request: HttpRequest, cohort_id: Id) -> Cohort:
    return selectors.cohort_for_user(actor(request), cohort_id)


@router.patch(
    "/{cohort_id}", response={200: CohortOut, **error_responses(401, 403, 404, 422)}, summary="Change a cohort"
)
def cohort_update(request: HttpRequest, cohort_id: Id, payload: CohortPatchIn) -> Cohort:
    user = actor(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    services.cohort_update(actor=user, cohort=cohort, changes=payload.changes(), source="api")
    return selectors.cohort_for_user(user, cohort_id)


@router.delete(
    "/{cohort_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    summary="Delete a cohort",
    description="With its members, contacts and activity. Admins and the region's manager.",
)
def cohort_delete(request: HttpRequest, cohort_id: Id) -> Status[None]:
    user = actor(request)
    cohort = selectors.cohort_for_user(user, cohort_id)
    if not policy.can_delete_cohort(user, cohort):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Admins and the region's manager delete cohorts.")
    services.cohort_delete(actor=user, cohort=cohort, source="api")
    return Status(204, None)


@router.get(
    "/{cohort_id}/members",
    response={200: list[CohortMemberOut], **error_responses(401, 403, 404, 422)},
    summary="List a cohort's members with their activity totals",
)
def cohort_member_list(request: HttpRequest, cohort_id: Id) -> list[CohortMember]:
    return selectors.members(selectors.cohort_for_user(actor(request), cohort_id))


def _member_out(member: CohortMember) -> CohortMember:
    member.totals = selectors.member_totals(member)  # type: ignore[attr-defined]
    return member


@router.post(
    "/{cohort_id}/members",
    response={201: CohortMemberOut, **error_responses(401, 403, 404, 422)},
    summary="Add a member account",
)
def cohort_member_add(request: HttpRequest, cohort_id: Id, payload: CohortMemberIn) -> Status[Any]:
    user = actor(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    account = Account.objects.visible_to(user).filter(pk=payload.account_id).first()
    if account is None:
        raise ValidationFailed({"account_id": ["No such account."]})
    member = services.member_add(actor=user, cohort=cohort, account=account, joined_on=payload.joined_on, source="api")
    return Status(201, _member_out(member))


@router.post(
    "/{cohort_id}/members/{account_id}/leave",
    response={200: CohortMemberOut, **error_responses(401, 403, 404, 422)},
    summary="A member account leaves the cohort",
)
def cohort_member_leave(request: HttpRequest, cohort_id: Id, account_id: Id, payload: CohortLeaveIn) -> Any:
    user = actor(request)
    member = selectors.member_by_account(user, cohort_id, account_id, write=True)
    services.member_remove(actor=user, member=member, left_on=payload.left_on, source="api")
    return _member_out(member)


@router.get(
    "/{cohort_id}/contacts",
    response={200: list[CohortContactOut], **error_responses(401, 403, 404, 422)},
    summary="List a cohort's member contacts",
)
def cohort_contact_list(request: HttpRequest, cohort_id: Id) -> list[CohortContact]:
    return selectors.contact_links(selectors.cohort_for_user(actor(request), cohort_id))


@router.post(
    "/{cohort_id}/contacts",
    response={201: CohortContactOut, **error_responses(401, 403, 404, 422)},
    summary="Add a contact of a member account",
)
def cohort_contact_add(request: HttpRequest, cohort_id: Id, payload: CohortContactIn) -> Status[Any]:
    user = actor(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    contact = Contact.objects.filter(pk=payload.contact_id).first()
    member = CohortMember.objects.filter(cohort=cohort, account_id=contact.account_id).first() if contact else None
    if contact is None or member is None:
        raise ValidationFailed({"contact_id": ["No such contact at a member account."]})
    member.cohort = cohort
    link = services.contact_add(actor=user, member=member, contact=contact, source="api")
    return Status(201, link)


@router.delete(
    "/{cohort_id}/contacts/{link_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    summary="Remove a member contact from the cohort",
)
def cohort_contact_remove(request: HttpRequest, cohort_id: Id, link_id: Id) -> Status[None]:
    user = actor(request)
    link = selectors.contact_link_for_user(user, cohort_id, link_id, write=True)
    services.contact_remove(actor=user, link=link, source="api")
    return Status(204, None)


@router.get(
    "/{cohort_id}/activity",
    response={200: CohortActivityPage, **error_responses(401, 403, 404, 422)},
    summary="List a cohort's activity, newest first",
)
def cohort_activity_list(request: HttpRequest, cohort_id: Id, params: Query[PageQuery]) -> dict[str, Any]:
    cohort = selectors.cohort_for_user(actor(request), cohort_id)
    return paginate(selectors.activity(cohort), page=params.page, page_size=params.page_size)


@router.post(
    "/{cohort_id}/activity",
    response={201: CohortActivityOut, **error_responses(401, 403, 404, 422)},
    summary="Record a member's activity",
)
def cohort_activity_create(request: HttpRequest, cohort_id: Id, payload: CohortActivityIn) -> Status[Any]:
    user = actor(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    member = CohortMember.objects.select_related("account").filter(cohort=cohort, account_id=payload.account_id).first()
    if member is None:
        raise ValidationFailed({"account_id": ["Not a member of this cohort."]})
    member.cohort = cohort
    contact = None
    if payload.contact_id is not None:
        contact = Contact.objects.filter(pk=payload.contact_id, account_id=member.account_id).first()
        if contact is None:
            raise ValidationFailed({"contact_id": ["No such contact at the member account."]})
    activity = services.activity_record(
        actor=user,
        member=member,
        kind=payload.kind,
        day=payload.day,
        count=payload.count,
        notes=payload.notes,
        contact=contact,
        source="api",
    )
    return Status(201, activity)


@router.post(
    "/{cohort_id}/activity/import",
    response={200: CohortImportOut, **error_responses(401, 403, 404, 413, 422)},
    summary="Import activity from a CSV file",
    description="Multipart `file`: `Account ID, Contact Email, Kind, Date, Count`. All or nothing: 422 with every "
    "line-numbered problem; the same file twice changes nothing.",
)
def cohort_activity_import(request: HttpRequest, cohort_id: Id, file: File[UploadedFile]) -> Any:
    user = actor(request)
    cohort = selectors.cohort_for_user(user, cohort_id, write=True)
    if file.size is not None and file.size > UPLOAD_MAX:
        raise HttpError(413, f"The file is larger than {UPLOAD_MAX // (1024 * 1024)} MB.")
    return csv_import.activity_import(actor=user, cohort=cohort, stream=file, source="api")


@router.get(
    "/{cohort_id}/report",
    response={200: CohortReportOut, **error_responses(401, 403, 404, 422)},
    summary="The cohort report: members against similar non-members",
    description="Per figure: each group's value with its count and 95% interval, and the difference (members "
    "minus similar non-members) with its 95% interval and whether it is within the noise.",
)
def cohort_report_get(request: HttpRequest, cohort_id: Id) -> dict[str, Any]:
    return _report_out(cohort_report(selectors.cohort_for_user(actor(request), cohort_id)))
