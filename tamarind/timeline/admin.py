"""Timeline entries in Django's admin: read-only, for admins (entries are logged on the account page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.timeline.models import TimelineEntry


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "account", "occurred_at", "author")
    list_filter = ("kind",)
    search_fields = ("title", "account__name", "account__crm_id")
    list_select_related = ("account", "author")

    def has_module_permission(self, request: HttpRequest) -> bool:
        # The admins who set the targets are the ones who use these back-office pages.
        return policy.can_edit_onboarding_targets(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The admins who set the targets are the ones who use these back-office pages.
        return policy.can_edit_onboarding_targets(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
