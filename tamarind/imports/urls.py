from django.urls import path

from tamarind.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_upload, name="upload"),
    path("<int:job_id>/", views.import_detail, name="detail"),
    path("<int:job_id>/apply/", views.import_apply, name="apply"),
    path("<int:job_id>/errors.csv", views.import_errors_csv, name="errors"),
    path("mappings/", views.mapping_list, name="mappings"),
    path("mappings/new/", views.mapping_create, name="mapping_create"),
    path("mappings/<int:mapping_id>/", views.mapping_edit, name="mapping_edit"),
    path("mappings/<int:mapping_id>/<slug:kind>/", views.mapping_kind_edit, name="mapping_kind"),
]
