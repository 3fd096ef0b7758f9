"""Building blocks every app's ``api.py`` shares: the error body, strict input schemas, pagination."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Protocol, cast

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from tamarind.core.values import MAX_INT64, MIN_INT64, input_problem

if TYPE_CHECKING:
    from tamarind.people.models import User

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
CENT = Decimal("0.01")

# The integer types of every path, query and body field: the database's integers are 64-bit, and a larger value
# must be refused as bad input (422) before it reaches a query, where it would overflow (a 500).
Id = Annotated[int, Field(ge=1, le=MAX_INT64)]
Int64 = Annotated[int, Field(ge=MIN_INT64, le=MAX_INT64)]
Offset = Annotated[int, Field(ge=0, le=MAX_INT64)]


def _checked(value: Any) -> Any:
    problem = input_problem(value)
    if problem:
        raise ValueError(problem[0].lower() + problem[1:])
    return value


class ErrorOut(Schema):
    """Every 4xx answer of the API."""

    detail: str = Field(..., description="What went wrong, for a person to read.")
    errors: Any = Field(None, description="For 422 answers: the problems by field, when known.")


class PersonRef(Schema):
    """A person, as the routes that name one show them."""

    id: int
    full_name: str
    email: str


class RegionRef(Schema):
    id: int
    name: str


class AccountRef(Schema):
    """An account, as the routes that name one show it."""

    id: int
    name: str
    crm_id: str


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """``response=`` entries documenting the error statuses a route can answer."""
    return dict.fromkeys(codes, ErrorOut)


class CheckedSchema(Schema):
    """Refuses, in every field and anything nested in it, text with NUL characters (PostgreSQL cannot store
    them), integers beyond 64 bits and dates or times outside the product's years (``core.values``): each a 422
    naming the field, never a 500 from the database or from date arithmetic."""

    @field_validator("*", mode="after")
    @classmethod
    def _in_range(cls, value: Any) -> Any:
        return _checked(value)


class QuerySchema(CheckedSchema):
    """Base of the query parameters of a route."""


class InputSchema(CheckedSchema):
    """Base of every request body: unknown keys are refused (a misspelt field must not be silently dropped),
    and values are checked as ``CheckedSchema`` says."""

    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        """The fields the caller actually sent, with enums as their plain values and money to the cent."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_unset=True).items():
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, Decimal):
                # Quantized so "120000" and "120000.00" compare equal to the stored value (no spurious audit).
                value = value.quantize(CENT)
            out[key] = value
        return out


class PageQuery(QuerySchema):
    """Pagination parameters shared by list routes."""

    page: int = Field(1, ge=1, le=MAX_INT64, description="1-based page number. A page past the end is empty.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (at most {MAX_PAGE_SIZE})."
    )


class Countable(Protocol):
    """What ``paginate`` reads: a queryset, or anything that counts and slices like one."""

    def count(self) -> int: ...

    def __getitem__(self, key: slice) -> Any: ...


def paginate(qs: QuerySet[Any] | Countable, *, page: int, page_size: int) -> dict[str, Any]:
    """``{count, page, page_size, results}`` in two queries whatever the size of ``qs``."""
    count = qs.count()
    offset = (page - 1) * page_size
    # Past the end: skip the query (a huge offset would overflow the database's integer types).
    results = list(qs[offset : offset + page_size]) if offset < count else []
    return {"count": count, "page": page, "page_size": page_size, "results": results}


def money(value: Decimal | None) -> str | None:
    """A decimal amount as a string with cents, so clients lose no precision."""
    return None if value is None else str(value.quantize(CENT))


def actor(request: HttpRequest) -> User:
    """The authenticated caller (set by the API's bearer-token or session auth)."""
    return cast("User", request.auth)  # type: ignore[attr-defined]
