from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "tamarind.success"
    label = "success"
    verbose_name = "Success plans"
