from django.apps import AppConfig


class WebinarsConfig(AppConfig):
    name = "tamarind.webinars"
    label = "webinars"
    verbose_name = "Enablement webinars"
