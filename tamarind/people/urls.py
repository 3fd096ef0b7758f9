from django.urls import path

from tamarind.people import views

app_name = "people"
urlpatterns = [
    path("", views.people_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("<int:person_id>/", views.person_detail, name="detail"),
    path("<int:person_id>/edit/", views.person_edit, name="edit"),
    path("regions/", views.region_list, name="regions"),
    path("regions/new/", views.region_create, name="region_create"),
    path("regions/<int:region_id>/", views.region_detail, name="region_detail"),
    path("regions/<int:region_id>/edit/", views.region_edit, name="region_edit"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
