"""The burn-down list of exceptions (domain section 12): each exception is a filter on accounts, onboardings or
triage cases, evaluated by the same function for the counts, the lists behind them and the daily count rows, so
the figures always equal the lists.

Thresholds are data: the onboarding targets (``onboarding.OnboardingTargets``) for the three onboarding
exceptions, ``ReviewSettings`` for the rest. The success-plan exceptions (priority 1 without a green plan, without
an EBR in 12 months) need the success plans app: until it is installed (and wired by
``tamarind.success.review_hooks.p1_without_green_plan_q`` / ``p1_without_ebr_q``, each ``(today, settings) -> Q``
on Account) they show "available once success plans are installed" and are not counted.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tamarind.accounts.models import Account, LifecycleStage
from tamarind.onboarding.metrics import ENGAGE, FIRST_VALUE, ONBOARD, TargetDays
from tamarind.reviews.models import BurndownCount, ReviewSettings


@dataclass(frozen=True)
class Inputs:
    today: dt.date
    now: dt.datetime
    settings: ReviewSettings
    targets: TargetDays


@dataclass(frozen=True)
class ExceptionDef:
    key: str
    label: str
    model: str  # "account", "onboarding" or "triage": what the filter applies to
    build: Callable[[Inputs], Q | None]  # None: not available (an app is missing)
    requires_app: str = ""

    def prefix(self) -> str:
        return "" if self.model == "account" else "account__"


def _overdue(metric: Any, days: int) -> Callable[[Inputs], Q]:
    def build(i: Inputs) -> Q:
        return Q(
            status__in=["not_started", "scheduled", "in_progress", "on_hold"],
            **{
                f"{metric.end_field}__isnull": True,
                f"{metric.start_field}__lt": i.today - dt.timedelta(days=getattr(i.targets, days)),  # type: ignore[call-overload]
            },
        )

    return build


def _no_call(priority: int, attr: str) -> Callable[[Inputs], Q]:
    def build(i: Inputs) -> Q:
        cut = i.today - dt.timedelta(days=getattr(i.settings, attr))
        return Q(priority=priority) & (Q(health__engaged_on__isnull=True) | Q(health__engaged_on__lt=cut))

    return build


def _sentiment(i: Inputs) -> Q:
    cut = i.today - dt.timedelta(days=i.settings.sentiment_days)
    return Q(tam__isnull=False) & (Q(health__sentiment_on__isnull=True) | Q(health__sentiment_on__lt=cut))


def _at_risk(i: Inputs) -> Q:
    return ~Q(status="closed") & Q(last_update_at__lt=i.now - dt.timedelta(days=i.settings.at_risk_update_days))


# The exceptions success plans provide: exception key -> the filter's name in ``tamarind.success.review_hooks``.
SUCCESS_HOOKS = {"p1_no_green_plan": "p1_without_green_plan_q", "p1_no_ebr": "p1_without_ebr_q"}


def success_q(name: str, today: dt.date, settings: ReviewSettings) -> Q | None:
    """Priority 1 accounts matching ``tamarind.success.review_hooks.<name>(today, settings)``; ``None`` until
    success plans are installed and wired. The burn-down and the regional dashboard's coverage both count by it."""
    if not apps.is_installed("tamarind.success"):
        return None
    try:
        module = importlib.import_module("tamarind.success.review_hooks")
    except ModuleNotFoundError:
        return None
    func = getattr(module, name, None)
    return Q(priority=1) & func(today, settings) if func is not None else None


def _hook(name: str) -> Callable[[Inputs], Q | None]:
    def build(i: Inputs) -> Q | None:
        return success_q(name, i.today, i.settings)

    return build


EXCEPTIONS: tuple[ExceptionDef, ...] = (
    ExceptionDef("first_engagement", "First engagement over target", "onboarding", _overdue(ENGAGE, "engage")),  # type: ignore[arg-type]
    ExceptionDef("first_value", "First value over target", "onboarding", _overdue(FIRST_VALUE, "first_value")),  # type: ignore[arg-type]
    ExceptionDef("onboarding", "Onboarding over target", "onboarding", _overdue(ONBOARD, "onboard")),  # type: ignore[arg-type]
    ExceptionDef("p1_no_call", "Priority 1 without a call", "account", _no_call(1, "p1_call_days")),
    ExceptionDef("p2_no_call", "Priority 2 without a call", "account", _no_call(2, "p2_call_days")),
    ExceptionDef("sentiment", "TAM sentiment out of date", "account", _sentiment),
    ExceptionDef(
        "p1_no_green_plan",
        "Priority 1 without a green plan",
        "account",
        _hook(SUCCESS_HOOKS["p1_no_green_plan"]),
        "tamarind.success",
    ),
    ExceptionDef(
        "p1_no_ebr", "Priority 1 without an EBR", "account", _hook(SUCCESS_HOOKS["p1_no_ebr"]), "tamarind.success"
    ),
    ExceptionDef("at_risk", "At-risk cases without an update", "triage", _at_risk),
)
BY_KEY: dict[str, ExceptionDef] = {e.key: e for e in EXCEPTIONS}


def inputs(today: dt.date | None = None) -> Inputs:
    from tamarind.onboarding.selectors import onboarding_targets
    from tamarind.reviews.selectors import review_settings

    return Inputs(
        today=today or timezone.localdate(),
        now=timezone.now(),
        settings=review_settings(),
        targets=onboarding_targets().as_days(),
    )


def base_queryset(exc: ExceptionDef) -> QuerySet[Any]:
    from tamarind.onboarding.models import Onboarding
    from tamarind.triage.models import TriageCase

    if exc.model == "onboarding":
        return Onboarding.objects.exclude(account__lifecycle_stage=LifecycleStage.WILL_CHURN)
    if exc.model == "triage":
        return TriageCase.objects.all()
    return Account.objects.exclude(lifecycle_stage=LifecycleStage.WILL_CHURN)


def rows(
    exc: ExceptionDef, i: Inputs, *, region_ids: list[int] | None = None, tam_id: int | None = None
) -> QuerySet[Any] | None:
    """The rows of one exception, in a region set (``None``: all) and for one TAM (0: accounts without a TAM)."""
    q = exc.build(i)
    if q is None:
        return None
    return _scoped(base_queryset(exc).filter(q), exc.prefix(), region_ids=region_ids, tam_id=tam_id)


def _scoped(qs: QuerySet[Any], p: str, *, region_ids: list[int] | None, tam_id: int | None) -> QuerySet[Any]:
    if region_ids is not None:
        qs = qs.filter(**{f"{p}region_id__in": region_ids})
    if tam_id is not None:
        qs = qs.filter(**({f"{p}tam__isnull": True} if tam_id == 0 else {f"{p}tam_id": tam_id}))
    return qs


def counts(
    i: Inputs, *, region_ids: list[int] | None = None, tam_id: int | None = None
) -> dict[str, dict[tuple[int, int], int] | None]:
    """Per exception, counts per (region, TAM); ``None`` for an exception not available. One grouped query per
    table the exceptions apply to (accounts, onboardings, triage cases), each exception a filtered count over the
    same rows ``rows`` lists (``counts_one`` counts one exception alone)."""
    out: dict[str, dict[tuple[int, int], int] | None] = {}
    for grouped, available in _counted(i, region_ids=region_ids, tam_id=tam_id, per_cell=True):
        out.update({exc.key: {} for exc in available})
        for rid, tid, *ns in grouped:
            for exc, n in zip(available, ns, strict=True):
                if n:
                    out[exc.key][(rid, tid or 0)] = n  # type: ignore[index]
    return {exc.key: out.get(exc.key) for exc in EXCEPTIONS}


def totals(i: Inputs, *, region_ids: list[int] | None = None, tam_id: int | None = None) -> dict[str, int | None]:
    """Per exception, its count over the whole scope (what ``counts`` adds up to); ``None`` for an exception not
    available. The same filtered counts as ``counts``, one ungrouped row per table: a page that shows only the
    totals (My week) need not group a book's accounts by region and TAM."""
    out: dict[str, int | None] = {}
    for row, available in _counted(i, region_ids=region_ids, tam_id=tam_id, per_cell=False):
        out.update({exc.key: row[f"n_{exc.key}"] for exc in available})
    return {exc.key: out.get(exc.key) for exc in EXCEPTIONS}


def _counted(
    i: Inputs, *, region_ids: list[int] | None, tam_id: int | None, per_cell: bool
) -> list[tuple[Any, list[ExceptionDef]]]:
    """For each table with an available exception: the counts (``per_cell``: rows of
    (region, TAM, n per exception); else one dict ``n_<key>``) and the available exceptions they count."""
    built = {exc.key: exc.build(i) for exc in EXCEPTIONS}
    found = []
    for model in ("onboarding", "account", "triage"):
        group = [exc for exc in EXCEPTIONS if exc.model == model]
        available = [exc for exc in group if built[exc.key] is not None]
        if not available:
            continue
        p = group[0].prefix()
        qs = _scoped(base_queryset(group[0]), p, region_ids=region_ids, tam_id=tam_id)
        if model != "account":
            # Only the rows some exception counts (the open onboardings and cases). Accounts are scanned whole:
            # their exceptions together cover most of a book, and the success plan ones are subqueries.
            union = Q()
            for exc in available:
                union |= built[exc.key]  # type: ignore[operator]
            qs = qs.filter(union)
        filtered = {f"n_{exc.key}": Count("pk", filter=built[exc.key]) for exc in available}
        if per_cell:
            found.append((qs.order_by().values_list(f"{p}region_id", f"{p}tam_id").annotate(**filtered), available))
        else:
            found.append((qs.order_by().aggregate(**filtered), available))
    return found


def counts_one(
    exc: ExceptionDef, i: Inputs, *, region_ids: list[int] | None = None, tam_id: int | None = None
) -> dict[tuple[int, int], int] | None:
    """One exception's counts per (region, TAM), from its own rows: what ``counts`` must equal."""
    qs = rows(exc, i, region_ids=region_ids, tam_id=tam_id)
    if qs is None:
        return None
    p = exc.prefix()
    grouped = qs.order_by().values_list(f"{p}region_id", f"{p}tam_id").annotate(n=Count("pk"))
    return {(rid, tid or 0): n for rid, tid, n in grouped}


@transaction.atomic
def burndown_snapshot(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily scheduler job: today's count of every exception per region and TAM, replacing any earlier count
    of the same day (idempotent)."""
    i = inputs(today)
    rows_out = [
        BurndownCount(day=i.today, exception=key, region_id=rid, tam_id=tid, count=n)
        for key, cells in counts(i).items()
        if cells is not None
        for (rid, tid), n in cells.items()
    ]
    BurndownCount.objects.filter(day=i.today).delete()
    BurndownCount.objects.bulk_create(rows_out, batch_size=2000)
    return {"day": i.today.toordinal(), "rows": len(rows_out)}
