"""The reviews app in Django's admin, for admins only: the cockpit's settings (thresholds, the default capacity
target) and the review schedules, both saved through the audited services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tamarind import policy
from tamarind.reviews import services
from tamarind.reviews.models import (
    REVIEW_SETTINGS_FIELDS,
    SCHEDULE_FIELDS,
    ReviewSchedule,
    ReviewSettings,
    valid_time_zone,
)


class AdminOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_edit_review_settings(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_review_settings(request.user)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_review_settings(request.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ("__str__", "capacity_arr", "p1_share_target", "p1_call_days", "p2_call_days", "updated_at")
    fields = REVIEW_SETTINGS_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and not ReviewSettings.objects.exists()

    def save_model(self, request: HttpRequest, obj: ReviewSettings, form: forms.ModelForm, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in REVIEW_SETTINGS_FIELDS}
        saved = services.review_settings_update(actor=request.user, changes=changes, source="admin")  # type: ignore[arg-type]
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db


class ScheduleForm(forms.ModelForm):
    """Refuses an unknown time zone on the form (a clear error, not a failure when saving)."""

    class Meta:
        model = ReviewSchedule
        fields = SCHEDULE_FIELDS

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        if not valid_time_zone(value):
            raise forms.ValidationError(f"Unknown time zone {value!r} (use an IANA name like Europe/Paris).")
        return str(value)


@admin.register(ReviewSchedule)
class ReviewScheduleAdmin(AdminOnly, admin.ModelAdmin):
    form = ScheduleForm
    list_display = ("region", "kind", "cadence", "owner", "meeting_time", "time_zone", "enabled")
    list_filter = ("kind", "cadence", "region")
    list_select_related = ("region", "owner")
    fields = SCHEDULE_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # every region gets one per kind from the scheduler job

    def save_model(self, request: HttpRequest, obj: ReviewSchedule, form: forms.ModelForm, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in SCHEDULE_FIELDS}
        fresh = ReviewSchedule.objects.select_related("region").get(pk=obj.pk)
        services.review_schedule_update(actor=request.user, schedule=fresh, changes=changes, source="admin")  # type: ignore[arg-type]
