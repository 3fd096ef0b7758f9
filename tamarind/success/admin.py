"""Plan templates in Django's admin: admins (CS Operations) define the default objectives and tasks a new plan
starts from. Plans themselves are worked on the product's pages, where every change is checked and audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.success.models import PlanTemplate, PlanTemplateObjective


class AdminOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_edit_success_settings(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_success_settings(request.user)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_success_settings(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_success_settings(request.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_success_settings(request.user)  # type: ignore[arg-type]


class TemplateObjectiveInline(AdminOnly, admin.TabularInline):
    model = PlanTemplateObjective
    extra = 1
    fields = ("position", "name", "category", "success_criteria", "tasks")


@admin.register(PlanTemplate)
class PlanTemplateAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ("name", "engagement_model", "segment", "active")
    list_filter = ("active",)
    inlines = [TemplateObjectiveInline]
