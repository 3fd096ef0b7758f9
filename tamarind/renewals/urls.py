from django.urls import path

from tamarind.renewals import views

app_name = "renewals"
urlpatterns = [
    path("", views.review_page, name="review"),
    path("export.csv", views.review_export, name="review_export"),
    path("settings/", views.settings_edit, name="settings"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:review_id>/", views.review_detail, name="review_detail"),
    path("retention/", views.retention_page, name="retention"),
    path("retention/export.csv", views.retention_export, name="retention_export"),
    path("new/<int:account_id>/", views.renewal_create, name="create"),
    path("<int:renewal_id>/", views.renewal_detail, name="detail"),
    path("<int:renewal_id>/close/", views.renewal_close, name="close"),
    path("<int:renewal_id>/steps/", views.step_add, name="step_add"),
    path("<int:renewal_id>/steps/<int:step_id>/", views.step_toggle, name="step_toggle"),
]
