from django.contrib import admin
from django.urls import include, path

from tamarind.core.api import api
from tamarind.journeys.urls import public_urlpatterns as journeys_public_urls
from tamarind.servicedesk.urls import link_urlpatterns as servicedesk_link_urls
from tamarind.surveys.urls import link_urlpatterns as survey_link_urls

urlpatterns = [
    path("", include("tamarind.core.urls")),
    path("accounts/", include("tamarind.accounts.urls")),
    path("people/", include("tamarind.people.urls")),
    path("imports/", include("tamarind.imports.urls")),
    path("audit/", include("tamarind.audit.urls")),
    path("assignment/", include("tamarind.assignment.urls")),
    path("tasks/", include("tamarind.actions.urls")),
    path("notifications/", include("tamarind.notifications.urls")),
    path("onboarding/", include("tamarind.onboarding.urls")),
    path("timeline/", include("tamarind.timeline.urls")),
    path("scheduler/", include("tamarind.scheduler.urls")),
    path("dashboards/", include("tamarind.dashboards.urls")),
    path("health/", include("tamarind.health.urls")),
    path("triage/", include("tamarind.triage.urls")),
    path("usage/", include("tamarind.usage.urls")),
    path("success/", include("tamarind.success.urls")),
    path("reviews/", include("tamarind.reviews.urls")),
    path("engagement/", include("tamarind.engagement.urls")),
    path("servicedesk/", include("tamarind.servicedesk.urls")),
    path("stuck/", include("tamarind.stuck.urls")),
    path("contacts/", include("tamarind.contacts.urls")),
    path("webinars/", include("tamarind.webinars.urls")),
    path("signals/", include("tamarind.signals.urls")),
    path("desk/", include((servicedesk_link_urls, "servicedesk"), namespace="desk")),
    path("journeys/", include("tamarind.journeys.urls")),
    path("j/", include((journeys_public_urls, "journeys_public"), namespace="journeys_public")),
    path("renewals/", include("tamarind.renewals.urls")),
    path("surveys/", include("tamarind.surveys.urls")),
    path("s/", include((survey_link_urls, "surveys"), namespace="survey_link")),
    path("cohorts/", include("tamarind.cohorts.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]

# The product's error pages (core/error.html, in the base layout with a way back and the request id).
handler403 = "tamarind.core.views.permission_denied"
handler404 = "tamarind.core.views.page_not_found"
handler500 = "tamarind.core.views.server_error"
