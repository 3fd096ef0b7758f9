from django.urls import path

from tamarind.cohorts import views

app_name = "cohorts"
urlpatterns = [
    path("", views.cohort_list, name="list"),
    path("new/", views.cohort_new, name="new"),
    path("compare/", views.cohort_compare, name="compare"),
    path("<int:cohort_id>/", views.cohort_detail, name="detail"),
    path("<int:cohort_id>/edit/", views.cohort_edit, name="edit"),
    path("<int:cohort_id>/report/", views.cohort_report_view, name="report"),
    path("<int:cohort_id>/members/", views.member_add, name="member_add"),
    path("<int:cohort_id>/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:cohort_id>/contacts/", views.contact_add, name="contact_add"),
    path("<int:cohort_id>/contacts/<int:link_id>/remove/", views.contact_remove, name="contact_remove"),
    path("<int:cohort_id>/activity/", views.activity_add, name="activity_add"),
    path("<int:cohort_id>/activity/import/", views.activity_import, name="activity_import"),
]
