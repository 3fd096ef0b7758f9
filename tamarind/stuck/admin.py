from django.contrib import admin

from tamarind.stuck.models import StuckRule


@admin.register(StuckRule)
class StuckRuleAdmin(admin.ModelAdmin):
    """Admins (CS Operations) switch rules on or off and change their thresholds; ``StuckRule.clean`` validates
    the parameters per kind. Cases are worked in the app (claim, outreach, resolve), not here."""

    list_display = ("name", "kind", "params", "enabled", "position")
    list_editable = ("enabled",)
