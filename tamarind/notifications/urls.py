from django.urls import path

from tamarind.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.notification_mark_all_read, name="mark_all_read"),
    path("settings/", views.notification_settings, name="settings"),
    path("<int:notification_id>/read/", views.notification_mark_read, name="mark_read"),
    path("<int:notification_id>/open/", views.notification_open, name="open"),
]
