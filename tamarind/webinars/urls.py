from django.urls import path

from tamarind.webinars import views

app_name = "webinars"
urlpatterns = [
    path("", views.season, name="season"),
    path("sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:session_id>/", views.session_detail, name="session"),
    path("sessions/<int:session_id>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:session_id>/import/", views.session_import, name="session_import"),
    path("unmatched/<int:unmatched_id>/match/", views.unmatched_match, name="unmatched_match"),
]
