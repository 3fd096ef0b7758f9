from django.urls import path

from tamarind.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("onboarding/", views.onboarding_dashboard, name="onboarding"),
    path("onboarding/assign/<int:account_id>/", views.onboarding_assign, name="onboarding_assign"),
    path("health/", views.health_dashboard, name="health"),
    path("health/red-yellow/", views.health_lists, name="health_lists"),
    path("health/stale/", views.health_stale, name="health_stale"),
    path("health/measures/", views.health_measures, name="health_measures"),
    path("health/indicators/", views.health_indicators, name="health_indicators"),
]
