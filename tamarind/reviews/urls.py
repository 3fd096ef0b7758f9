from django.urls import path

from tamarind.reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.review_list, name="list"),
    path("my-week/", views.my_week, name="my_week"),
    path("schedules/", views.schedules, name="schedules"),
    path("dashboard/", views.regional_dashboard, name="dashboard"),
    path("burndown/", views.burndown, name="burndown"),
    path("figure/", views.figure, name="figure"),
    path("calendar/", views.calendar_settings, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("<int:review_id>/", views.review_detail, name="detail"),
    path("<int:review_id>/open/", views.review_open, name="open"),
    path("<int:review_id>/items/", views.item_add, name="item_add"),
    path("<int:review_id>/items/<int:item_id>/", views.item_decide, name="item_decide"),
    path("<int:review_id>/notes/", views.review_notes, name="notes"),
    path("<int:review_id>/attendees/", views.review_attendees, name="attendees"),
    path("<int:review_id>/complete/", views.review_complete, name="complete"),
]
