from django.urls import path

from tamarind.onboarding import views

app_name = "onboarding"
urlpatterns = [
    path("<int:onboarding_id>/", views.onboarding_detail, name="detail"),
]
