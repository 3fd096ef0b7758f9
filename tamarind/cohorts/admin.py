from django.contrib import admin
from django.http import HttpRequest

from tamarind.cohorts.models import Cohort


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    """Read-only here: cohorts are run in the app (members, contacts and activity go through audited services)."""

    list_display = ("name", "status", "starts_on", "ends_on", "region")
    readonly_fields = ("created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
