"""The account page's panel: the signals that fired in the year before the account's outcome (two queries)."""

from __future__ import annotations

from typing import Any

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.people.models import User
from tamarind.signals.selectors import account_signals_before


def signals_panel(*, user: User, account: Account) -> dict[str, Any]:
    if not policy.can_view_signals(user):
        return {"signals_panel": None}
    return {"signals_panel": account_signals_before(account=account)}
