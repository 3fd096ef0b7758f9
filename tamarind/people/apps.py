from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "tamarind.people"
    label = "people"
    verbose_name = "People and regions"
