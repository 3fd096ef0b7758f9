from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "tamarind.engagement"
    label = "engagement"
    verbose_name = "Engagement models"
