from django.urls import path

from tamarind.actions import views

app_name = "actions"
urlpatterns = [
    path("", views.task_mine, name="mine"),
    path("team/", views.task_team, name="team"),
    path("new/", views.task_create, name="create"),
    path("<int:task_id>/", views.task_detail, name="detail"),
    path("<int:task_id>/status/", views.task_set_status, name="status"),
    path("<int:task_id>/edit/", views.task_edit, name="edit"),
]
