from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "tamarind.signals"
    label = "signals"
    verbose_name = "Signal evidence"
