"""REST routes of people, regions and the caller's API tokens (``/api/v1/people/``, ``/regions/``, ``/tokens/``).

The directory is readable by everyone signed in; people and regions are changed by admins only; a user manages
their own tokens (an admin may revoke anyone's). Auth and error bodies: ``tamarind.core.api``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.schemas import (
    Id,
    InputSchema,
    PageQuery,
    PersonRef,
    RegionRef,
    actor,
    error_responses,
    money,
    paginate,
)
from tamarind.people import selectors, services
from tamarind.people.models import ApiToken, Region, Role, User

router = Router()

PEOPLE = ["people"]
REGIONS = ["regions"]
TOKENS = ["tokens"]


# --- Output ---------------------------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    email: str
    full_name: str
    role: str = Field(..., description="`admin`, `director`, `tam_manager`, `tam`, `sal` or `sa`.")
    region: RegionRef | None = Field(None, description="The region a TAM (or regional SAL/SA) belongs to.")
    managed_region: RegionRef | None = Field(None, description="The region a TAM Manager leads.")
    capacity_arr: str | None = Field(None, description="The ARR this TAM is sized to carry; null: the default.")
    is_active: bool
    date_joined: dt.datetime

    @staticmethod
    def resolve_managed_region(obj: User) -> Region | None:
        # Loaded by select_related; a missing reverse one-to-one raises (an AttributeError) rather than None.
        return getattr(obj, "managed_region", None)

    @staticmethod
    def resolve_capacity_arr(obj: User) -> str | None:
        return money(obj.capacity_arr)


class PersonPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[PersonOut]


class RegionOut(Schema):
    id: int
    name: str
    manager: PersonRef | None = Field(None, description="The region's TAM Manager.")
    created_at: dt.datetime


class RegionSummaryOut(RegionOut):
    tam_count: int = Field(..., description="Active TAMs of the region.")
    account_count: int
    book_arr: str = Field(..., description="Sum of the ARR of the region's accounts, to the cent.")

    @staticmethod
    def resolve_tam_count(obj: Region) -> int:
        return getattr(obj, "tam_count", None) or 0

    @staticmethod
    def resolve_book_arr(obj: Region) -> str | None:
        return money(Decimal(getattr(obj, "book_arr", 0) or 0))


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="The first characters of the token, to recognise it.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None = Field(None, description="Set once revoked; a revoked token no longer works.")


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The secret. Shown this once; only its hash is stored.")


# --- Input ----------------------------------------------------------------------------------------------------

Email = Annotated[str, Field(min_length=3, max_length=254)]
FullName = Annotated[str, Field(min_length=1, max_length=150)]
Capacity = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, description="ARR capacity target.")]
Ref = Id
RegionName = Annotated[str, Field(min_length=1, max_length=80)]


class PersonCreateIn(InputSchema):
    email: Email
    full_name: FullName
    role: Role
    password: str | None = Field(
        None, min_length=1, max_length=128, description="Optional; without one the person cannot sign in yet."
    )
    region_id: Ref | None = Field(None, description="The region a TAM (or regional SAL/SA) belongs to.")
    capacity_arr: Capacity | None = None


class PersonPatchIn(InputSchema):
    """Only the fields sent change; ``region_id`` and ``capacity_arr`` take ``null`` to clear."""

    email: Email = None  # type: ignore[assignment]
    full_name: FullName = None  # type: ignore[assignment]
    role: Role = None  # type: ignore[assignment]
    region_id: Ref | None = None
    capacity_arr: Capacity | None = None
    is_active: bool = None  # type: ignore[assignment]


class PeopleQuery(PageQuery):
    q: str = Field("", max_length=200, description="Name or email contains this.")
    role: Role | None = Field(None, description="Only people with this role.")
    region: int | None = Field(None, ge=1, le=2**63 - 1, description="Members or manager of this region (id).")


class RegionCreateIn(InputSchema):
    name: RegionName
    manager_id: Ref | None = Field(None, description="A TAM Manager who leads no other region.")


class RegionPatchIn(InputSchema):
    name: RegionName = None  # type: ignore[assignment]
    manager_id: Ref | None = Field(None, description="A TAM Manager who leads no other region; null: none.")


class TokenCreateIn(InputSchema):
    name: str = Field("API token", max_length=100, description="What the token is for.")


def _region_ref(value: int | None, field: str = "region_id") -> Region | None:
    if value is None:
        return None
    region = Region.objects.filter(pk=value).first()
    if region is None:
        raise ValidationFailed({field: [f"{value} does not exist."]})
    return region


def _person_ref(value: int | None, field: str) -> User | None:
    if value is None:
        return None
    person = User.objects.filter(pk=value).first()
    if person is None:
        raise ValidationFailed({field: [f"{value} does not exist."]})
    return person


def _require_people_admin(user: User) -> None:
    # Gate before looking at the body, so a non-admin learns nothing from the validation of their input.
    if not policy.can_manage_people(user):
        raise PermissionDenied("Only admins manage people and regions.")


# --- People ---------------------------------------------------------------------------------------------------


@router.get(
    "/people/",
    response={200: PersonPage, **error_responses(401, 422)},
    tags=PEOPLE,
    summary="List people",
    description="Everyone signed in reads the directory. Filter by text, role and region.",
)
def people_list(request: HttpRequest, params: Query[PeopleQuery]) -> dict[str, Any]:
    qs = selectors.people_list(
        user=actor(request),
        # NUL cannot be in stored text, so it only breaks the query on PostgreSQL.
        q=params.q.replace("\x00", "").strip(),
        role=params.role.value if params.role else "",
        region_id=params.region,
    )
    return paginate(qs, page=params.page, page_size=params.page_size)


@router.post(
    "/people/",
    response={201: PersonOut, **error_responses(401, 403, 422)},
    tags=PEOPLE,
    summary="Create a person",
    description="Admins only.",
)
def person_create(request: HttpRequest, payload: PersonCreateIn) -> Status[User]:
    user = actor(request)
    _require_people_admin(user)
    data = payload.changes()
    region = _region_ref(data.pop("region_id", None))
    person = services.user_create(actor=user, region=region, source="api", **data)
    return Status(201, person)


@router.get(
    "/people/{person_id}",
    response={200: PersonOut, **error_responses(401, 404, 422)},
    tags=PEOPLE,
    summary="Get a person",
)
def person_detail(request: HttpRequest, person_id: Id) -> User:
    return selectors.person_for_user(actor(request), person_id)


@router.patch(
    "/people/{person_id}",
    response={200: PersonOut, **error_responses(401, 403, 404, 422)},
    tags=PEOPLE,
    summary="Change a person",
    description="Admins only. Send only the fields to change. Nobody changes their own role or deactivates themselves.",
)
def person_update(request: HttpRequest, person_id: Id, payload: PersonPatchIn) -> User:
    user = actor(request)
    person = selectors.person_for_user(user, person_id, write=True)
    changes = payload.changes()
    if "region_id" in changes:
        changes["region"] = _region_ref(changes.pop("region_id"))
    services.user_update(actor=user, user=person, changes=changes, source="api")
    return person


# --- Regions --------------------------------------------------------------------------------------------------


@router.get(
    "/regions/",
    response={200: list[RegionSummaryOut], **error_responses(401)},
    tags=REGIONS,
    summary="List regions",
    description="Every region with its TAM Manager, active TAMs, number of accounts and book ARR.",
)
def region_list(request: HttpRequest) -> list[Region]:
    return selectors.region_list(user=actor(request))


@router.post(
    "/regions/",
    response={201: RegionOut, **error_responses(401, 403, 422)},
    tags=REGIONS,
    summary="Create a region",
    description="Admins only.",
)
def region_create(request: HttpRequest, payload: RegionCreateIn) -> Status[Region]:
    user = actor(request)
    _require_people_admin(user)
    manager = _person_ref(payload.manager_id, "manager_id")
    region = services.region_create(actor=user, name=payload.name, manager=manager, source="api")
    return Status(201, region)


@router.get(
    "/regions/{region_id}",
    response={200: RegionOut, **error_responses(401, 404, 422)},
    tags=REGIONS,
    summary="Get a region",
)
def region_detail(request: HttpRequest, region_id: Id) -> Region:
    return selectors.region_for_user(actor(request), region_id)


@router.patch(
    "/regions/{region_id}",
    response={200: RegionOut, **error_responses(401, 403, 404, 422)},
    tags=REGIONS,
    summary="Change a region",
    description="Admins only: rename it and/or set its TAM Manager (`manager_id`, null for none).",
)
def region_update(request: HttpRequest, region_id: Id, payload: RegionPatchIn) -> Region:
    user = actor(request)
    region = selectors.region_for_user(user, region_id, write=True)
    changes = payload.changes()
    # One request, one outcome: a refused manager must not leave the rename behind.
    with transaction.atomic():
        if "name" in changes:
            services.region_update(actor=user, region=region, name=changes["name"], source="api")
        if "manager_id" in changes:
            manager = _person_ref(changes["manager_id"], "manager_id")
            services.region_set_manager(actor=user, region=region, manager=manager, source="api")
    return region


# --- API tokens -----------------------------------------------------------------------------------------------


@router.get(
    "/tokens/",
    response={200: list[TokenOut], **error_responses(401)},
    tags=TOKENS,
    summary="List your API tokens",
    description="Your own tokens, revoked ones included. Secrets are never shown again after creation.",
)
def token_list(request: HttpRequest) -> list[ApiToken]:
    return selectors.tokens_for(user=actor(request))


@router.post(
    "/tokens/",
    response={201: TokenCreatedOut, **error_responses(401, 422)},
    tags=TOKENS,
    summary="Create an API token",
    description="A new token for yourself. The answer carries the secret (`token`) this one time.",
)
def token_create(request: HttpRequest, payload: TokenCreateIn) -> Status[dict[str, Any]]:
    user = actor(request)
    token, secret = services.token_create(actor=user, user=user, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "token": secret})


@router.delete(
    "/tokens/{token_id}",
    response={204: None, **error_responses(401, 404, 422)},
    tags=TOKENS,
    summary="Revoke an API token",
    description="Revoke one of your tokens (admins: anyone's). Revoking twice is harmless.",
)
def token_revoke(request: HttpRequest, token_id: Id) -> Status[None]:
    user = actor(request)
    token = selectors.token_for_user(user, token_id)
    services.token_revoke(actor=user, token=token)
    return Status(204, None)
