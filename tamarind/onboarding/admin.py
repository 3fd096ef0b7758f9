"""Onboarding in Django's admin, for admins only: the targets (saved through the audited service) and the
records, read-only (they are worked on the product's own pages, where every change is checked and audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.onboarding import services
from tamarind.onboarding.models import TARGET_FIELDS, Onboarding, OnboardingTargets


class AdminOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        # The admins who set the targets are the ones who use these back-office pages.
        return policy.can_edit_onboarding_targets(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The admins who set the targets are the ones who use these back-office pages.
        return policy.can_edit_onboarding_targets(request.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OnboardingTargets)
class OnboardingTargetsAdmin(AdminOnly, admin.ModelAdmin):
    """One row of targets: added once (if no one has saved it yet), then changed; never deleted."""

    list_display = ("__str__", "engage_days", "first_value_days", "onboard_days", "updated_at", "updated_by")
    fields = TARGET_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and not OnboardingTargets.objects.exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request)

    def save_model(self, request: HttpRequest, obj: OnboardingTargets, form: forms.ModelForm, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in TARGET_FIELDS}
        saved = services.onboarding_targets_update(actor=request.user, changes=changes, source="admin")  # type: ignore[arg-type]
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db


@admin.register(Onboarding)
class OnboardingAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ("account", "tam", "status", "contract_start", "onboarding_start", "onboarding_finish")
    list_filter = ("status",)
    search_fields = ("account__name", "account__crm_id", "tam__full_name")
    list_select_related = ("account", "tam")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
