"""The review settings and schedules in Django's admin: admins only, saved through the audited services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.reviews import services
from tamarind.reviews.models import ReviewSchedule, ReviewSettings
from tamarind.reviews.selectors import review_settings


def test_admin_edits_the_settings_through_the_audited_service(book, client_for):
    client = client_for(book.admin)
    assert client.get("/django-admin/reviews/reviewsettings/add/").status_code == 200
    data = {
        "capacity_arr": "3000000",
        "p1_share_target": "0.4",
        "p1_call_days": "30",
        "p2_call_days": "60",
        "sentiment_days": "90",
        "ebr_months": "12",
        "at_risk_update_days": "35",
        "renewal_window_days": "90",
        "schedule_horizon_days": "14",
    }
    assert client.post("/django-admin/reviews/reviewsettings/add/", data).status_code == 302
    assert review_settings().capacity_arr == Decimal("3000000")
    assert AuditEvent.objects.filter(object_type="reviews.reviewsettings").count() == 1
    assert client_for(book.manager).get("/django-admin/reviews/reviewsettings/").status_code in (302, 403)


def test_settings_service_refuses_bad_values_and_non_admins(book):
    with pytest.raises(ValidationFailed):
        services.review_settings_update(actor=book.admin, changes={"p1_share_target": "2"})
    with pytest.raises(ValidationFailed):
        services.review_settings_update(actor=book.admin, changes={"p1_call_days": 0})
    with pytest.raises(PermissionDenied):
        services.review_settings_update(actor=book.manager, changes={"p1_call_days": 20})
    services.review_settings_update(actor=book.admin, changes={"p1_call_days": 20})
    assert ReviewSettings.objects.get().p1_call_days == 20


def test_admin_changes_a_schedule_cadence(book, client_for):
    services.review_schedules_ensure()
    schedule = ReviewSchedule.objects.get(region=book.east, kind="renewal")
    client = client_for(book.admin)
    url = f"/django-admin/reviews/reviewschedule/{schedule.pk}/change/"
    assert client.get(url).status_code == 200
    data = {
        "cadence": "weekly",
        "owner": "",
        "starts_on": schedule.starts_on.isoformat(),
        "meeting_time": "09:30",
        "time_zone": "Europe/Paris",
        "enabled": "on",
    }
    refused = client.post(url, {**data, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 200 and "Unknown time zone" in refused.content.decode()
    assert client.post(url, data).status_code == 302
    schedule.refresh_from_db()
    assert (schedule.cadence, schedule.time_zone) == ("weekly", "Europe/Paris")
    assert AuditEvent.objects.filter(object_type="reviews.reviewschedule").exists()
