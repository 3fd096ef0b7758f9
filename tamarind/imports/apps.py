from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "tamarind.imports"
    label = "imports"
    verbose_name = "CRM imports"
