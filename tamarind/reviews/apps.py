from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "tamarind.reviews"
    label = "reviews"
    verbose_name = "Manager reviews"
