"""The signal evidence in Django's admin. The back-test settings are saved through the service (checked and
audited like on /signals/settings/), by admins only; nothing else here is edited by hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.signals import services
from tamarind.signals.models import BacktestSettings, Outcome, SignalInterval, SignalTrust


class BacktestSettingsAdminForm(forms.ModelForm):
    """Refuses what the service would refuse, on the form (the admin would otherwise answer a 500)."""

    class Meta:
        model = BacktestSettings
        fields = services.SETTINGS_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _, errors = services.check_settings(data)
        for field, messages in errors.items():
            self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(BacktestSettings)
class BacktestSettingsAdmin(admin.ModelAdmin):
    form = BacktestSettingsAdminForm
    list_display = ("min_outcomes", "contraction_share", "horizons", "trust_min_lift", "trust_min_outcomes")
    fields = services.SETTINGS_FIELDS

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_manage_signals(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_manage_signals(request.user)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_manage_signals(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a singleton: BacktestSettings.load() makes it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BacktestSettings, form: Any, change: bool) -> None:
        # Through the service: the same bounds as the settings page, and an audit event with before and after.
        services.backtest_settings_update(
            actor=request.user,  # type: ignore[arg-type]
            source="admin",
            **{f: getattr(obj, f) for f in services.SETTINGS_FIELDS},
        )


@admin.register(SignalInterval)
class SignalIntervalAdmin(admin.ModelAdmin):
    list_display = ("account", "key", "started_on", "ended_on")
    list_filter = ("key",)
    raw_id_fields = ("account",)


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "on", "source")
    list_filter = ("kind", "source")
    raw_id_fields = ("account",)


@admin.register(SignalTrust)
class SignalTrustAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "trusted", "decided_by", "decided_at")
    readonly_fields = ("key", "version", "trusted", "thresholds", "evidence", "decided_by", "decided_at")
