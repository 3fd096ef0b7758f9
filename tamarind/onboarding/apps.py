from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "tamarind.onboarding"
    label = "onboarding"
    verbose_name = "Onboarding"
