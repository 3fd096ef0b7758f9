from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "tamarind.cohorts"
    label = "cohorts"
    verbose_name = "Customer cohorts"
