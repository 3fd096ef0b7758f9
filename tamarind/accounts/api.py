"""REST routes of the account book under ``/api/v1/accounts/`` (auth and error bodies: ``tamarind.core.api``).

Routes parse, gate (``selectors.account_for_user`` / ``Account.objects.visible_to``), call a service and
shape the answer; the access policy and the business rules stay in ``tamarind.policy`` and the services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts import selectors, services
from tamarind.accounts.models import Account, LifecycleStage, Priority, ProductTier, Segment
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
from tamarind.people.models import Region, User

router = Router(tags=["accounts"])


# --- Output ---------------------------------------------------------------------------------------------------


class AccountNameRef(Schema):
    """An account by id and name (a parent; the account a history is of)."""

    id: int
    name: str


class ProductTierOut(Schema):
    id: int
    name: str
    rung: int = Field(..., description="Position on the ordered tier ladder (0 = Free); equal rungs are the same plan.")


class AccountOut(Schema):
    """An account with every field of the account book; owners and tier inline."""

    id: int
    crm_id: str = Field(..., description="Unique id in the CRM the account came from.")
    name: str
    parent: AccountNameRef | None = Field(None, description="The parent account, for a business unit.")
    region: RegionRef
    segment: str = Field(..., description="`smb`, `mid_market` or `enterprise`.")
    arr: str = Field(
        ..., description="Annual recurring revenue as a decimal string, to the cent.", examples=["120000.00"]
    )
    currency: str = Field(..., description="ISO 4217 code of `arr`.")
    product_tier: ProductTierOut | None
    licenses: int
    priority: int = Field(..., description="1 full lifecycle, 2 60-day cadence, 3 unmanaged child, 4 digital only.")
    engagement_model: str = Field(
        ..., description="`high_touch`, `low_touch`, `named`, `pooled`, `digital`, or empty when not set."
    )
    tam: PersonRef | None
    sal: PersonRef | None = Field(None, description="The SAL / AE.")
    sa: PersonRef | None = Field(None, description="The Solutions Architect.")
    customer_since: dt.date | None
    next_renewal_date: dt.date | None
    lifecycle_stage: str = Field(..., description="`onboarding`, `adoption`, `optimize_grow` or `will_churn`.")
    collaboration_url: str = Field(..., description="Link to the shared collaboration space, or empty.")
    health: str | None = Field(
        None, description="The color of the current health score (`green`, `yellow`, `red`); null when not scored."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_arr(obj: Account) -> str | None:
        return money(obj.arr)

    @staticmethod
    def resolve_health(obj: Account) -> str | None:
        # Loaded with the account (``with_health``); an account saved just now has no score yet.
        return getattr(obj, "health_color", None) or None


class AccountPage(Schema):
    count: int = Field(..., description="Accounts matching the filters, over all pages.")
    page: int
    page_size: int
    results: list[AccountOut]


class AuditEventOut(Schema):
    at: dt.datetime
    actor_name: str = Field(..., description="The actor's name when the change was made.")
    action: str = Field(..., description="`create`, `update` or `delete`.")
    source: str = Field(..., description="Where the change came from: web, api, import, cli, ...")
    before: dict[str, Any] | None = Field(None, description="Changed fields before (foreign keys as ids).")
    after: dict[str, Any] | None = Field(None, description="Changed fields after (foreign keys as ids).")
    request_id: str = Field(..., description="The request that made the change (`X-Request-ID`).")


class TamAssignmentOut(Schema):
    changed_at: dt.datetime
    from_tam: PersonRef | None
    to_tam: PersonRef | None
    changed_by: PersonRef | None


class AccountHistoryOut(Schema):
    account: AccountNameRef
    events: list[AuditEventOut] = Field(..., description="Audit events, newest first (at most 200).")
    tam_assignments: list[TamAssignmentOut] = Field(..., description="Every change of TAM, newest first.")


# --- Input ----------------------------------------------------------------------------------------------------

CrmId = Annotated[str, Field(min_length=1, max_length=64, description="Unique id in the CRM.")]
Name = Annotated[str, Field(min_length=1, max_length=255)]
Arr = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2, description="ARR, a number or a decimal string (no float rounding)."),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. `USD`.")]
Licenses = Annotated[int, Field(ge=0, le=2_147_483_647)]
# The models are data (admins add more than the built-in five): any active model's key, checked by the service
# (an unknown key is a 422 naming the field).
Engagement = Annotated[
    str,
    Field(
        max_length=40,
        description="Engagement model key (e.g. `high_touch`, `pooled`, or one an admin added; see "
        "`GET /api/v1/engagement/models`); empty for none.",
    ),
]
Url = Annotated[str, Field(max_length=500, description="Collaboration space link (http/https), or empty.")]
Ref = Id
TierName = Annotated[str, Field(min_length=1, max_length=60, description="Product tier by name (e.g. `Gold`).")]


class AccountCreateIn(InputSchema):
    """A new account. References are ids; the product tier by id or by name."""

    crm_id: CrmId
    name: Name
    region_id: Ref
    segment: Segment
    parent_id: Ref | None = None
    arr: Arr = Decimal("0.00")
    currency: Currency = "USD"
    product_tier_id: Ref | None = None
    product_tier: TierName | None = None
    licenses: Licenses = 0
    priority: Priority = Priority.FULL
    engagement_model: Engagement = ""
    tam_id: Ref | None = Field(None, description="An active TAM.")
    sal_id: Ref | None = Field(None, description="The SAL / AE.")
    sa_id: Ref | None = Field(None, description="The Solutions Architect.")
    customer_since: dt.date | None = None
    next_renewal_date: dt.date | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.ONBOARDING
    collaboration_url: Url = ""


class AccountPatchIn(InputSchema):
    """Only the fields sent change. Fields that cannot be empty refuse ``null``; references take ``null`` to clear."""

    # Non-optional types with a ``None`` default: absent is fine, an explicit null fails validation.
    crm_id: CrmId = None  # type: ignore[assignment]
    name: Name = None  # type: ignore[assignment]
    region_id: Ref = None  # type: ignore[assignment]
    segment: Segment = None  # type: ignore[assignment]
    parent_id: Ref | None = None
    arr: Arr = None  # type: ignore[assignment]
    currency: Currency = None  # type: ignore[assignment]
    product_tier_id: Ref | None = None
    product_tier: TierName | None = None
    licenses: Licenses = None  # type: ignore[assignment]
    priority: Priority = None  # type: ignore[assignment]
    engagement_model: Engagement = None  # type: ignore[assignment]
    tam_id: Ref | None = None
    sal_id: Ref | None = None
    sa_id: Ref | None = None
    customer_since: dt.date | None = None
    next_renewal_date: dt.date | None = None
    lifecycle_stage: LifecycleStage = None  # type: ignore[assignment]
    collaboration_url: Url = None  # type: ignore[assignment]


class AccountListQuery(PageQuery):
    """Documents the filters; they are parsed by ``selectors.AccountFilters``, the same parser as the web list."""

    q: str = Field("", description="Name contains this, or the CRM id equals it.")
    region: list[str] = Field([], description="Region ids (repeat the parameter or separate with commas).")
    segment: list[str] = Field([], description="`smb`, `mid_market`, `enterprise`.")
    tier: list[str] = Field([], description="Product tier ids; a tier matches every name on its rung.")
    tam: list[str] = Field([], description="TAM ids, or `none` for accounts without a TAM.")
    priority: list[str] = Field([], description="Priorities 1-4.")
    arr_min: str = Field("", description="Lowest ARR, inclusive.")
    arr_max: str = Field("", description="Highest ARR, inclusive.")
    health: list[str] = Field(
        [], description="Health colors of the current score: `green`, `yellow`, `red`, or `none` (not scored yet)."
    )
    renewal_from: str = Field("", description="Next renewal on or after this date (YYYY-MM-DD).")
    renewal_to: str = Field("", description="Next renewal on or before this date (YYYY-MM-DD).")
    scope: str = Field("all", description="`all`: every account you may read; `mine`: the accounts you own as TAM.")
    sort: str = Field(selectors.DEFAULT_SORT, description="One of: " + ", ".join(f"`{s}`" for s in selectors.SORTS))


def _resolve_references(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Body fields -> service fields: ``*_id`` references become objects; an unknown id is a 422 naming the field.

    The parent must be an account the caller can read, so an id outside their scope "does not exist" here too.
    """
    if "product_tier_id" in data and "product_tier" in data:
        raise ValidationFailed({"product_tier": ["Send product_tier_id or product_tier, not both."]})
    lookups: dict[str, tuple[str, Any]] = {
        "region_id": ("region", Region.objects.all()),
        "parent_id": ("parent", Account.objects.visible_to(user)),
        "product_tier_id": ("product_tier", ProductTier.objects.all()),
        "tam_id": ("tam", User.objects.all()),
        "sal_id": ("sal", User.objects.all()),
        "sa_id": ("sa", User.objects.all()),
    }
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        if key == "product_tier":
            found = ProductTier.objects.filter(name__iexact=value).first() if value is not None else None
            if value is not None and found is None:
                errors[key] = [f"{value!r} does not exist."]
            out["product_tier"] = found
        elif key in lookups:
            field, qs = lookups[key]
            found = qs.filter(pk=value).first() if value is not None else None
            if value is not None and found is None:
                errors[key] = [f"{value} does not exist."]
            out[field] = found
        else:
            out[key] = value
    if errors:
        raise ValidationFailed(errors)
    return out


# --- Routes ---------------------------------------------------------------------------------------------------


@router.get(
    "/",
    response={200: AccountPage, **error_responses(401, 422)},
    summary="List accounts",
    description=(
        "The accounts you may read, filtered and sorted like the web list, one page at a time. "
        "An invalid filter value answers 422 naming the parameter."
    ),
)
def account_list(request: HttpRequest, params: Query[AccountListQuery]) -> dict[str, Any]:
    filters = selectors.AccountFilters.from_params(request.GET)
    if filters.errors:
        raise ValidationFailed({key: [msg] for key, msg in filters.errors.items()})
    qs = selectors.account_list(user=actor(request), filters=filters)
    return paginate(selectors.AccountRows(qs, owners=True), page=params.page, page_size=params.page_size)


@router.post(
    "/",
    response={201: AccountOut, **error_responses(401, 403, 422)},
    summary="Create an account",
    description=(
        "Admins create accounts in any region, a TAM Manager in the region they manage. "
        "Setting a TAM records the first TAM assignment. Unknown ids answer 422 naming the field."
    ),
)
def account_create(request: HttpRequest, payload: AccountCreateIn) -> Status[Account]:
    user = actor(request)
    # Gate before resolving the body's references, so a caller who may not create learns nothing from them.
    if not policy.can_create_account(user):
        raise PermissionDenied("You may not create accounts.")
    data = _resolve_references(user, payload.changes())
    account = services.account_create(actor=user, data=data, source="api")
    return Status(201, account)


@router.get(
    "/{account_id}",
    response={200: AccountOut, **error_responses(401, 404, 422)},
    summary="Get an account",
    description="404 when the account does not exist or is outside what you may read.",
)
def account_detail(request: HttpRequest, account_id: Id) -> Account:
    return selectors.account_for_user(actor(request), account_id)


@router.patch(
    "/{account_id}",
    response={200: AccountOut, **error_responses(401, 403, 404, 422)},
    summary="Change an account",
    description=(
        "Send only the fields to change. A TAM Manager changes the accounts of their region (not the region); "
        "a TAM only `priority`, `engagement_model`, `lifecycle_stage` and `collaboration_url` of accounts they own; "
        "admins everything. Changing a field you may not change answers 403 and changes nothing."
    ),
)
def account_update(request: HttpRequest, account_id: Id, payload: AccountPatchIn) -> Account:
    user = actor(request)
    account = selectors.account_for_user(user, account_id, write=True)
    changes = _resolve_references(user, payload.changes())
    services.account_update(actor=user, account=account, changes=changes, source="api")
    return account


@router.get(
    "/{account_id}/history",
    response={200: AccountHistoryOut, **error_responses(401, 404, 422)},
    summary="Account history",
    description="The audit trail of the account (who changed what, when, from which request) and its TAM changes.",
)
def account_history(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    account = selectors.account_for_user(actor(request), account_id)
    return {
        "account": account,
        "events": selectors.account_history(account=account),
        "tam_assignments": selectors.account_tam_history(account=account),
    }
