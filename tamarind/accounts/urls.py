from django.urls import path

from tamarind.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:account_id>/", views.account_detail, name="detail"),
    path("<int:account_id>/edit/", views.account_edit, name="edit"),
    path("<int:account_id>/tam/", views.account_set_tam, name="set_tam"),
]
