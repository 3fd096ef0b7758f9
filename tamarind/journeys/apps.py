from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "tamarind.journeys"
    label = "journeys"
    verbose_name = "Digital journey"
