from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "tamarind.contacts"
    label = "contacts"
    verbose_name = "Contacts"
