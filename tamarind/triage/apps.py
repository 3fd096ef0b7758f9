from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "tamarind.triage"
    label = "triage"
    verbose_name = "Triage"
