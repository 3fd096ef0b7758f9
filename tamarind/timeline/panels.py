"""The timeline panel of the account page: what the template needs, for the account view and the htmx answer."""

from __future__ import annotations

from typing import Any

from tamarind.accounts.models import Account
from tamarind.people.models import User
from tamarind.timeline.forms import TimelineEntryForm
from tamarind.timeline.selectors import account_panel, attendee_choices


def account_timeline(*, user: User, account: Account, form: TimelineEntryForm | None = None) -> dict[str, Any]:
    """The newest entries and the quick-entry form (a fresh one unless ``form`` is given): two queries."""
    context = account_panel(user=user, account=account)
    if context["timeline_can_log"]:
        context["timeline_form"] = form or TimelineEntryForm(attendees=attendee_choices(user=user, account=account))
    return context
