"""Building blocks every app's ``api.py`` shares: the error body, strict input schemas, pagination."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

if TYPE_CHECKING:
    from tamarind.people.models import User

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
CENT = Decimal("0.01")


class ErrorOut(Schema):
    """Every 4xx answer of the API."""

    detail: str = Field(..., description="What went wrong, for a person to read.")
    errors: Any = Field(None, description="For 422 answers: the problems by field, when known.")


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """``response=`` entries documenting the error statuses a route can answer."""
    return dict.fromkeys(codes, ErrorOut)


class InputSchema(Schema):
    """Base of every request body: unknown keys are refused (a misspelt field must not be silently dropped),
    and text may not contain NUL characters (PostgreSQL cannot store them)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value

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


class PageQuery(Schema):
    """Pagination parameters shared by list routes."""

    page: int = Field(1, ge=1, description="1-based page number. A page past the end is empty.")
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
