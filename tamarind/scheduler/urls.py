from django.urls import path

from tamarind.scheduler import views

app_name = "scheduler"
urlpatterns = [
    path("", views.job_list, name="jobs"),
    path("runs/", views.run_list, name="runs"),
    path("<int:job_id>/", views.job_detail, name="job"),
    path("<int:job_id>/run/", views.job_run_now, name="run_now"),
]
