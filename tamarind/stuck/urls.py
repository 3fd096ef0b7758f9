from django.urls import path

from tamarind.stuck import views

app_name = "stuck"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("rules/", views.rules_page, name="rules"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("<int:case_id>/", views.case, name="case"),
    path("<int:case_id>/claim/", views.claim, name="claim"),
]
