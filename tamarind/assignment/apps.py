from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "tamarind.assignment"
    label = "assignment"
    verbose_name = "Assignment at the point of sale"
