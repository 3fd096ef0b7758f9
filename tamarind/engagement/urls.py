from django.urls import path

from tamarind.engagement import views

app_name = "engagement"
urlpatterns = [
    path("", views.model_list, name="models"),
    path("models/new/", views.model_edit, name="model_new"),
    path("models/<slug:key>/", views.model_edit, name="model_edit"),
    path("accounts/<int:account_id>/", views.account_placement, name="account"),
    path("capacity/", views.capacity, name="capacity"),
    path("whatif/", views.whatif, name="whatif"),
    path("iterations/", views.iteration_list, name="iterations"),
    path("compare/", views.comparison, name="compare"),
]
