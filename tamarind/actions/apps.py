from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "tamarind.actions"
    label = "actions"
    verbose_name = "Tasks (calls to action)"
