"""The audit trail in Django's admin: read-only, for admins, like the product's own log page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: no add, change or delete, whoever asks; reading follows ``policy.can_view_audit_log``."""

    list_display = ("at", "actor_name", "source", "action", "object_type", "object_repr", "request_id")
    list_filter = ("action", "object_type", "source")
    search_fields = ("object_repr", "actor_name", "request_id", "object_id")
    date_hierarchy = "at"
    ordering = ("-at", "-id")
    list_per_page = 50
    show_full_result_count = False  # counting a long trail on every page view is the slow part
    fields = (
        "at",
        "actor",
        "actor_name",
        "source",
        "request_id",
        "object_type",
        "object_id",
        "object_repr",
        "action",
        "before",
        "after",
    )
    readonly_fields = fields
    actions = None  # not even the built-in "delete selected"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_view_audit_log(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_view_audit_log(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
