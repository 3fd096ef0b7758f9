from django.urls import path

from tamarind.contacts import views

app_name = "contacts"
urlpatterns = [
    path("missing-admin/", views.missing_admin, name="missing_admin"),
    path("account/<int:account_id>/new/", views.contact_new, name="new"),
    path("<int:contact_id>/edit/", views.contact_edit, name="edit"),
    path("<int:contact_id>/delete/", views.contact_delete, name="delete"),
]
