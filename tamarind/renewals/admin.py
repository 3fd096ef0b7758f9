"""The renewal settings in Django's admin, for admins (CS Operations): saved through the service, so every change
is checked and audited like on the product's settings page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.renewals import services
from tamarind.renewals.models import SETTINGS_FIELDS, RenewalSettings


@admin.register(RenewalSettings)
class RenewalSettingsAdmin(admin.ModelAdmin):
    fields = SETTINGS_FIELDS

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_edit_renewal_settings(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_renewal_settings(request.user)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_renewal_settings(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.can_edit_renewal_settings(request.user) and not RenewalSettings.objects.exists()  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: RenewalSettings, form: Any, change: bool) -> None:
        services.renewal_settings_update(
            actor=request.user,  # type: ignore[arg-type]
            changes={f: getattr(obj, f) for f in SETTINGS_FIELDS},
            source="admin",
        )
