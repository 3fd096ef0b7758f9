from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from tamarind.people.models import User


class EmailBackend(ModelBackend):
    """Email + password sign-in; the session user comes with what the access policy reads, in one query."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        email = (kwargs.get("email") or username or "").strip().lower()
        return super().authenticate(request, username=email, password=password)

    def get_user(self, user_id: Any) -> Any:
        user = User.objects.with_region().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
