"""Reads of the health app: the live model, the scorer's inputs for a batch of accounts, the account page panel.

Inputs are gathered per chunk of accounts in a fixed number of queries (accounts, newest sentiments, last
engagement, and the usage app's ``usage_facts`` over its monthly rollups), never per account and never over raw
usage history, so a full recompute costs O(accounts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.health.models import HealthColor, HealthHistory, HealthModelVersion, HealthScore, Sentiment
from tamarind.health.scoring import HealthInputs
from tamarind.health.spec import DEFAULT_DEFINITION, MEASURE_LABELS
from tamarind.people.models import User
from tamarind.timeline.models import ENGAGEMENT_KINDS, TimelineEntry
from tamarind.usage.selectors import usage_facts

HISTORY_DAYS = 365


def live_version() -> HealthModelVersion:
    """The model in force. Seeded by a migration; an empty table (a flushed test database) gets version 1 back."""
    version = HealthModelVersion.objects.live()
    if version is None:
        version, _ = HealthModelVersion.objects.get_or_create(
            version=1, defaults={"definition": DEFAULT_DEFINITION, "note": "Default model (domain section 6)."}
        )
    return version


@dataclass(frozen=True)
class AccountHealthInputs:
    """One account's scorer inputs plus what the consequences of a change need (who to tell, triage)."""

    inputs: HealthInputs
    requires_triage: bool
    name: str
    tam_id: int | None
    sal_id: int | None
    sa_id: int | None
    manager_id: int | None


def _day(value: dt.datetime | dt.date | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    return value


def gather_inputs(account_ids: Sequence[int]) -> dict[int, AccountHealthInputs]:
    """The scorer's inputs for these accounts (one chunk: callers pass at most a few thousand ids)."""
    ids = list(account_ids)
    accounts = list(
        Account.objects.filter(pk__in=ids).values_list(
            "pk", "name", "priority", "customer_since", "tam_id", "sal_id", "sa_id", "region__manager_id"
        )
    )
    newest: dict[int, tuple[str, dt.datetime, bool]] = {}
    # Sentiments are a few per account a year: reading them newest first and keeping the first is cheap.
    for account_id, color, set_at, triage in (
        Sentiment.objects.filter(account_id__in=ids)
        .order_by("account_id", "-set_at", "-id")
        .values_list("account_id", "color", "set_at", "requires_triage")
    ):
        newest.setdefault(account_id, (color, set_at, triage))
    engaged = dict(
        TimelineEntry.objects.filter(account_id__in=ids, kind__in=ENGAGEMENT_KINDS)
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .order_by()
        .values_list("account_id", "last")
    )
    facts = usage_facts(ids)
    out: dict[int, AccountHealthInputs] = {}
    for pk, name, priority, customer_since, tam_id, sal_id, sa_id, manager_id in accounts:
        sentiment = newest.get(pk)
        f: Any = facts.get(pk)
        has_usage = f is not None and f.usage_updated_at is not None
        has_tickets = f is not None and f.tickets_updated_at is not None
        inputs = HealthInputs(
            priority=priority,
            contract_start=customer_since,
            sentiment=sentiment[0] if sentiment else None,
            sentiment_at=_day(sentiment[1]) if sentiment else None,
            licenses=f.licenses if has_usage else None,
            active_users=f.active_users if has_usage else None,
            use_cases_adopted=f.use_cases_adopted if has_usage else None,
            use_cases_total=f.use_cases_total if has_usage else None,
            usage_updated_at=_day(f.usage_updated_at) if has_usage else None,
            last_engagement=_day(engaged.get(pk)),
            tickets_last_30d=f.tickets_last_30d if has_tickets else None,
            open_urgent_tickets=f.open_urgent_tickets if has_tickets else 0,
            tickets_updated_at=_day(f.tickets_updated_at) if has_tickets else None,
        )
        out[pk] = AccountHealthInputs(
            inputs=inputs,
            requires_triage=bool(sentiment and sentiment[2]),
            name=name,
            tam_id=tam_id,
            sal_id=sal_id,
            sa_id=sa_id,
            manager_id=manager_id,
        )
    return out


def account_sentiments(*, account_id: int, limit: int = 10) -> list[Sentiment]:
    return list(Sentiment.objects.filter(account_id=account_id).select_related("set_by").newest_first()[:limit])


def account_history(*, account_id: int, days: int = HISTORY_DAYS) -> list[HealthHistory]:
    since = timezone.localdate() - dt.timedelta(days=days)
    return list(HealthHistory.objects.filter(account_id=account_id, day__gte=since).order_by("day"))


def account_score(*, account_id: int) -> HealthScore | None:
    return HealthScore.objects.filter(account_id=account_id).first()


@dataclass(frozen=True)
class BreakdownRow:
    """One row of the breakdown table, from the stored JSON."""

    key: str
    label: str
    value: str
    band: str | None
    weight: str
    effective_weight: str
    contribution: str
    updated_at: dt.date | None


def breakdown_rows(health: HealthScore | None) -> list[BreakdownRow]:
    if health is None:
        return []
    rows = []
    for m in health.breakdown.get("measures", []):
        updated = m.get("updated_at")
        rows.append(
            BreakdownRow(
                key=m["key"],
                label=MEASURE_LABELS.get(m["key"], m["key"]),
                value=m.get("value", ""),
                band=m.get("band"),
                weight=m.get("weight", "0"),
                effective_weight=m.get("effective_weight", "0"),
                contribution=m.get("contribution", "0"),
                updated_at=dt.date.fromisoformat(updated) if updated else None,
            )
        )
    return rows


def account_panel(*, user: User, account: Account) -> dict[str, Any]:
    """The account page's health panel: three queries (score, recent sentiments, history), whatever the data."""
    health = account_score(account_id=account.pk)
    rows = breakdown_rows(health)
    history = account_history(account_id=account.pk)
    drag = next((r for r in rows if health is not None and r.key == health.drag), None)
    return {
        "health": health,
        "health_rows": rows,
        "health_drag": drag,
        "health_sentiments": account_sentiments(account_id=account.pk, limit=3),
        "health_can_set": policy.can_set_sentiment(user, account),
        "health_colors": HealthColor.choices,
        "health_chart": {
            "labels": [h.day.isoformat() for h in history],
            "scores": [h.score for h in history],
            "colors": [h.color for h in history],
        },
    }
