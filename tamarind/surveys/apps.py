from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "tamarind.surveys"
    label = "surveys"
    verbose_name = "Surveys"
