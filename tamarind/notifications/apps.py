from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tamarind.notifications"
    label = "notifications"
    verbose_name = "Notifications"
