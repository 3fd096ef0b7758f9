"""The demo's two years of signal evidence (issue 15): each account gets a hidden risk; its outcome (a closed
renewal in the last two years: churned, contracted, renewed flat or expanded) is drawn from that risk, and the
indicators see the risk only partly and noisily: some fire before bad outcomes far more often (useful), some fire
whatever the risk (noise), the rest weakly. The indicator intervals are written as the daily record would have
written them; the health-color intervals are rebuilt from the health history by the real rebuild; the outcomes by
``outcomes_refresh`` from the renewals. Fast: bulk writes, no per-account queries."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.dashboards.indicators import INDICATORS
from tamarind.health.models import HealthHistory
from tamarind.renewals.models import Renewal, RenewalOutcome, RenewalStatus
from tamarind.signals import backtest, services
from tamarind.signals.models import BAD_KINDS, Outcome, RebuildState, SignalInterval

# How strongly each indicator sees the hidden risk: (base chance, extra chance per unit of risk) of firing in the
# months before the outcome. Indicators not named here (added later) see it weakly.
STRENGTH = {
    "no_call": (0.08, 0.75),
    "active_users_falling": (0.05, 0.6),
    "renewal_at_risk": (0.1, 0.55),
    "ticket_spike": (0.25, 0.0),
    "open_urgent": (0.2, 0.0),
}
WEAK = (0.12, 0.15)


def _color(score: int) -> str:
    return "green" if score >= 75 else "yellow" if score >= 50 else "red"


@transaction.atomic
def seed_signals_demo(*, seed: int = 7, today: dt.date | None = None) -> dict[str, int]:
    """Write the demo's signal history and outcomes; returns counts.

    1. Each account gets a hidden risk; accounts without a closed renewal get one in the last two years whose
       outcome is drawn from the risk. Accounts the renewals story already closed keep their outcome; their hidden
       risk is drawn to agree with it (the higher of two draws for churn or contraction, the lower otherwise).
    2. Monthly health-history points before the health story's first, scored around the risk (noisy).
    3. The indicators' intervals before each account's judged outcome, as strong as ``STRENGTH`` says, plus
       spells at any time that have nothing to do with the outcome.
    4. The health-color intervals rebuilt from the health history; the outcomes refreshed from the renewals."""
    rng = random.Random(seed * 104729 + 15)
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=730)
    yesterday = today - dt.timedelta(days=1)
    closed = set(Renewal.objects.filter(status=RenewalStatus.CLOSED).values_list("account_id", flat=True))
    taken = set(Renewal.objects.values_list("account_id", "renewal_date"))
    first_point = dict(
        HealthHistory.objects.values("account_id").annotate(first=Min("day")).values_list("account_id", "first")
    )
    accounts = list(Account.objects.order_by("pk").values_list("pk", "arr", "customer_since"))
    renewals: list[Renewal] = []
    points: list[HealthHistory] = []
    risks: dict[int, float] = {}
    now = timezone.now()
    for pk, arr, since in accounts:
        risk = rng.random()
        risks[pk] = risk
        first = max(start + dt.timedelta(days=120), since or start)
        if pk not in closed and first < yesterday and rng.random() < 0.8:
            on = first + dt.timedelta(days=rng.randrange(max(1, (yesterday - first).days)))
            if (pk, on) not in taken:
                bad = rng.random() < 0.08 + 0.5 * risk**1.5
                kind = (
                    rng.choice([RenewalOutcome.CHURNED, RenewalOutcome.CONTRACTED, RenewalOutcome.CONTRACTED])
                    if bad
                    else rng.choice([RenewalOutcome.RENEWED_FLAT, RenewalOutcome.RENEWED_FLAT, RenewalOutcome.EXPANDED])
                )
                factor = {"churned": "0", "contracted": "0.7", "renewed_flat": "1", "expanded": "1.2"}[kind]
                renewals.append(
                    Renewal(
                        account_id=pk,
                        renewal_date=on,
                        arr=arr,
                        new_arr=(arr * Decimal(factor)).quantize(Decimal("0.01")),
                        status=RenewalStatus.CLOSED,
                        outcome=kind,
                        closed_at=now,
                        notes="Demo: signal evidence",
                    )
                )
    Renewal.objects.bulk_create(renewals, batch_size=2000, ignore_conflicts=True)
    outcomes = services.outcomes_refresh()
    rows = Outcome.objects.values_list("account_id", "on", "kind").order_by()
    judged = {j.account_id: j for j in backtest.judge((a, on, k in BAD_KINDS) for a, on, k in rows)[0]}
    intervals: list[SignalInterval] = []
    mine = {r.account_id for r in renewals}
    since_of = {pk: since for pk, _, since in accounts}
    for pk, _, _ in accounts:
        j = judged.get(pk)
        risk = risks[pk]
        if j is not None and pk not in mine:  # the story's outcome: a risk that agrees with it
            pair = (rng.random(), rng.random())
            risk = max(pair) if j.bad else min(pair)
        # Monthly health points before the story's first one (scores seen through noise).
        stop = first_point.get(pk, today)
        day = max(start, since_of[pk] or start)
        while day < stop:
            score = max(0, min(100, round(rng.gauss(88 - 60 * risk, 14))))
            points.append(HealthHistory(account_id=pk, day=day, score=score, color=_color(score)))
            day += dt.timedelta(days=rng.randrange(25, 40))
        for key, _, _ in INDICATORS:
            base, per_risk = STRENGTH.get(key, WEAK)
            spells: list[tuple[dt.date, dt.date]] = []
            if j is not None and rng.random() < base + per_risk * risk:
                begin = j.on - dt.timedelta(days=rng.randrange(20, 300))
                spells.append((max(begin, start), j.on + dt.timedelta(days=rng.randrange(1, 60))))
            elif rng.random() < 0.1:  # a spell at any time, whatever happens later
                begin = start + dt.timedelta(days=rng.randrange(700))
                spells.append((begin, begin + dt.timedelta(days=rng.randrange(10, 120))))
            for begin, end in spells:
                intervals.append(
                    SignalInterval(account_id=pk, key=key, started_on=begin, ended_on=end if end <= yesterday else None)
                )
    HealthHistory.objects.bulk_create(points, batch_size=2000, ignore_conflicts=True)
    SignalInterval.objects.bulk_create(intervals, batch_size=2000, ignore_conflicts=True)
    state, _ = RebuildState.objects.get_or_create(pk=RebuildState.SINGLETON_PK)
    state.last_day = yesterday
    state.save(update_fields=["last_day"])
    rebuilt = services.signal_history_rebuild(start=start, end=yesterday)
    return {"intervals": len(intervals) + rebuilt.intervals, "outcomes": outcomes.written}
