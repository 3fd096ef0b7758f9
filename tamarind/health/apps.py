from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "tamarind.health"
    label = "health"
    verbose_name = "Customer health"
