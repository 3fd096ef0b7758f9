from django.apps import AppConfig


class TimelineConfig(AppConfig):
    name = "tamarind.timeline"
    label = "timeline"
    verbose_name = "Account timeline"
