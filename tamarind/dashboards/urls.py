from django.urls import path

from tamarind.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("onboarding/", views.onboarding_dashboard, name="onboarding"),
    path("onboarding/assign/<int:account_id>/", views.onboarding_assign, name="onboarding_assign"),
    path("health/", views.health_dashboard, name="health"),
]
