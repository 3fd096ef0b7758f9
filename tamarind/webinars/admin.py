from django.contrib import admin

from tamarind.webinars.models import Topic, WebinarSettings


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """Admins add topics beyond the five seeded ones, rename them, or retire them (``is_active``)."""

    list_display = ("name", "key", "position", "is_active")
    list_editable = ("position", "is_active")
    prepopulated_fields = {"key": ("name",)}


@admin.register(WebinarSettings)
class WebinarSettingsAdmin(admin.ModelAdmin):
    """The targets and rules: attendance, stay-to-end and feedback targets, the net-new window and the stay-to-end
    margin. One row (seeded)."""

    list_display = ("attendance_target", "stayed_target", "feedback_target", "net_new_days", "stayed_within_minutes")

    def has_add_permission(self, request: object) -> bool:
        return not WebinarSettings.objects.exists()

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
