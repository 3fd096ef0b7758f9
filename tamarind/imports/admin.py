"""Django admin: the import history, read-only (jobs are written by the import service only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("id", "file_name", "status", "dry_run", "created_by", "created_at", "total", "error_count")
    list_filter = ("status", "dry_run", "source")
    search_fields = ("file_name", "created_by__email", "created_by__full_name")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ImportJob._meta.fields]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_import(request.user)  # type: ignore[arg-type]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_import(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
