from django.contrib import admin
from django.urls import include, path

from tamarind.core.api import api

urlpatterns = [
    path("", include("tamarind.core.urls")),
    path("accounts/", include("tamarind.accounts.urls")),
    path("people/", include("tamarind.people.urls")),
    path("imports/", include("tamarind.imports.urls")),
    path("audit/", include("tamarind.audit.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
