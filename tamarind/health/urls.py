from django.urls import path

from tamarind.health import views

app_name = "health"
urlpatterns = [
    path("accounts/<int:account_id>/sentiment/", views.sentiment_set, name="sentiment"),
    path("model/", views.model_versions, name="model"),
]
