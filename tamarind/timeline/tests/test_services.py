"""Logging timeline entries: policy, validation, audit, and the first engagement of the open onboarding."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.onboarding.models import Onboarding
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.timeline.models import TimelineEntry
from tamarind.timeline.services import timeline_entry_create

pytestmark = pytest.mark.django_db


def log(book, who="tam", **data):
    data.setdefault("kind", "call")
    return timeline_entry_create(actor=getattr(book, who), account=book.account, data=data)


def at(day, hour=10):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


@pytest.mark.parametrize("who", ["admin", "manager", "tam", "sal", "sa"])
def test_the_accounts_team_logs(book, who):
    entry = log(book, who, title="Weekly sync", notes="Talked SSO", external_attendees="Jane (CIO)")
    entry.refresh_from_db()
    assert entry.author == getattr(book, who) and entry.account == book.account
    assert (entry.kind, entry.title, entry.notes, entry.external_attendees) == (
        "call",
        "Weekly sync",
        "Talked SSO",
        "Jane (CIO)",
    )
    event = AuditEvent.objects.for_object("timeline.timelineentry", entry.pk).get()
    assert (
        event.action == "create" and event.after["title"] == "Weekly sync" and event.after["internal_attendees"] == []
    )


@pytest.mark.parametrize("who", ["director", "tam2", "other_manager", "other_tam"])
def test_others_may_not_log(book, who):
    with pytest.raises(PermissionDenied):
        log(book, who, title="x")
    assert not TimelineEntry.objects.exists()


def test_defaults_title_from_kind_and_time_to_now(book):
    entry = log(book, kind="email")
    assert entry.title == "Email"
    assert abs((timezone.now() - entry.occurred_at).total_seconds()) < 60


def test_internal_attendees_by_object_or_id(book):
    entry = log(book, internal_attendees=[book.sal, str(book.sa.pk), book.tam.pk])
    assert set(entry.internal_attendees.all()) == {book.sal, book.sa, book.tam}
    event = AuditEvent.objects.for_object("timeline.timelineentry", entry.pk).get()
    assert sorted(event.after["internal_attendees"]) == sorted([book.sal.pk, book.sa.pk, book.tam.pk])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "system"}, "kind"),
        ({"kind": "party"}, "kind"),
        ({"kind": None}, "kind"),
        ({"title": "x" * 201}, "title"),
        ({"title": 3}, "title"),
        ({"occurred_at": "next tuesday"}, "occurred_at"),
        ({"occurred_at": timezone.now() + dt.timedelta(days=2)}, "occurred_at"),
        ({"occurred_at": 12}, "occurred_at"),
        ({"internal_attendees": [999_999]}, "internal_attendees"),
        ({"internal_attendees": ["x"]}, "internal_attendees"),
        ({"internal_attendees": "3"}, "internal_attendees"),
        ({"internal_attendees": [2**70]}, "internal_attendees"),
        ({"author": 1}, "__all__"),
    ],
)
def test_bad_input_is_refused_by_field(book, data, field):
    with pytest.raises(ValidationFailed) as exc:
        log(book, **{"kind": "call", **data})
    assert field in exc.value.errors
    assert not TimelineEntry.objects.exists()


def test_inactive_people_cannot_attend(book):
    book.sa.is_active = False
    book.sa.save(update_fields=["is_active"])
    with pytest.raises(ValidationFailed):
        log(book, internal_attendees=[book.sa.pk])


def test_a_date_means_noon_and_naive_times_are_local(book):
    entry = log(book, occurred_at=dt.date(2025, 1, 22))
    assert timezone.localtime(entry.occurred_at).hour == 12
    entry = log(book, occurred_at="2025-01-22T09:30")
    assert timezone.is_aware(entry.occurred_at) and timezone.localtime(entry.occurred_at).minute == 30


# --- first engagement ---------------------------------------------------------------------------------------


@pytest.fixture
def onboarding(book):
    return OnboardingFactory(account=book.account, tam=book.tam, onboarding_start=dt.date(2025, 1, 20))


def first_engagement(onboarding):
    return Onboarding.objects.get(pk=onboarding.pk).first_engagement


def test_a_call_with_the_customer_sets_first_engagement(book, onboarding):
    log(book, "sal", kind="call", occurred_at=at(dt.date(2025, 1, 24)), external_attendees="Jane")
    saved = Onboarding.objects.get(pk=onboarding.pk)
    assert saved.first_engagement == dt.date(2025, 1, 24) and saved.status == "in_progress"


def test_a_meeting_on_the_start_day_counts(book, onboarding):
    log(book, kind="meeting", occurred_at=at(dt.date(2025, 1, 20), 9), external_attendees="Jane")
    assert first_engagement(onboarding) == dt.date(2025, 1, 20)


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "call", "external_attendees": ""},  # internal call, no customer attended
        {"kind": "meeting", "external_attendees": "  "},
        {"kind": "email", "external_attendees": "Jane"},
        {"kind": "note", "external_attendees": "Jane"},
    ],
)
def test_other_entries_do_not_count(book, onboarding, data):
    log(book, occurred_at=at(dt.date(2025, 1, 24)), **data)
    assert first_engagement(onboarding) is None


def test_a_call_before_the_purchase_does_not_count_one_before_the_onboarding_start_does(book, onboarding):
    log(book, occurred_at=at(dt.date(2025, 1, 14)), external_attendees="Jane")  # contract start: 2025-01-15
    assert first_engagement(onboarding) is None
    log(book, occurred_at=at(dt.date(2025, 1, 19)), external_attendees="Jane")  # engaged on day 0
    assert first_engagement(onboarding) == dt.date(2025, 1, 19)


def test_only_the_earliest_call_counts(book, onboarding):
    log(book, occurred_at=at(dt.date(2025, 2, 3)), external_attendees="Jane")
    log(book, occurred_at=at(dt.date(2025, 2, 10)), external_attendees="Jane")
    assert first_engagement(onboarding) == dt.date(2025, 2, 3)
    log(book, occurred_at=at(dt.date(2025, 1, 28)), external_attendees="Jane")  # logged late, happened earlier
    assert first_engagement(onboarding) == dt.date(2025, 1, 28)


def test_calls_on_completed_onboardings_change_nothing(book):
    from tamarind.onboarding.tests.factories import complete_values

    done = OnboardingFactory(account=book.account, tam=book.tam, status="completed", **complete_values())
    log(book, occurred_at=at(dt.date(2025, 1, 21)), external_attendees="Jane")
    assert first_engagement(done) == dt.date(2025, 1, 27)
