from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tamarind.accounts"
    label = "accounts"
    verbose_name = "Account book"
