"""REST routes of contacts under ``/api/v1/contacts`` (auth and error bodies: ``tamarind.core.api``).

The same access as the account page: a contact is read by its account's readers and written by its account's
writers (other readers 403, outsiders 404); every write through an audited service (``source="api"``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.contacts import selectors, services
from tamarind.contacts.models import Contact
from tamarind.core.schemas import AccountRef, Id, InputSchema, PageQuery, actor, error_responses, paginate

router = Router(tags=["Contacts"])


class ContactPersonaOut(Schema):
    key: str
    name: str


class ContactOut(Schema):
    """A person at a customer account. `email` is lower-cased and unique within the account; `opted_out`:
    they receive no email from the digital journey."""

    id: int
    account: AccountRef
    name: str
    email: str
    title: str
    personas: list[ContactPersonaOut]
    opted_out: bool
    opted_out_at: dt.datetime | None
    crm_id: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_personas(obj: Contact) -> list[dict[str, str]]:
        return [{"key": p.key, "name": p.name} for p in obj.personas.all()]


class ContactPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ContactOut]


class ContactListQuery(PageQuery):
    account: Id | None = Field(None, description="An account id: only its contacts.")
    persona: str = Field("", max_length=40, description="A persona key (`admin`, `security-lead`, ...).")
    email: str = Field("", max_length=254, description="An email, matched ignoring case.")
    opted_out: bool | None = Field(None, description="Only those opted out (true) or not (false).")


PersonaKeys = Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)]


class ContactCreateIn(InputSchema):
    account: Id
    name: Annotated[str, Field(max_length=200)]
    email: Annotated[str, Field(max_length=254)]
    title: Annotated[str, Field(max_length=200)] = ""
    personas: PersonaKeys = Field(default_factory=list, description="Persona keys.")
    opted_out: bool = False
    crm_id: Annotated[str, Field(max_length=64)] = ""


class ContactUpdateIn(InputSchema):
    """Only the fields sent change."""

    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    title: Annotated[str, Field(max_length=200)] | None = None
    personas: PersonaKeys | None = Field(None, description="Persona keys; replaces the contact's personas.")
    opted_out: bool | None = None
    crm_id: Annotated[str, Field(max_length=64)] | None = None


@router.get(
    "",
    response={200: ContactPage, **error_responses(401, 422)},
    summary="List contacts",
    description="The contacts of the accounts you may read, by account then name.",
)
def contact_list(request: HttpRequest, params: Query[ContactListQuery]) -> dict[str, Any]:
    user = actor(request)
    filters = selectors.ContactFilters(
        account=params.account, persona=params.persona, email=params.email, opted_out=params.opted_out
    )
    return paginate(selectors.contact_list(user=user, filters=filters), page=params.page, page_size=params.page_size)


@router.post(
    "",
    response={201: ContactOut, **error_responses(401, 403, 404, 422)},
    summary="Create a contact",
    description="422 for a bad or duplicate email (within the account) or an unknown persona.",
)
def contact_create(request: HttpRequest, payload: ContactCreateIn) -> Status[Any]:
    user = actor(request)
    account = account_for_user(user, payload.account)
    if not policy.can_write_contacts(user, account):
        raise PermissionDenied("You may read this account's contacts but not change them.")
    contact = services.contact_create(
        actor=user,
        account=account,
        name=payload.name,
        email=payload.email,
        title=payload.title,
        personas=payload.personas,
        opted_out=payload.opted_out,
        crm_id=payload.crm_id,
        source="api",
    )
    return Status(201, selectors.contact_for_user(user, contact.pk))


@router.get(
    "/{contact_id}",
    response={200: ContactOut, **error_responses(401, 404, 422)},
    summary="Get a contact",
)
def contact_detail(request: HttpRequest, contact_id: Id) -> Contact:
    return selectors.contact_for_user(actor(request), contact_id)


@router.patch(
    "/{contact_id}",
    response={200: ContactOut, **error_responses(401, 403, 404, 422)},
    summary="Update a contact",
)
def contact_update(request: HttpRequest, contact_id: Id, payload: ContactUpdateIn) -> Contact:
    user = actor(request)
    contact = selectors.contact_for_user(user, contact_id, write=True)
    changes = {k: v for k, v in payload.changes().items() if v is not None}
    services.contact_update(actor=user, contact=contact, changes=changes, source="api")
    return selectors.contact_for_user(user, contact_id)


@router.delete(
    "/{contact_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    summary="Delete a contact",
)
def contact_delete(request: HttpRequest, contact_id: Id) -> Status[None]:
    user = actor(request)
    contact = selectors.contact_for_user(user, contact_id, write=True)
    services.contact_delete(actor=user, contact=contact, source="api")
    return Status(204, None)


@router.post(
    "/{contact_id}/opt-out",
    response={200: ContactOut, **error_responses(401, 403, 404, 422)},
    summary="Opt a contact out of email",
    description="Idempotent: a contact already opted out is returned unchanged.",
)
def contact_opt_out(request: HttpRequest, contact_id: Id) -> Contact:
    user = actor(request)
    contact = selectors.contact_for_user(user, contact_id, write=True)
    services.contact_opt_out(contact=contact, actor=user, source="api")
    return selectors.contact_for_user(user, contact_id)


@router.post(
    "/{contact_id}/opt-in",
    response={200: ContactOut, **error_responses(401, 403, 404, 422)},
    summary="Take back a contact's opt-out",
    description="Idempotent: a contact not opted out is returned unchanged.",
)
def contact_opt_in(request: HttpRequest, contact_id: Id) -> Contact:
    user = actor(request)
    contact = selectors.contact_for_user(user, contact_id, write=True)
    services.contact_opt_in(actor=user, contact=contact, source="api")
    return selectors.contact_for_user(user, contact_id)
