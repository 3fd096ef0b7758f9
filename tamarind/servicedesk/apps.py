from django.apps import AppConfig


class ServicedeskConfig(AppConfig):
    name = "tamarind.servicedesk"
    label = "servicedesk"
    verbose_name = "Service Desk"
