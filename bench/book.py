"""A whole account book at scale, seeded fast: what the page benchmarks (and anyone else) run against.

Not a benchmark itself (``bench/run.py`` runs the files named ``*_bench.py``). ``seed_book(n, seed=...)`` fills
a migrated, empty database:

- the people and the accounts of the demo (``tamarind.accounts.demo``: its plan of N accounts, with parents and
  children, segments, tiers, ARR, renewals, lifecycle stages, and its cast: a manager per region, TAMs by the
  capacity rule, SALs and SAs, owners assigned as the demo does), the people through the services, the accounts
  by COPY with what an import writes beside them (an audit event per account, a TAM assignment per TAM);
- each account's standing against the assignment rules (the domain's defaults), and an onboarding record for
  each TAM-managed customer of the last year (completed after a few weeks, the newest still open, some late,
  a few on hold or left without a TAM);
- what health is computed from: one or two TAM reviews for most TAM-managed accounts (some older than the
  staleness setting), two months of license and active-user rollups, support tickets (a few urgent and open),
  and calls and meetings on the timeline;
- then the product's own full health recompute (``health_recompute_all``) scores every account, writing the
  scores, their history and the consequences (notifications, stale-review tasks, triage proposals) as it does
  in production, so the scores are stored in whatever form the health app keeps them.

Everything but the people and the recompute goes in by COPY (``core.bulk.bulk_insert``), so 100,000 accounts take
a minute or two rather than the demo generator's hour.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CHUNK = 20_000


@dataclass
class Book:
    """What ``seed_book`` made, for the benchmarks to pick their users and accounts from."""

    accounts: int
    people: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    health_seconds: float = 0.0


def _plain(model: Any, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The columns COPY writes for ``model`` (an auto id left to the database unless given) and their defaults."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.get_internal_type().endswith("AutoField") and f.column not in values)
    ]
    return [f.column for f in fields], {**{f.column: f.get_default() for f in fields}, **values}


class _Rows:
    """Rows per table, collected for COPY."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[Any, list[str], list[tuple[Any, ...]]]] = {}

    def add(self, model: Any, **values: Any) -> None:
        columns, row = _plain(model, values)
        entry = self.tables.setdefault(model._meta.db_table, (model, columns, []))
        entry[2].append(tuple(row[c] for c in entry[1]))

    def write(self) -> dict[str, int]:
        from tamarind.core.bulk import bulk_insert

        counts = {}
        for table, (_model, columns, rows) in self.tables.items():
            for start in range(0, len(rows), CHUNK):
                bulk_insert(table, columns, rows[start : start + CHUNK])
            counts[table] = len(rows)
        return counts


def _lag(rng: random.Random, median: float, spread: float = 0.5) -> int:
    import math

    return max(0, round(rng.lognormvariate(math.log(median), spread)))


def seed_book(n: int, *, seed: int = 7, say: Callable[[str], None] = print) -> Book:
    """Fill the (migrated, empty) database with an N-account book; see the module docstring. Returns what it made."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from tamarind.accounts import demo
    from tamarind.accounts.models import Account, ProductTier, TamAssignment
    from tamarind.assignment.models import Qualification
    from tamarind.assignment.selectors import live_rules
    from tamarind.audit.models import AuditEvent
    from tamarind.health.models import Sentiment
    from tamarind.health.services import health_recompute_all
    from tamarind.onboarding.models import Onboarding, OnboardingStatus
    from tamarind.people.models import Region, User
    from tamarind.timeline.models import TimelineEntry
    from tamarind.usage import models as usage

    started = time.perf_counter()
    rng = random.Random(seed)
    today = timezone.localdate()
    now = timezone.now()

    plans = demo.plan_accounts(n, seed, today)
    cast = demo.cast_people(plans, seed, capacity=Decimal(settings.TAMARIND_TAM_CAPACITY_ARR))
    demo.assign_owners(plans, cast, seed)
    people = {u.email: u.pk for u in User.objects.only("pk", "email")}
    say(f"  people: {len(people):,} through the services ({time.perf_counter() - started:.1f} s)")

    regions = dict(Region.objects.values_list("name", "pk"))
    tiers = dict(ProductTier.objects.values_list("name", "pk"))
    labels = {
        "segment": {"SMB": "smb", "Mid-Market": "mid_market", "Enterprise": "enterprise"},
        "engagement": {
            "High touch": "high_touch",
            "Low touch": "low_touch",
            "Named": "named",
            "Pooled": "pooled",
            "Digital": "digital",
            "": "",
        },
        "lifecycle": {
            "Onboarding": "onboarding",
            "Adoption": "adoption",
            "Optimize and Grow": "optimize_grow",
            "Will Churn": "will_churn",
        },
    }
    ids = {p.crm_id: i for i, p in enumerate(plans, start=1)}
    version = live_rules().version
    metrics = dict(usage.UsageMetric.objects.filter(key__in=["active_users", "licenses"]).values_list("key", "pk"))
    latest = today.replace(day=1)
    previous = (latest - dt.timedelta(days=1)).replace(day=1)
    staleness = 90

    out = _Rows()
    admin_id = cast.admin.pk
    ticket = 0
    for pk, p in enumerate(plans, start=1):
        tam = people.get(p.tam) if p.tam else None
        account = {
            "id": pk,
            "crm_id": p.crm_id,
            "name": p.name,
            "parent_id": ids.get(p.parent) if p.parent else None,
            "region_id": regions[p.region],
            "segment": labels["segment"][p.segment],
            "arr": Decimal(p.arr),
            "currency": "USD",
            "product_tier_id": tiers[p.tier],
            "licenses": p.licenses,
            "priority": p.priority,
            "engagement_model": labels["engagement"][p.engagement],
            "tam_id": tam,
            "sal_id": people.get(p.sal) if p.sal else None,
            "sa_id": people.get(p.sa) if p.sa else None,
            "customer_since": p.customer_since,
            "next_renewal_date": p.renewal,
            "lifecycle_stage": labels["lifecycle"][p.lifecycle],
            "collaboration_url": p.collab,
            "created_at": now,
            "updated_at": now,
        }
        out.add(Account, **account)
        out.add(
            AuditEvent, at=now, actor_id=admin_id, actor_name="Casey Ops", request_id="", source="import",
            object_type="accounts.account", object_id=str(pk), object_repr=p.name[:200], action="create",
            before=None, after=json.dumps({k: str(v) for k, v in account.items() if v not in (None, "")}, default=str),
        )  # fmt: skip
        if tam is not None:
            out.add(
                TamAssignment, account_id=pk, from_tam_id=None, to_tam_id=tam, changed_by_id=admin_id, changed_at=now
            )
        qualified_at = dt.datetime.combine(p.customer_since, dt.time(9), tzinfo=dt.UTC) if p.qualifies else None
        out.add(
            Qualification, account_id=pk, qualifies=p.qualifies, rule_version=version, qualified_at=qualified_at,
            disengagement_flagged_at=None, evaluated_at=now,
        )  # fmt: skip
        age = (today - p.customer_since).days
        if p.qualifies and age <= 365 and (tam is not None or rng.random() < 0.1):
            _onboarding(out, Onboarding, OnboardingStatus, rng, pk=pk, tam=tam, since=p.customer_since, today=today)
        managed = tam is not None
        # Health inputs: reviews for most TAM-managed accounts, usage for most, tickets and calls.
        if managed and rng.random() < 0.9:
            color = rng.choices(["green", "yellow", "red"], [7, 2, 1])[0]
            for _ in range(rng.choice([1, 1, 2])):
                days_ago = rng.randint(0, staleness + 60)
                out.add(
                    Sentiment, account_id=pk, color=color, reason="Quarterly health review.", requires_triage=False,
                    set_by_id=tam, set_at=now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 600)),
                )  # fmt: skip
        if rng.random() < (0.9 if managed else 0.35):
            licenses = max(5, p.licenses)
            active = {previous: int(licenses * rng.uniform(0.2, 1.0))}
            active[latest] = max(0, active[previous] + rng.randint(-licenses // 10 - 1, licenses // 20 + 1))
            last_day = today
            for month in (previous, latest):
                last_day = month + dt.timedelta(days=min(today.day, 28) - 1 if month == latest else 27)
                for key, value in (("licenses", licenses), ("active_users", active[month])):
                    out.add(
                        usage.UsageMonthly, account_id=pk, month=month, metric_id=metrics[key], last_value=value,
                        last_day=last_day, max_value=value, days_reported=last_day.day, updated_at=now,
                    )  # fmt: skip
            opened = [
                now - dt.timedelta(days=rng.randint(0, 45), minutes=rng.randint(0, 600))
                for _ in range(rng.choice([0, 0, 0, 1, 2, 4]))
            ]
            for at in opened:
                ticket += 1
                closed = rng.random() < 0.7
                out.add(
                    usage.SupportTicket, account_id=pk, external_id=f"T{ticket:09d}", opened_at=at,
                    closed_at=at + dt.timedelta(hours=5) if closed else None,
                    priority="urgent" if rng.random() < 0.03 else "normal", status="closed" if closed else "open",
                    updated_at=now,
                )  # fmt: skip
            for month in sorted({at.date().replace(day=1) for at in opened}):
                count = sum(1 for at in opened if at.date().replace(day=1) == month)
                out.add(usage.TicketMonthly, account_id=pk, month=month, opened=count, urgent_opened=0, updated_at=now)
            out.add(
                usage.UsageState, account_id=pk, latest_month=latest, previous_month=previous, last_day=last_day,
                tickets_updated_at=now if opened else None,
            )  # fmt: skip
        if managed:
            for _ in range(rng.choice([1, 2, 3, 4])):
                out.add(
                    TimelineEntry, account_id=pk, kind=rng.choice(["call", "meeting"]), title="Cadence call",
                    occurred_at=now - dt.timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 600)),
                    author_id=tam, created_at=now,
                )  # fmt: skip
    planned = time.perf_counter()
    with transaction.atomic():
        rows = out.write()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in (Account._meta.db_table, Onboarding._meta.db_table):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")
    say(
        f"  {sum(rows.values()):,} rows by COPY in {time.perf_counter() - planned:.1f} s "
        f"(planned in {planned - started:.1f} s): "
        + ", ".join(f"{table} {count:,}" for table, count in sorted(rows.items()))
    )
    health_started = time.perf_counter()
    result = health_recompute_all(source="bench")
    health_seconds = time.perf_counter() - health_started
    say(f"  health recompute: {result.summary()} in {health_seconds:.1f} s")
    with connection.cursor() as cursor:
        # As autovacuum leaves a settled database: statistics, and the visibility map index-only scans rely on.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return Book(
        accounts=n,
        people=len(people),
        rows=rows,
        seconds=time.perf_counter() - started,
        health_seconds=health_seconds,
    )


def _onboarding(
    out: _Rows, model: Any, status: Any, rng: random.Random, *, pk: int, tam: int | None, since: dt.date, today: dt.date
) -> None:
    """An onboarding record as the demo's history makes them: milestones after their starts, none in the future;
    completed once the first cadence call and first value are in, else open (a few on hold)."""
    start = since + dt.timedelta(days=rng.randint(1, 6))
    milestones = {
        "handoff_done_on": start,
        "welcome_email_done_on": start + dt.timedelta(days=rng.randint(0, 3)),
        "kickoff_call_done_on": start + dt.timedelta(days=_lag(rng, 9)),
        "infrastructure_ready": start + dt.timedelta(days=_lag(rng, 12)),
        "first_value": since + dt.timedelta(days=_lag(rng, 24, 0.45)),
        "success_plan_done_on": start + dt.timedelta(days=_lag(rng, 25)),
        "cadence_call_done_on": start + dt.timedelta(days=_lag(rng, 36, 0.4)),
    }
    values: dict[str, Any] = {"contract_start": since, "onboarding_start": start if start <= today else None}
    values.update({k: v for k, v in milestones.items() if v <= today})
    if values.get("cadence_call_done_on") and values["cadence_call_done_on"] < values.get("first_value", today):
        values.pop("cadence_call_done_on")
    values["first_engagement"] = values.get("kickoff_call_done_on")
    finished = bool(
        tam and values.get("cadence_call_done_on") and values.get("first_value") and values.get("kickoff_call_done_on")
    )
    if finished:
        values.update(
            status=status.COMPLETED,
            onboarding_finish=values["cadence_call_done_on"],
            experience_score=rng.choice([5, 5, 4, 4, 4, 3, 2]),
            notes="Kickoff, handoff and first cadence call done; success plan drafted with the customer.",
        )
        values["infrastructure_ready"] = values.get("infrastructure_ready") or values["onboarding_finish"]
    elif rng.random() < 0.08:
        values.update(status=status.ON_HOLD, delay_reason="Customer reorganisation; waiting on a new owner.")
    else:
        values["status"] = status.IN_PROGRESS if values.get("first_engagement") else status.SCHEDULED
    now = dt.datetime.combine(today, dt.time(8), tzinfo=dt.UTC)
    out.add(model, id=len(out.tables.get(model._meta.db_table, (None, None, []))[2]) + 1, account_id=pk, tam_id=tam,
            created_at=now, updated_at=now, **values)  # fmt: skip
