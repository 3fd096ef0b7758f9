from django.urls import path

from tamarind.triage import views

app_name = "triage"
urlpatterns = [
    path("", views.triage_board, name="board"),
    path("settings/", views.triage_settings_edit, name="settings"),
    path("escalations/", views.escalations, name="escalations"),
    path("escalations/new/<int:account_id>/", views.escalation_open, name="escalation_open"),
    path("open/<int:account_id>/", views.case_open, name="open"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/move/", views.case_move, name="move"),
    path("<int:case_id>/owner/", views.case_owner, name="owner"),
    path("<int:case_id>/steps/", views.step_add, name="step_add"),
    path("<int:case_id>/steps/<int:step_id>/", views.step_toggle, name="step_toggle"),
    path("<int:case_id>/notes/", views.note_add, name="note_add"),
    path("<int:case_id>/escalations/", views.escalation_add, name="escalation_add"),
    path("escalations/<int:escalation_id>/", views.escalation_change, name="escalation_change"),
]
