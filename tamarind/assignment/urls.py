from django.urls import path

from tamarind.assignment import views

app_name = "assignment"
urlpatterns = [
    path("rules/", views.rules_view, name="rules"),
    path("rules/edit/", views.rules_edit, name="rules_edit"),
    path("rules/dry-run/", views.rules_dry_run, name="rules_dry_run"),
    path("rules/v<int:version>/", views.rule_version_view, name="rule_version"),
    path("staffing/", views.staffing, name="staffing"),
    path("staffing/<int:account_id>/assign/", views.staffing_assign, name="staffing_assign"),
]
