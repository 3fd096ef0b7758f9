from django.urls import path

from tamarind.journeys import views

app_name = "journeys"
urlpatterns = [
    path("", views.programs, name="programs"),
    path("new/", views.program_new, name="program_new"),
    path("<int:program_id>/", views.program, name="program"),
    path("<int:program_id>/edit/", views.program_edit, name="program_edit"),
    path("<int:program_id>/steps/new/", views.step_new, name="step_new"),
    path("<int:program_id>/status/", views.program_status, name="program_status"),
    path("steps/<int:step_id>/", views.step_edit, name="step_edit"),
    path("steps/<int:step_id>/delete/", views.step_delete, name="step_delete"),
]

# A send's public links live apart, under /j/ (no sign-in; the token is the credential).
public_urlpatterns = [
    path("o/<str:token>.gif", views.open_pixel, name="open"),
    path("c/<str:token>/", views.click, name="click"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("r/<str:token>/", views.register, name="register"),
]
