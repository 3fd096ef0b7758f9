"""A pool with ``book.tam`` in it (managed by ``book.manager``) and pooled accounts for the stuck tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.servicedesk.models import Pool, PoolMember
from tamarind.stuck.models import StuckCase
from tamarind.testing.factories import AccountFactory


def pool_of(book: Any, name: str = "Stuck pool") -> Pool:
    pool = Pool.objects.create(name=name, manager=book.manager)
    PoolMember.objects.create(pool=pool, tam=book.tam)
    return pool


def pooled(book: Any, *, days_in: int = 40, **kwargs: Any) -> Account:
    """A pooled account of region east whose contract started ``days_in`` days ago (no activity, no first value:
    two rules fire from day 31)."""
    values: dict[str, Any] = {
        "region": book.east,
        "arr": Decimal("20000"),
        "engagement_model": "pooled",
        "customer_since": timezone.localdate() - dt.timedelta(days=days_in),
        "tam": None,
    }
    values.update(kwargs)
    return AccountFactory(**values)


def case_of(account: Account, pool: Pool, **kwargs: Any) -> StuckCase:
    reasons = [{"rule": "no-activity", "name": "No activity in 30 days", "kind": "no_activity", "why": "40 days"}]
    return StuckCase.objects.create(account=account, pool=pool, reasons=kwargs.pop("reasons", reasons), **kwargs)
