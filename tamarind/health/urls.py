from django.urls import path

from tamarind.health import views

app_name = "health"
urlpatterns = [
    path("accounts/<int:account_id>/sentiment/", views.sentiment_set, name="sentiment"),
    path("model/", views.model_versions, name="model"),
    path("model/edit/", views.model_edit, name="model_edit"),
    path("model/preview/", views.model_preview, name="model_preview"),
    path("model/v<int:version>/", views.model_version, name="model_version"),
]
