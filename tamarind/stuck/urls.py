from django.urls import path

from tamarind.stuck import views

app_name = "stuck"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:case_id>/", views.case, name="case"),
    path("<int:case_id>/claim/", views.claim, name="claim"),
]
