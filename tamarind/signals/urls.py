from django.urls import path

from tamarind.signals import views

app_name = "signals"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:key>/", views.detail, name="detail"),
    path("<str:key>/trust/", views.trust, name="trust"),
]
