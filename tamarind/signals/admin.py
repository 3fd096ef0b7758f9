from django.contrib import admin

from tamarind.signals.models import BacktestSettings, Outcome, SignalInterval, SignalTrust


@admin.register(BacktestSettings)
class BacktestSettingsAdmin(admin.ModelAdmin):
    list_display = ("min_outcomes", "contraction_share", "horizons", "trust_min_lift", "trust_min_outcomes")


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
