"""The cohort report (issue 14): a cohort's members against similar non-members (``matching``) over the same
dates, the cohort's period: from its start to its end (or today, while it runs; never after today).

Figures, per account of each group:

- time to first value: days from contract start to first value (``onboarding.metrics.elapsed_days``) of the
  account's latest onboarding with both dates, first value reached by the period's end; accounts without one are
  not measured (the count says how many were);
- use cases adopted: how many distinct use-case usage metrics (``usage.UsageMetric`` of kind ``use_case``) had a
  value above 0 in any month of the period, over the accounts that reported any usage in the period;
- health: the current health score (``health.HealthScore``; scored accounts only): the share green, the mean
  score and the color mix. Health keeps today's score; for an ended cohort it is today's, not the end day's;
- support tickets: tickets opened within the period, per account (every account of the group; none: 0).

Each figure comes with its count and 95% interval, and the difference (members minus similar non-members) with
its 95% interval from ``engagement.stats``, which says plainly when it is within the noise. A fixed number of
queries whatever the sizes: the similar non-members are found in SQL (``similar_scope``, the rule of ``matching``
restated as a filter and held equal to it by the tests), and every figure's query takes each group as a subquery,
never as a list of thousands of ids to send and parse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.cohorts.matching import ARR_BANDS, AccountFacts, arr_band, band_label, cohort_window
from tamarind.cohorts.models import Cohort, CohortMember
from tamarind.engagement.stats import Difference, Estimate, difference, mean, share
from tamarind.health.models import HealthScore
from tamarind.onboarding.metrics import elapsed_days
from tamarind.onboarding.models import Onboarding
from tamarind.usage.models import MetricKind, SupportTicket, UsageMonthly


@dataclass(frozen=True)
class Figure:
    """One metric for both groups, and the difference members minus non-members."""

    key: str
    label: str
    kind: str  # "mean" or "share"
    members: Estimate
    others: Estimate
    diff: Difference


@dataclass
class CohortReport:
    cohort: Cohort
    period_start: dt.date
    period_end: dt.date
    member_ids: list[int]
    other_ids: list[int]
    window: tuple[dt.date, dt.date] | None
    strata: list[str]
    figures: list[Figure] = field(default_factory=list)
    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    mix: dict[str, dict[str, int]] = field(default_factory=dict)


def period(cohort: Cohort, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The cohort's dates: start to end, or to today while running; capped at today."""
    today = today or timezone.localdate()
    end = min(cohort.ends_on or today, today)
    return cohort.starts_on, max(end, cohort.starts_on)


def _facts(qs: Any) -> list[AccountFacts]:
    return [
        AccountFacts(pk, seg, arr, since)
        for pk, seg, arr, since in qs.values_list("pk", "segment", "arr", "customer_since")
    ]


def _first_value_days(scope: QuerySet[Any], end: dt.date) -> dict[int, float]:
    out: dict[int, float] = {}
    rows = (
        Onboarding.objects.filter(
            account_id__in=scope, contract_start__isnull=False, first_value__isnull=False, first_value__lte=end
        )
        .order_by("account_id", "contract_start", "pk")
        .values_list("account_id", "contract_start", "first_value")
    )
    for account_id, start, first in rows:  # the latest onboarding wins
        days = elapsed_days(start, first)
        if days is not None:
            out[account_id] = float(days)
    return out


def _use_cases(scope: QuerySet[Any], start: dt.date, end: dt.date) -> dict[int, float]:
    months = UsageMonthly.objects.filter(account_id__in=scope, month__gte=start.replace(day=1), month__lte=end)
    reporting = set(months.values_list("account_id", flat=True).distinct())
    counts = dict(
        months.filter(metric__kind=MetricKind.USE_CASE, max_value__gt=0)
        .values("account_id")
        .annotate(n=Count("metric_id", distinct=True))
        .values_list("account_id", "n")
    )
    return {a: float(counts.get(a, 0)) for a in reporting}


def _health(scope: QuerySet[Any]) -> dict[int, tuple[str, int]]:
    rows = HealthScore.objects.filter(account_id__in=scope, score__isnull=False).exclude(color="")
    return {a: (c, s or 0) for a, c, s in rows.values_list("account_id", "color", "score")}


def _tickets(scope: QuerySet[Any], start: dt.date, end: dt.date) -> dict[int, int]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return dict(
        SupportTicket.objects.filter(account_id__in=scope, opened_at__gte=lo, opened_at__lt=hi)
        .values("account_id")
        .annotate(n=Count("pk"))
        .values_list("account_id", "n")
    )


def _band() -> Case:
    """``matching.arr_band`` as SQL: the highest band whose lower bound the ARR reaches (below 5,000: band 0)."""
    whens = [When(arr__gte=low, then=Value(i)) for i, low in reversed(list(enumerate(ARR_BANDS))) if i > 0]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def similar_scope(members: list[AccountFacts]) -> QuerySet[Account]:
    """The accounts ``matching.similar_accounts`` finds for ``members`` among every account that is in no cohort,
    as one filter: same segment and ARR band as a member, ``customer_since`` inside the members' window."""
    window = cohort_window(members)
    strata = {(m.segment, arr_band(m.arr)) for m in members}
    if window is None or not strata:
        return Account.objects.none()
    match = Q()
    for segment, band in sorted(strata):
        match |= Q(segment=segment, band=band)
    return (
        Account.objects.annotate(band=_band())
        .filter(match, customer_since__gte=window[0], customer_since__lte=window[1])
        .exclude(pk__in=CohortMember.objects.values("account_id"))
    )


LABELS = {
    "first_value_days": ("Time to first value (days)", "mean"),
    "use_cases": ("Use cases adopted", "mean"),
    "health_green": ("Health: share green", "share"),
    "health_score": ("Health: mean score", "mean"),
    "tickets": ("Support tickets opened in the period, per account", "mean"),
}


def group_values(
    ids: list[int], scope: QuerySet[Any], start: dt.date, end: dt.date
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Each metric's per-account values for one group (accounts not measured are absent), and its color mix.
    ``scope`` is the group as a query of account ids (``ids`` in SQL), so no query carries the list."""
    fv = _first_value_days(scope, end)
    uc = _use_cases(scope, start, end)
    health = _health(scope)
    tickets = _tickets(scope, start, end)
    mix = {"green": 0, "yellow": 0, "red": 0, "unscored": 0}
    for a in ids:
        color = health.get(a, ("unscored", 0))[0]
        mix[color if color in mix else "unscored"] += 1
    values = {
        "first_value_days": [fv[a] for a in ids if a in fv],
        "use_cases": [uc[a] for a in ids if a in uc],
        "health_green": [1.0 if health[a][0] == "green" else 0.0 for a in ids if a in health],
        "health_score": [float(health[a][1]) for a in ids if a in health],
        "tickets": [float(tickets.get(a, 0)) for a in ids],
    }
    return values, mix


def _estimate(kind: str, values: list[float]) -> Estimate:
    return share(int(sum(values)), len(values)) if kind == "share" else mean(values)


def cohort_report(cohort: Cohort, *, today: dt.date | None = None) -> CohortReport:
    """Members (every account that joined by the period's end) against similar non-members."""
    start, end = period(cohort, today)
    member_scope = CohortMember.objects.filter(cohort=cohort, joined_on__lte=end).values("account_id")
    members = _facts(Account.objects.filter(pk__in=member_scope).order_by("pk"))
    window = cohort_window(members)
    other_scope = similar_scope(members)
    others = list(other_scope.order_by("pk").values_list("pk", flat=True))
    member_ids = [m.id for m in members]
    mv, mmix = group_values(member_ids, member_scope, start, end)
    ov, omix = group_values(others, other_scope.values("pk"), start, end)
    figures = []
    for key, (label, kind) in LABELS.items():
        figures.append(
            Figure(key, label, kind, _estimate(kind, mv[key]), _estimate(kind, ov[key]), difference(ov[key], mv[key]))
        )
    strata = sorted({f"{m.segment} · {band_label(arr_band(m.arr))}" for m in members})
    return CohortReport(
        cohort=cohort,
        period_start=start,
        period_end=end,
        member_ids=member_ids,
        other_ids=others,
        window=window,
        strata=strata,
        figures=figures,
        values={"members": mv, "others": ov},
        mix={"members": mmix, "others": omix},
    )
