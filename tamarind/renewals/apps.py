from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "tamarind.renewals"
    label = "renewals"
    verbose_name = "Renewals"
