from django.urls import path

from tamarind.signals import views

app_name = "signals"
urlpatterns = [
    path("", views.index, name="index"),
    # Before the "<str:key>/" catch-all, which would take "settings" for a signal key.
    path("settings/", views.settings_edit, name="settings"),
    path("<str:key>/", views.detail, name="detail"),
    path("<str:key>/trust/", views.trust, name="trust"),
]
