from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "tamarind.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"
