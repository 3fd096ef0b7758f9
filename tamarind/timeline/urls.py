from django.urls import path

from tamarind.timeline import views

app_name = "timeline"
urlpatterns = [
    path("accounts/<int:account_id>/", views.account_timeline, name="account"),
    path("accounts/<int:account_id>/entries/", views.timeline_entry_create, name="create"),
]
