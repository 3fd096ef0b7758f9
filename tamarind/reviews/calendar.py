"""Each person's calendar feed (RFC 5545, an ICS file at a secret address Google Calendar and Outlook subscribe to):
their reviews and 1:1s (as owner, as the TAM of a 1:1, as an attendee), the renewals of the accounts they own,
the time-to-value target dates of their open onboardings, and (once the success plans app is installed and wired by
``tamarind.success.review_hooks.calendar_events(user)``) their EBRs. Built with the ``icalendar`` library."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record
from tamarind.people.models import User
from tamarind.reviews.models import CalendarFeed, ReviewOccurrence, new_feed_token

# A meeting lasts an hour on the feed; the exact length is the meeting's own business.
MEETING = dt.timedelta(hours=1)
PAST = dt.timedelta(days=90)
MAX_EVENTS = 2000


def feed_for(user: User) -> CalendarFeed:
    """The person's feed, created on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_reset(*, actor: User, user: User, source: str = "web") -> CalendarFeed:
    """Give ``user`` a new secret address; the old one answers 404 from now on. Only the person themselves."""
    from django.core.exceptions import PermissionDenied

    if actor.pk != user.pk:
        raise PermissionDenied("Only the person resets their own calendar address.")
    feed = feed_for(user)
    feed.token = new_feed_token()
    feed.reset_at = timezone.now()
    feed.save(update_fields=["token", "reset_at"])
    # The token itself is a secret: the trail records that it changed, not its value.
    audit_record(
        actor=actor,
        obj=feed,
        action=AuditAction.UPDATE,
        before=None,
        after={"reset_at": feed.reset_at.isoformat()},
        source=source,
    )
    return feed


def _absolute(path: str) -> str:
    return settings.TAMARIND_BASE_URL.rstrip("/") + path


def _event(uid: str, summary: str, *, start: Any, end: Any = None, url: str = "", description: str = "") -> Event:
    ev = Event()
    ev.add("uid", f"{uid}@tamarind")
    ev.add("dtstamp", timezone.now())
    ev.add("summary", summary)
    ev.add("dtstart", start)
    if end is not None:
        ev.add("dtend", end)
    if url:
        ev.add("url", url)
    if description:
        ev.add("description", description)
    return ev


def build_feed(user: User, *, today: dt.date | None = None) -> bytes:
    today = today or timezone.localdate()
    cal = Calendar()
    cal.add("prodid", "-//Tamarind//Manager reviews//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Tamarind: {user.full_name}")
    reviews = (
        ReviewOccurrence.objects.filter(Q(owner=user) | Q(subject=user) | Q(attendees=user))
        .filter(due_on__gte=today - PAST)
        .select_related("region", "subject")
        .distinct()
        .order_by("due_on", "id")[:MAX_EVENTS]
    )
    for r in reviews:
        start = r.due_at.astimezone(dt.UTC)
        cal.add_component(
            _event(
                f"review-{r.pk}",
                str(r) if r.subject_id is None else f"1:1 with {r.subject}",
                start=start,
                end=start + MEETING,
                url=_absolute(reverse("reviews:detail", args=[r.pk])),
                description=f"{r.get_kind_display()} · {r.region.name} · {r.get_status_display()}",
            )
        )
    from tamarind.accounts.models import Account

    for pk, name, day in (
        Account.objects.filter(tam=user, next_renewal_date__gte=today)
        .order_by("next_renewal_date")
        .values_list("pk", "name", "next_renewal_date")[:MAX_EVENTS]
    ):
        if day is None:  # excluded by the filter; says so to the type checker
            continue
        cal.add_component(
            _event(
                f"renewal-{pk}-{day.isoformat()}",
                f"Renewal: {name}",
                start=day,
                end=day + dt.timedelta(days=1),
                url=_absolute(reverse("accounts:detail", args=[pk])),
            )
        )
    from tamarind.onboarding.models import Onboarding
    from tamarind.onboarding.selectors import onboarding_targets

    targets = onboarding_targets()
    milestones = (
        ("first_engagement", "onboarding_start", targets.engage_days, "first engagement"),
        ("first_value", "contract_start", targets.first_value_days, "first value"),
        ("onboarding_finish", "onboarding_start", targets.onboard_days, "onboarding finish"),
    )
    for ob in Onboarding.objects.open().filter(tam=user).select_related("account")[:MAX_EVENTS]:
        for end_field, start_field, days, label in milestones:
            start_day = getattr(ob, start_field)
            if start_day is None or getattr(ob, end_field) is not None:
                continue
            due = start_day + dt.timedelta(days=days)
            cal.add_component(
                _event(
                    f"onboarding-{ob.pk}-{end_field}",
                    f"Onboarding target: {label} for {ob.account.name}",
                    start=due,
                    end=due + dt.timedelta(days=1),
                    url=_absolute(reverse("onboarding:detail", args=[ob.pk])),
                )
            )
    if apps.is_installed("tamarind.success"):
        try:
            hooks = importlib.import_module("tamarind.success.review_hooks")
        except ModuleNotFoundError:
            hooks = None
        for ev in getattr(hooks, "calendar_events", lambda u: [])(user) if hooks else []:
            cal.add_component(ev)
    return cal.to_ical()
