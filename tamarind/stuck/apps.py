from django.apps import AppConfig


class StuckConfig(AppConfig):
    name = "tamarind.stuck"
    label = "stuck"
    verbose_name = "Stuck customers"
