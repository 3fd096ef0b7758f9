"""Reads of the account timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.people.models import User
from tamarind.timeline.models import ENGAGEMENT_KINDS, TimelineEntry, TimelineEntryQuerySet

PANEL_SIZE = 20


def timeline_entries(*, account: Account) -> TimelineEntryQuerySet:
    """The account's entries, newest first, authors and internal attendees loaded (two queries in all)."""
    return TimelineEntry.objects.filter(account=account).newest_first().with_people()


def attendee_choices(*, user: User, account: Account) -> list[User]:
    """People offered as internal attendees in the quick entry: the account's team and the person logging.

    Built from the account's already-loaded owners, so the panel costs no query for it.
    """
    people: dict[int, User] = {}
    for person in (user, account.tam, account.sal, account.sa):
        if person is not None and person.is_active:
            people.setdefault(person.pk, person)
    return sorted(people.values(), key=lambda p: p.full_name)


def account_panel(*, user: User, account: Account) -> dict[str, Any]:
    """The account page's timeline panel: the newest entries and whether the user may log one."""
    entries = list(timeline_entries(account=account)[: PANEL_SIZE + 1])
    can_log = policy.can_log_timeline(user, account)
    return {
        "timeline": entries[:PANEL_SIZE],
        "timeline_more": len(entries) > PANEL_SIZE,
        "timeline_can_log": can_log,
        "timeline_attendees": attendee_choices(user=user, account=account) if can_log else [],
    }


def first_engagements(since: dict[int, dt.date]) -> dict[int, dt.date]:
    """Account id -> the day of its earliest engagement (a call or meeting with customer attendees) on or after
    ``since[account id]`` (its onboarding's contract start, or start when the purchase date is unknown).

    One query per 5,000 accounts; only entries from the earliest of those days on are read.
    """
    found: dict[int, dt.date] = {}
    ids = sorted(since)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        earliest = min(since[pk] for pk in chunk)
        rows = (
            TimelineEntry.objects.filter(
                account_id__in=chunk,
                kind__in=ENGAGEMENT_KINDS,
                occurred_at__gte=dt.datetime.combine(earliest, dt.time.min, tzinfo=timezone.get_current_timezone()),
            )
            .exclude(external_attendees="")
            .values_list("account_id", "occurred_at")
        )
        for account_id, at in rows:
            day = timezone.localdate(at)
            if day >= since[account_id] and (account_id not in found or day < found[account_id]):
                found[account_id] = day
    return found
