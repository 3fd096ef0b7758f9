"""The renewals demo (called by ``tamarind demo`` after the book and its health story are loaded).

The importer has already given every account its upcoming renewal (its next renewal date, spread over the next
18 months: every quarter of the review page). Here:

- each open renewal gets a forecast that follows its account's health (green: commit or likely; yellow: likely or
  at risk; red: at risk or will churn) with a reason, and about half of the next two quarters' renewals a next step
  (a few past due); some forecasts moved recently, so the review page has changes to show;
- two years of monthly ARR history, so retention reads like a real book: about half the accounts flat, about 30%
  expanded at their last renewal (by 15-90%), about one in eight contracted, about one in twenty churned (their ARR is now
  0, and their last renewal closed as churned with its reason), and customers who joined in the last year appear
  only from their start (listed as new). Gross retention lands in the high 80s to low 90s, net above 100%;
- the last year's renewals closed with their outcome and reason, and renewal reviews held in most regions (one
  region is overdue).

Written in bulk (a few queries per thousand rows) with audit events under the source "demo". Deterministic per
seed; relative to today.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record_many, build_event
from tamarind.core.bulk import insert_instances
from tamarind.people.models import Region, User
from tamarind.renewals.models import (
    ArrSnapshot,
    Forecast,
    OutcomeReason,
    Renewal,
    RenewalOutcome,
    RenewalReview,
    RenewalStatus,
    RenewalStep,
    SnapshotSource,
    month_index,
)
from tamarind.renewals.quarters import add_months, month_start

HISTORY_MONTHS = 24
CENT = Decimal("0.01")
REASONS_BY_COLOR = {
    "green": ["Strong adoption, sponsor confirmed budget", "Usage growing; expansion discussed"],
    "yellow": ["Adoption behind plan", "New sponsor since the last renewal", "Budget review pending"],
    "red": ["Evaluating a competitor", "Sponsor left; no replacement yet", "Outages hurt the relationship"],
    "": ["Not reviewed yet"],
}
STEPS = [
    "Send the renewal quote",
    "Executive sponsor call",
    "Confirm seat count with procurement",
    "Prepare the value review",
    "Agree the success plan for next year",
]


@dataclass
class RenewalsDemoResult:
    renewals: int = 0
    closed: int = 0
    snapshots: int = 0
    churned: int = 0
    reviews: int = 0

    def summary(self) -> str:
        return (
            f"{self.renewals} open renewals, {self.closed} closed in the last year ({self.churned} churned), "
            f"{self.snapshots} monthly ARR snapshots, {self.reviews} renewal reviews"
        )


def _forecast(rng: random.Random, color: str) -> str:
    if color == "red":
        return rng.choice([Forecast.AT_RISK, Forecast.AT_RISK, Forecast.WILL_CHURN])
    if color == "yellow":
        return rng.choice([Forecast.LIKELY, Forecast.LIKELY, Forecast.AT_RISK])
    if color == "green":
        return rng.choice([Forecast.COMMIT, Forecast.COMMIT, Forecast.LIKELY])
    return rng.choice([Forecast.COMMIT, Forecast.LIKELY, Forecast.LIKELY, Forecast.AT_RISK])


@transaction.atomic
def seed_renewals(*, seed: int = 7, actor: User | None = None) -> RenewalsDemoResult:
    """Load the renewals story (see the module docstring)."""
    rng = random.Random(seed * 7919 + 11)
    today = timezone.localdate()
    now = timezone.now()
    out = RenewalsDemoResult()
    events: list[AuditEvent] = []
    colors = dict(Account.objects.filter(health__isnull=False).values_list("pk", "health__color"))
    accounts = list(
        Account.objects.order_by("pk").only(
            "pk", "arr", "customer_since", "next_renewal_date", "tam_id", "sal_id", "region_id", "created_at"
        )
    )
    # 1. Forecasts and next steps on the open renewals.
    soon = add_months(today, 6)
    open_rows = list(Renewal.objects.open().order_by("pk"))
    steps: list[RenewalStep] = []
    for r in open_rows:
        color = colors.get(r.account_id, "")
        r.forecast = _forecast(rng, color)
        r.forecast_reason = rng.choice(REASONS_BY_COLOR.get(color, REASONS_BY_COLOR[""]))
        if rng.random() < 0.15:
            r.previous_forecast = rng.choice([f for f in Forecast.values if f != r.forecast])
            r.forecast_changed_at = now - dt.timedelta(days=rng.randint(1, 20))
        if r.renewal_date <= soon and rng.random() < 0.55:
            due = today + dt.timedelta(days=rng.randint(-10, 40))
            steps.append(RenewalStep(renewal=r, text=rng.choice(STEPS), due_on=due, created_by=actor, created_at=now))
    Renewal.objects.bulk_update(
        open_rows, ["forecast", "forecast_reason", "previous_forecast", "forecast_changed_at"], batch_size=2000
    )
    RenewalStep.objects.bulk_create(steps, batch_size=2000)
    events.extend(
        build_event(
            actor=actor,
            obj=r,
            action=AuditAction.UPDATE,
            before=None,
            after={"forecast": r.forecast, "forecast_reason": r.forecast_reason},
            source="demo",
            at=now,
        )
        for r in open_rows
    )
    out.renewals = len(open_rows)

    # 2. Two years of ARR history and the last year's closed renewals.
    last = month_start(add_months(month_start(today), -1))  # the month that just ended
    months = [add_months(last, -i) for i in range(HISTORY_MONTHS - 1, -1, -1)]
    window_start = add_months(last, -12)
    snapshots: list[ArrSnapshot] = []
    closed: list[Renewal] = []
    churned_ids: list[int] = []
    for a in accounts:
        if a.arr <= 0:
            continue
        started = month_start(a.customer_since) if a.customer_since else months[0]
        roll = rng.random()
        change_month = add_months(window_start, rng.randint(1, 11))
        b = a.arr
        if roll < 0.05:
            story, before_arr, after_arr = "churned", b, Decimal(0)
        elif roll < 0.17:
            before_arr = (b / Decimal(str(1 - rng.uniform(0.1, 0.45)))).quantize(CENT)
            story, after_arr = "contracted", b
        elif roll < 0.47:
            before_arr = (b / Decimal(str(1 + rng.uniform(0.15, 0.9)))).quantize(CENT)
            story, after_arr = "expanded", b
        else:
            story, before_arr, after_arr = "flat", b, b
        if started > window_start:
            story = "new"  # joined during the window: its history starts when it did
        for m in months:
            if m < started:
                continue
            value = after_arr if (story != "new" and m >= change_month) else before_arr
            if story == "new":
                value = b
            snapshots.append(
                ArrSnapshot(
                    account_id=a.pk,
                    month=m,
                    month_index=month_index(m.year, m.month),
                    arr=value,
                    source=SnapshotSource.DEMO,
                    taken_at=now,
                )
            )
        if story in ("churned", "contracted", "expanded", "flat") and started <= window_start:
            outcome, reason = {
                "churned": (RenewalOutcome.CHURNED, rng.choice([OutcomeReason.CANCELLATION, OutcomeReason.DOWNGRADE])),
                "contracted": (RenewalOutcome.CONTRACTED, OutcomeReason.DOWNGRADE),
                "expanded": (
                    RenewalOutcome.EXPANDED,
                    rng.choice(
                        [
                            OutcomeReason.SEAT_EXPANSION,
                            OutcomeReason.PRODUCT_CHANGE,
                            OutcomeReason.PRODUCT_SEAT_MIX,
                            OutcomeReason.PRICE_CHANGE,
                        ]
                    ),
                ),
                "flat": (RenewalOutcome.RENEWED_FLAT, ""),
            }[story]
            day = change_month.replace(day=min(28, (a.pk % 27) + 1))
            closed.append(
                Renewal(
                    account_id=a.pk,
                    renewal_date=day,
                    arr=before_arr,
                    currency="USD",
                    owner_id=a.sal_id,
                    tam_id=a.tam_id,
                    forecast=Forecast.WILL_CHURN if story == "churned" else Forecast.COMMIT,
                    status=RenewalStatus.CLOSED,
                    outcome=outcome,
                    new_arr=after_arr,
                    outcome_reason=reason,
                    closed_at=now - dt.timedelta(days=(today - day).days),
                    task_raised_on=day,
                    review_task_raised_on=day,
                    created_at=now,
                    updated_at=now,
                )
            )
            if story == "churned":
                churned_ids.append(a.pk)
    insert_instances(snapshots)
    insert_instances(closed, ignore_conflicts=True)
    out.snapshots = len(snapshots)
    out.closed = len(closed)
    # A churned customer's ARR is 0 now and it has no renewal ahead.
    if churned_ids:
        churned = list(Account.objects.filter(pk__in=churned_ids).only("pk", "name", "arr", "next_renewal_date"))
        for a in churned:
            events.append(
                build_event(
                    actor=actor,
                    obj=a,
                    action=AuditAction.UPDATE,
                    before={"arr": str(a.arr), "next_renewal_date": str(a.next_renewal_date or "")},
                    after={"arr": "0.00", "next_renewal_date": None},
                    source="demo",
                    at=now,
                )
            )
        Account.objects.filter(pk__in=churned_ids).update(arr=0, next_renewal_date=None, updated_at=now)
        Renewal.objects.open().filter(account_id__in=churned_ids).delete()
        out.churned = len(churned_ids)
        out.renewals -= len(churned_ids)

    # 3. Renewal reviews: most regions on cadence, the last one overdue.
    regions = list(Region.objects.filter(manager__isnull=False).select_related("manager").order_by("name"))
    for i, region in enumerate(regions):
        held = [today - dt.timedelta(days=d) for d in ((5, 19) if i < len(regions) - 1 else (24, 40))]
        for day in held:
            review = RenewalReview.objects.create(
                region=region,
                held_on=day,
                notes="Walked the quarter's renewals, the at-risk ones first; next steps agreed.",
                recorded_by=region.manager,
                created_at=now,
            )
            tams = list(User.objects.filter(region=region, role="tam")[:4])
            review.attendees.set([p for p in (region.manager, *tams) if p is not None])
            out.reviews += 1
            events.append(
                build_event(
                    actor=region.manager,
                    obj=review,
                    action=AuditAction.CREATE,
                    before=None,
                    after={"region": region.pk, "held_on": day.isoformat()},
                    source="demo",
                    at=now,
                )
            )
    audit_record_many(events)
    return out
