"""Django admin: usage metrics and ingest batches, read-only (written by ``usage.services`` only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.usage.models import IngestBatch, UsageMetric


class _ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_push_usage(request.user)  # type: ignore[arg-type]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_push_usage(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageMetric)
class UsageMetricAdmin(_ReadOnly):
    list_display = ("key", "label", "kind", "builtin", "created_at")
    list_filter = ("kind", "builtin")


@admin.register(IngestBatch)
class IngestBatchAdmin(_ReadOnly):
    list_display = ("id", "kind", "source", "actor", "at", "created", "updated", "unchanged", "accounts")
    list_filter = ("kind", "source")
    list_select_related = ("actor",)
    date_hierarchy = "at"
