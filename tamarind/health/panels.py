"""The health panel of the account page: what the template needs, for the account view and the htmx answer."""

from __future__ import annotations

from typing import Any

from tamarind.accounts.models import Account
from tamarind.health.forms import SentimentForm
from tamarind.health.selectors import account_panel
from tamarind.people.models import User


def account_health(*, user: User, account: Account, form: SentimentForm | None = None) -> dict[str, Any]:
    """Score, breakdown, drag, recent sentiments, history and the sentiment form: three queries."""
    context = account_panel(user=user, account=account)
    if context["health_can_set"]:
        context["sentiment_form"] = form or SentimentForm()
    return context
