from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "tamarind.usage"
    label = "usage"
    verbose_name = "Product usage and support"
