from django.urls import path

from tamarind.success import views

app_name = "success"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("picks/", views.review_picks, name="picks"),
    path("settings/", views.settings_edit, name="settings"),
    path("export.csv", views.plan_export, name="export"),
    path("accounts/<int:account_id>/new/", views.plan_new, name="plan_new"),
    path("accounts/<int:account_id>/ebrs/new/", views.ebr_new, name="ebr_new"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_id>/print/", views.plan_print, name="print"),
    path("plans/<int:plan_id>/archive/", views.plan_archive, name="archive"),
    path("plans/<int:plan_id>/objectives/", views.objective_add, name="objective_add"),
    path("plans/<int:plan_id>/review/", views.review_new, name="review_new"),
    path("plans/<int:plan_id>/peer/", views.peer_request, name="peer_request"),
    path("objectives/<int:objective_id>/", views.objective_edit, name="objective"),
    path("objectives/<int:objective_id>/tasks/", views.task_add, name="task_add"),
    path("tasks/<int:task_id>/", views.task_edit, name="task"),
    path("reviews/<int:review_id>/", views.review_detail, name="review"),
    path("ebrs/<int:ebr_id>/", views.ebr_detail, name="ebr"),
]
