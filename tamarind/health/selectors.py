"""Reads of the health app: the live model, the scorer's inputs for a batch of accounts, the account page panel.

Inputs are gathered per chunk of accounts in a fixed number of raw SQL queries (accounts, newest sentiments, last
engagement, and the usage app's ``usage_facts`` over two months of rollups), never per account and never over raw
usage history, so a full recompute costs O(accounts). Raw SQL because the ORM's cost of building and quoting
thousand-id filters was most of a full recompute's time; a full run walks the book by id ranges instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.core.bulk import IdRange, date_reader, datetime_reader, id_filter
from tamarind.health.models import (
    HealthColor,
    HealthHistory,
    HealthModelVersion,
    HealthRun,
    HealthScore,
    Sentiment,
    breakdown_of,
)
from tamarind.health.scoring import HealthInputs, measure_text
from tamarind.health.spec import DEFAULT_DEFINITION, MEASURE_LABELS
from tamarind.people.models import Region, User
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
    # What the early-warning indicators read beside the scorer's inputs (stored with the score as columns).
    active_users_prev: int | None
    open_urgent: int
    tam_id: int | None
    sal_id: int | None
    sa_id: int | None
    manager_id: int | None


def _local_days() -> Any:
    """A converter of raw-SQL timestamps to local dates (dates, as PostgreSQL gives them here, pass), with the
    current time zone looked up once (``timezone.localdate`` looks it up per call: a tenth of a full run) and each
    distinct timestamp converted once (an ingest stamps thousands of accounts with the same moment)."""
    tz = timezone.get_current_timezone()
    aware = datetime_reader()
    seen: dict[Any, dt.date] = {}

    def convert(value: Any) -> dt.date | None:
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        day = seen.get(value)
        if day is None:
            if len(seen) > 10_000:
                seen.clear()
            day = seen[value] = aware(value).astimezone(tz).date()
        return day

    return convert


def gather_inputs(account_ids: Sequence[int] | IdRange) -> dict[int, AccountHealthInputs]:
    """The scorer's inputs for these accounts: a list of ids (at most a few thousand) or an ``IdRange`` (the full
    recompute walks the book by ranges). Six queries whatever the number of accounts or the length of history:
    accounts with their region's manager, newest sentiments, last call or meeting, and ``usage_facts`` (three, plus
    the metric definitions)."""
    q = connection.ops.quote_name
    account_t, region_t = q(Account._meta.db_table), q(Region._meta.db_table)
    sentiment_t, timeline_t = q(Sentiment._meta.db_table), q(TimelineEntry._meta.db_table)
    where_a, params_a = id_filter("a.id", account_ids)
    where, params = id_filter("account_id", account_ids)
    kinds = sorted(ENGAGEMENT_KINDS)
    # PostgreSQL turns the two timestamps into local dates itself (parsing 100,000s of timestamps in Python cost a
    # tenth of a full run); SQLite has no time zones, so there Python converts them (``_local_days``).
    set_day, set_params, last_day, last_params = "set_at", [], "MAX(occurred_at)", []
    if connection.vendor == "postgresql":
        zone = timezone.get_current_timezone_name()
        set_day, set_params = "(set_at AT TIME ZONE %s)::date", [zone]
        last_day, last_params = "(MAX(occurred_at) AT TIME ZONE %s)::date", [zone]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, a.name, a.priority, a.customer_since, a.tam_id, a.sal_id, a.sa_id, r.manager_id "  # noqa: S608
            f"FROM {account_t} a LEFT JOIN {region_t} r ON r.id = a.region_id WHERE {where_a} ORDER BY a.id",
            params_a,
        )
        accounts = cursor.fetchall()
        # The newest sentiment per account (a few per account a year; ties on time go to the later row).
        cursor.execute(
            f"SELECT account_id, color, day, requires_triage FROM ("  # noqa: S608
            f"SELECT account_id, color, {set_day} AS day, requires_triage, "
            f"ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY set_at DESC, id DESC) AS n "
            f"FROM {sentiment_t} WHERE {where}) newest WHERE n = 1",
            [*set_params, *params],
        )
        newest = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute(
            f"SELECT account_id, {last_day} FROM {timeline_t} "  # noqa: S608
            f"WHERE {where} AND kind IN ({', '.join(['%s'] * len(kinds))}) GROUP BY account_id",
            [*last_params, *params, *kinds],
        )
        engaged = dict(cursor.fetchall())
    facts = usage_facts(account_ids)
    to_date = date_reader()
    local_day = _local_days()
    out: dict[int, AccountHealthInputs] = {}
    for pk, name, priority, customer_since, tam_id, sal_id, sa_id, manager_id in accounts:
        sentiment = newest.get(pk)
        f = facts.get(pk)
        has_usage = f is not None and f.usage_updated_at is not None
        has_tickets = f is not None and f.tickets_updated_at is not None
        inputs = HealthInputs(
            priority=priority,
            contract_start=to_date(customer_since),
            sentiment=sentiment[0] if sentiment else None,
            sentiment_at=local_day(sentiment[1]) if sentiment else None,
            licenses=f.licenses if f is not None and has_usage else None,
            active_users=f.active_users if f is not None and has_usage else None,
            use_cases_adopted=f.use_cases_adopted if f is not None and has_usage else None,
            use_cases_total=f.use_cases_total if f is not None and has_usage else None,
            usage_updated_at=f.usage_updated_at if f is not None and has_usage else None,
            last_engagement=local_day(engaged.get(pk)),
            tickets_last_30d=f.tickets_last_30d if f is not None and has_tickets else None,
            open_urgent_tickets=f.open_urgent_tickets if f is not None and has_tickets else 0,
            tickets_updated_at=local_day(f.tickets_updated_at) if f is not None and has_tickets else None,
        )
        out[pk] = AccountHealthInputs(
            inputs=inputs,
            requires_triage=bool(sentiment and sentiment[2]),
            name=name,
            active_users_prev=f.active_users_prev if f is not None and has_usage else None,
            open_urgent=f.open_urgent_tickets if f is not None else 0,
            tam_id=tam_id,
            sal_id=sal_id,
            sa_id=sa_id,
            manager_id=manager_id,
        )
    return out


def recent_runs(*, limit: int = 15) -> list[HealthRun]:
    """The latest recomputes, full and incremental, newest first: what ran, how long it took, what it changed."""
    return list(HealthRun.objects.order_by("-started_at", "-id")[:limit])


def account_sentiments(*, account_id: int, limit: int = 10) -> list[Sentiment]:
    return list(Sentiment.objects.filter(account_id=account_id).select_related("set_by").newest_first()[:limit])


def account_history(*, account_id: int, days: int = HISTORY_DAYS) -> list[HealthHistory]:
    since = timezone.localdate() - dt.timedelta(days=days)
    return list(HealthHistory.objects.filter(account_id=account_id, day__gte=since).order_by("day"))


def account_score(*, account_id: int) -> HealthScore | None:
    """The account's score with its explanation (one query)."""
    return HealthScore.objects.select_related("explanation").filter(account_id=account_id).first()


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


def measure_value(m: dict[str, Any], *, today: dt.date) -> str:
    """A stored measure's input as shown on ``today``: rendered from its facts (the day counts move with the day;
    the stored breakdown does not), or the text a score stored before facts were kept says."""
    if "facts" in m:
        return measure_text(m["key"], m["facts"], today=today)
    return str(m.get("value", ""))


def stored_measures(health: HealthScore | None, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The stored breakdown's measures with their input as shown on ``today`` (``value``): what the API returns."""
    if health is None:
        return []
    today = today or timezone.localdate()
    return [{**m, "value": measure_value(m, today=today)} for m in breakdown_of(health).get("measures", [])]


def breakdown_rows(health: HealthScore | None, *, today: dt.date | None = None) -> list[BreakdownRow]:
    if health is None:
        return []
    today = today or timezone.localdate()
    rows = []
    for m in breakdown_of(health).get("measures", []):
        updated = m.get("updated_at")
        rows.append(
            BreakdownRow(
                key=m["key"],
                label=MEASURE_LABELS.get(m["key"], m["key"]),
                value=measure_value(m, today=today),
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
