"""The ICS feed parsed back by icalendar (RFC 5545), its reset, and the weekly manager digest."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from tamarind.health.models import HealthScore
from tamarind.onboarding.models import Onboarding
from tamarind.reviews import digest, services
from tamarind.reviews.calendar import feed_for
from tamarind.reviews.models import ReviewKind
from tamarind.reviews.tests.factories import occurrence
from tamarind.testing.factories import AccountFactory


def test_feed_parses_back_with_the_tams_one_on_ones_renewals_and_onboarding_targets(book, client):
    today = timezone.localdate()
    occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam, due_on=today + dt.timedelta(days=2))
    occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam2, due_on=today)  # not Tara's
    acct = AccountFactory(
        name="Renewing Co", region=book.east, tam=book.tam, next_renewal_date=today + dt.timedelta(days=30)
    )
    Onboarding.objects.create(account=acct, tam=book.tam, onboarding_start=today)
    feed = feed_for(book.tam)
    response = client.get(f"/reviews/calendar/{feed.token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    events = list(cal.walk("VEVENT"))
    summaries = {str(e["SUMMARY"]) for e in events}
    assert "1:1 with Tara Tam" in summaries and "1:1 with Theo Tam" not in summaries
    assert "Renewal: Renewing Co" in summaries
    assert "Onboarding target: first engagement for Renewing Co" in summaries
    for e in events:  # RFC 5545: every VEVENT has a UID and a DTSTAMP; UIDs are unique
        assert e.get("UID") and e.get("DTSTAMP") and e.get("DTSTART")
    assert len({str(e["UID"]) for e in events}) == len(events)
    meeting = next(e for e in events if str(e["SUMMARY"]) == "1:1 with Tara Tam")
    assert meeting.decoded("DTEND") - meeting.decoded("DTSTART") == dt.timedelta(hours=1)
    assert b"\r\n" in response.content  # CRLF line endings


def test_a_reset_address_is_refused_clearly_and_the_new_one_works(book, client_for, client):
    old = feed_for(book.manager).token
    signed_in = client_for(book.manager)
    assert signed_in.get("/reviews/calendar/").status_code == 200
    assert signed_in.post("/reviews/calendar/").status_code == 302
    gone = client.get(f"/reviews/calendar/{old}.ics")
    assert gone.status_code == 404 and "was reset" in gone.content.decode()
    assert client.get(f"/reviews/calendar/{feed_for(book.manager).token}.ics").status_code == 200
    assert client.get("/reviews/calendar/not-a-token.ics").status_code == 404


def test_weekly_digest_goes_to_managers_with_overdue_reviews_movement_and_new_risks(book):
    today = timezone.localdate()
    occurrence(book.east, due_on=today - dt.timedelta(days=3))
    HealthScore.objects.create(
        account=book.account, score=30, color="red", model_version=1, color_changed_at=timezone.now()
    )
    result = digest.weekly_digest_send(today=today)
    assert result == {"sent": 2, "failed": 0}
    east = next(m for m in mail.outbox if m.to == [book.manager.email])
    assert "1 overdue reviews, 1 new risks" in east.subject
    assert "Acme Corp turned red" in east.body and "Burn-down" in east.body
    west = next(m for m in mail.outbox if m.to == [book.other_manager.email])
    assert "0 overdue reviews, 0 new risks" in west.subject


def test_schedule_job_run_through_the_scheduler_records_a_run(book):
    from tamarind.scheduler.models import JobRun, JobRunStatus, PeriodicJob
    from tamarind.scheduler.services import periodic_job_run, periodic_job_run_now, periodic_jobs_sync

    periodic_jobs_sync()
    for key in ("reviews.schedule", "reviews.burndown_snapshot", "reviews.weekly_digest"):
        job = PeriodicJob.objects.get(key=key)
        run = periodic_job_run(run_id=periodic_job_run_now(actor=book.admin, job=job).pk)
        assert JobRun.objects.get(pk=run.pk).status == JobRunStatus.SUCCEEDED, run.error
    assert services.occurrences_schedule()["occurrences_created"] == 0
