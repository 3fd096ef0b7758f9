from django.urls import path

from tamarind.signals import views

app_name = "signals"
urlpatterns = [
    path("", views.index, name="index"),
    # Before the "<str:key>/" catch-all, which would take "settings" for a signal key.
    path("settings/", views.settings_edit, name="settings"),
    # Before the signal key's catch-all: "weights" is a page of its own, not a signal.
    path("weights/", views.weights_page, name="weights"),
    path("weights/draft/", views.weights_draft, name="weights_draft"),
    path("<str:key>/", views.detail, name="detail"),
    path("<str:key>/trust/", views.trust, name="trust"),
]
