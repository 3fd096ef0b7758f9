from django.urls import path

from tamarind.onboarding import views

app_name = "onboarding"
urlpatterns = [
    path("", views.onboarding_list, name="list"),
    path("targets/", views.onboarding_targets, name="targets"),
    path("<int:onboarding_id>/", views.onboarding_detail, name="detail"),
    path("<int:onboarding_id>/steps/<slug:step>/", views.onboarding_step, name="step"),
]
