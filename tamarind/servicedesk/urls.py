from django.urls import path

from tamarind.servicedesk import views

app_name = "servicedesk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("pools/", views.pools, name="pools"),
    path("pools/new/", views.pool_edit, name="pool_new"),
    path("pools/<int:pool_id>/", views.pool_edit, name="pool"),
    path("pools/<int:pool_id>/members/", views.pool_members, name="pool_members"),
    path("unmatched/", views.unmatched, name="unmatched"),
    path("accounts/<int:account_id>/", views.account_desk, name="account"),
    path("<int:request_id>/", views.detail, name="detail"),
]

# The customer's request link lives apart, at /desk/<token>/ (no sign-in).
link_urlpatterns = [path("<str:token>/", views.link, name="link")]
