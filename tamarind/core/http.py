"""Small helpers for views."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from tamarind.people.models import User


def request_user(request: HttpRequest) -> User:
    """The signed-in person, typed as Tamarind's user (views call this after ``login_required``)."""
    return cast("User", request.user)
