from django.urls import path

from tamarind.servicedesk import views

app_name = "servicedesk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("pools/", views.pools, name="pools"),
    path("unmatched/", views.unmatched, name="unmatched"),
    path("accounts/<int:account_id>/", views.account_desk, name="account"),
    path("<int:request_id>/", views.detail, name="detail"),
]

# The customer's request link lives apart, at /desk/<token>/ (no sign-in).
link_urlpatterns = [path("<str:token>/", views.link, name="link")]
