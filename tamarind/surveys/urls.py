from django.urls import path

from tamarind.surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.results, name="results"),
    path("accounts/<int:account_id>/invite/", views.invite, name="invite"),
    path("invitations/<int:invitation_id>/revoke/", views.revoke, name="revoke"),
]

# The contact's answer link lives apart, at /s/<token>/ (no sign-in).
link_urlpatterns = [path("<str:token>/", views.answer, name="answer")]
