from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tamarind.core"
    label = "core"
