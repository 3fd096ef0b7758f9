from django.urls import path

from tamarind.usage import views

app_name = "usage"

urlpatterns = [
    path("metrics/", views.usage_metrics, name="metrics"),
    path("accounts/<int:account_id>/", views.usage_account, name="account"),
]
