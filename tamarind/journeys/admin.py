from django.contrib import admin

from tamarind.journeys.models import Program, Step


class StepInline(admin.StackedInline):
    model = Step
    extra = 0


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    """Programs and their steps. The app's step page checks merge fields and previews before saving; prefer it (or
    the API) for template changes, since the admin bypasses the audited services."""

    list_display = ("name", "key", "status", "min_arr", "max_arr", "track")
    inlines = [StepInline]
