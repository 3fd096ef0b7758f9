from django.contrib import admin

from tamarind.cohorts.models import Cohort


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    """Read-only here: cohorts are run in the app (members, contacts and activity go through audited services)."""

    list_display = ("name", "status", "starts_on", "ends_on", "region")
    readonly_fields = ("created_at", "updated_at")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
