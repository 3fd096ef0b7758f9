"""Writes of the signal evidence: the daily record of which signals fire (``signal_history_record``), the rebuild
of the health-color history for past days (``signal_history_rebuild``), the outcomes (``outcomes_refresh``), the
back-test settings and the trust labels (audited).

The intervals and outcomes are derived data (like ``health.HealthHistory``): rewritten from their sources, not
audited row by row; the admin's decisions (settings, trust labels) are audited with before and after.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q, Value, Window
from django.db.models.functions import Lag
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record
from tamarind.core.errors import ValidationFailed
from tamarind.core.progress import ProgressFn
from tamarind.health.models import HealthHistory, HealthModelDraft
from tamarind.people.models import User
from tamarind.renewals.models import ArrSnapshot, Renewal, RenewalStatus
from tamarind.signals import history
from tamarind.signals.models import (
    HEALTH_KEYS,
    BacktestSettings,
    Outcome,
    OutcomeKind,
    OutcomeSource,
    RebuildState,
    SignalInterval,
    SignalTrust,
)
from tamarind.signals.weights import WeightFit, draft_definition

CHUNK = 2000


def _state() -> RebuildState:
    state, _ = RebuildState.objects.select_for_update().get_or_create(pk=RebuildState.SINGLETON_PK)
    return state


def _apply(*, day: dt.date, firing: dict[str, set[int]]) -> tuple[int, int]:
    """Open an interval for each (account, key) firing on ``day`` without an open one; close (``ended_on = day``)
    each open interval of those keys whose account no longer fires. A fixed number of queries per key set."""
    keys = list(firing)
    open_rows = SignalInterval.objects.filter(ended_on__isnull=True, key__in=keys).values_list(
        "pk", "account_id", "key"
    )
    open_by_key: dict[str, set[int]] = defaultdict(set)
    to_close: list[int] = []
    for pk, account_id, key in open_rows:
        open_by_key[key].add(account_id)
        if account_id not in firing[key]:
            to_close.append(pk)
    for start in range(0, len(to_close), CHUNK):
        SignalInterval.objects.filter(pk__in=to_close[start : start + CHUNK]).update(ended_on=day)
    new = [
        SignalInterval(account_id=account_id, key=key, started_on=day)
        for key in keys
        for account_id in sorted(firing[key] - open_by_key[key])
    ]
    SignalInterval.objects.bulk_create(new, batch_size=CHUNK)
    return len(new), len(to_close)


@dataclass
class RecordResult:
    day: dt.date
    skipped: bool = False
    opened: int = 0
    closed: int = 0


@transaction.atomic
def signal_history_record(*, day: dt.date) -> RecordResult:
    """Record which signals fire on ``day`` for the whole book (after the day's health recompute): the
    indicators' SQL twins, and the health color each account has on the day. A day already recorded (or earlier)
    is skipped, so the job can run more than once a day. A gap of days is bridged (an interval spans it)."""
    from tamarind.dashboards.health_selectors import thresholds
    from tamarind.health.selectors import live_version

    state = _state()
    if state.last_day is not None and day <= state.last_day:
        return RecordResult(day=day, skipped=True)
    firing = history.indicator_firing(day=day, thresholds=thresholds(live_version().spec()))
    firing.update(history.health_firing(day=day))
    opened, closed = _apply(day=day, firing=firing)
    state.last_day = day
    state.updated_at = timezone.now()
    state.save(update_fields=["last_day", "updated_at"])
    return RecordResult(day=day, opened=opened, closed=closed)


def signal_history_record_job() -> dict[str, Any]:
    """The periodic job ``signals.record``: today's signals, then the outcomes."""
    result = signal_history_record(day=timezone.localdate())
    outcomes = outcomes_refresh()
    return {
        "day": result.day.isoformat(),
        "skipped": result.skipped,
        "opened": result.opened,
        "closed": result.closed,
        "outcomes": outcomes.written,
    }


@dataclass
class RebuildResult:
    accounts: int = 0
    intervals: int = 0
    resumed: bool = False


def _rebuild_chunk(account_ids: list[int], *, start: dt.date, end: dt.date) -> int:
    """Rewrite the health intervals of ``account_ids`` over ``start..end`` from the health history."""
    keys = list(HEALTH_KEYS)
    mine = SignalInterval.objects.filter(account_id__in=account_ids, key__in=keys)
    mine.filter(started_on__gte=start).delete()
    # Spells running the day before ``start`` (recorded earlier): continued or ended by what the history says.
    running = {
        (row.account_id, row.key): row
        for row in mine.filter(started_on__lt=start).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
    }
    # Only the points where the color changes: a point of the same color as the one before changes nothing in
    # ``health_intervals``, and most points do not change it (a score moves within its band), so the database
    # drops them rather than sending each to be looked at here (the rebuild took 4x the hand-written SQL).
    points = (
        HealthHistory.objects.filter(account_id__in=account_ids, day__lte=end)
        .annotate(
            previous=Window(Lag("color", default=Value("")), partition_by=[F("account_id")], order_by=F("day").asc())
        )
        .filter(~Q(previous=F("color")))
        .order_by("account_id", "day")
        .values_list("account_id", "day", "color")
    )
    before = start - dt.timedelta(days=1)
    new: list[SignalInterval] = []
    continued: set[tuple[int, str]] = set()
    for account_id, key, started, ended in history.health_intervals(points.iterator(), start=before, end=end):
        if started == before:
            row = running.get((account_id, key))
            if row is not None:
                row.ended_on = ended
                continued.add((account_id, key))
                continue
            started = start
            if ended is not None and ended <= started:
                continue
        new.append(SignalInterval(account_id=account_id, key=key, started_on=started, ended_on=ended))
    for pair, row in running.items():
        if pair not in continued:
            row.ended_on = start
    changed = list(running.values())
    if changed:
        SignalInterval.objects.bulk_update(changed, ["ended_on"], batch_size=CHUNK)
    SignalInterval.objects.bulk_create(new, batch_size=CHUNK)
    return len(new)


def signal_history_rebuild(
    *,
    start: dt.date | None,
    end: dt.date | None = None,
    resume: bool = False,
    progress: ProgressFn | None = None,
    chunk: int = CHUNK,
) -> RebuildResult:
    """Rebuild the signals that stored history can tell (``history.REBUILD_NOTES``) for days ``start..end``
    (``end`` defaults to today), by chunks of accounts, each chunk in its own transaction and recorded in
    ``RebuildState`` so that ``resume=True`` carries on after an interruption. The result equals what the daily
    record would have written day by day over the same days (tested)."""
    with transaction.atomic():
        state = _state()
        if resume:
            if state.rebuild_from is None or state.rebuild_to is None:
                raise ValidationFailed({"resume": ["No rebuild to resume."]})
            start, end, after = state.rebuild_from, state.rebuild_to, state.rebuild_after_account or 0
        else:
            if start is None:
                raise ValidationFailed({"from": ["Give the first day to rebuild from."]})
            end = end or timezone.localdate()
            if end < start:
                raise ValidationFailed({"to": ["The last day is before the first."]})
            if state.last_day is not None and end < state.last_day:
                raise ValidationFailed(
                    {"to": [f"The daily record has already run to {state.last_day}: rebuild up to it at least."]}
                )
            after = 0
            state.rebuild_from, state.rebuild_to, state.rebuild_after_account = start, end, 0
            state.updated_at = timezone.now()
            state.save(update_fields=["rebuild_from", "rebuild_to", "rebuild_after_account", "updated_at"])
    assert start is not None and end is not None
    result = RebuildResult(resumed=resume)
    total = Account.objects.count()
    done = Account.objects.filter(pk__lte=after).count()
    while True:
        ids = list(Account.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        with transaction.atomic():
            result.intervals += _rebuild_chunk(ids, start=start, end=end)
            after = ids[-1]
            RebuildState.objects.filter(pk=RebuildState.SINGLETON_PK).update(
                rebuild_after_account=after, updated_at=timezone.now()
            )
        result.accounts += len(ids)
        done += len(ids)
        if progress is not None:
            progress(done, total)
    RebuildState.objects.filter(pk=RebuildState.SINGLETON_PK).update(
        rebuild_from=None, rebuild_to=None, rebuild_after_account=None, updated_at=timezone.now()
    )
    return result


# --- Outcomes ---------------------------------------------------------------------------------------------------


@dataclass
class OutcomesResult:
    written: int = 0
    from_renewals: int = 0
    from_arr_history: int = 0


def arr_drops(
    snapshots: Iterable[tuple[int, dt.date, Decimal]], *, share: Decimal
) -> list[tuple[int, dt.date, str, Decimal, Decimal]]:
    """Pure: from monthly ARR points ordered by (account, month), each fall of more than ``share`` of the month
    before (to zero: churned, else contracted), as (account, month, kind, before, after)."""
    out = []
    prev: tuple[int, Decimal] | None = None
    for account_id, month, arr in snapshots:
        if prev is not None and prev[0] == account_id and prev[1] > 0:
            before = prev[1]
            if arr == 0:
                out.append((account_id, month, OutcomeKind.CHURNED.value, before, arr))
            elif (before - arr) > share * before:
                out.append((account_id, month, OutcomeKind.CONTRACTED.value, before, arr))
        prev = (account_id, arr)
    return out


RENEWAL_NEAR_DAYS = 45


@transaction.atomic
def outcomes_refresh() -> OutcomesResult:
    """Rewrite the outcomes from their sources: every closed renewal with an outcome (on its renewal date), and
    every ARR fall of more than the set share in the monthly ARR history that no renewal outcome of the account
    within 45 days already tells (so a contraction is not counted twice)."""
    settings = BacktestSettings.load()
    rows: dict[tuple[int, dt.date, str], Outcome] = {}
    renewal_days: dict[int, list[dt.date]] = defaultdict(list)
    closed = (
        Renewal.objects.filter(status=RenewalStatus.CLOSED)
        .exclude(outcome="")
        .values_list("account_id", "renewal_date", "outcome", "arr", "new_arr")
        .order_by()
    )
    result = OutcomesResult()
    for account_id, day, kind, arr, new_arr in closed:
        renewal_days[account_id].append(day)
        rows[(account_id, day, kind)] = Outcome(
            account_id=account_id,
            kind=kind,
            on=day,
            arr_before=arr,
            arr_after=new_arr,
            source=OutcomeSource.RENEWAL,
        )
        result.from_renewals += 1
    snaps = ArrSnapshot.objects.order_by("account_id", "month").values_list("account_id", "month", "arr")
    for account_id, month, kind, before, after in arr_drops(snaps.iterator(), share=settings.contraction_share):
        if any(abs((month - d).days) <= RENEWAL_NEAR_DAYS for d in renewal_days.get(account_id, ())):
            continue
        if (account_id, month, kind) in rows:
            continue
        rows[(account_id, month, kind)] = Outcome(
            account_id=account_id,
            kind=kind,
            on=month,
            arr_before=before,
            arr_after=after,
            source=OutcomeSource.ARR_HISTORY,
        )
        result.from_arr_history += 1
    Outcome.objects.all().delete()
    Outcome.objects.bulk_create(list(rows.values()), batch_size=CHUNK)
    result.written = len(rows)
    return result


# --- Settings and trust labels ------------------------------------------------------------------------------------

SETTINGS_FIELDS = (
    "min_outcomes",
    "contraction_share",
    "horizons",
    "auc_months",
    "trust_min_lift",
    "trust_min_outcomes",
)


def _settings_dict(s: BacktestSettings) -> dict[str, Any]:
    return {f: (str(v) if isinstance(v := getattr(s, f), Decimal) else v) for f in SETTINGS_FIELDS}


# The bounds the settings page and the API accept (each a number the back-test can use without dividing by zero).
SETTINGS_BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "min_outcomes": (Decimal(1), Decimal(100_000)),
    "auc_months": (Decimal(1), Decimal(36)),
    "trust_min_lift": (Decimal(1), Decimal("9999.99")),
    "trust_min_outcomes": (Decimal(1), Decimal(100_000)),
}
MAX_HORIZONS = 6


def check_settings(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The values cleaned to the model's types, and the problems found (by field)."""
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, (low, high) in SETTINGS_BOUNDS.items():
        value = values.get(field)
        if value is None:
            continue
        try:
            number = Decimal(str(value))
        except (ArithmeticError, ValueError):
            number = Decimal("NaN")
        integral = field != "trust_min_lift"
        if not number.is_finite() or not low <= number <= high or (integral and number != number.to_integral()):
            kind = "a whole number" if integral else "a number"
            errors[field] = [f"{kind.capitalize()} between {low} and {high}."]
            continue
        clean[field] = int(number) if integral else number.quantize(Decimal("0.01"))
    horizons = values.get("horizons")
    if horizons is not None:
        try:
            days = sorted({int(h) for h in horizons})
        except (TypeError, ValueError):
            days = []
        if not days or len(days) > MAX_HORIZONS or any(h < 1 or h > 1095 for h in days):
            errors["horizons"] = [f"Horizons are 1 to {MAX_HORIZONS} numbers of days, each between 1 and 1095."]
        else:
            clean["horizons"] = days
    share = values.get("contraction_share")
    if share is not None:
        try:
            number = Decimal(str(share))
        except (ArithmeticError, ValueError):
            number = Decimal("NaN")
        if (
            not number.is_finite()
            or not Decimal(0) < number < Decimal(1)
            or number != number.quantize(Decimal("0.001"))
        ):
            errors["contraction_share"] = ["A share between 0 and 1 with at most three decimals (0.1 is 10%)."]
        else:
            clean["contraction_share"] = number
    return clean, errors


@transaction.atomic
def backtest_settings_update(*, actor: User, source: str = "web", **values: Any) -> BacktestSettings:
    """Change the back-test settings (admins; the caller checks the policy): every value checked against its
    bounds (``SETTINGS_BOUNDS``; horizons deduplicated and sorted), audited with before and after. A changed
    contraction share applies to the outcomes at their next refresh (the daily ``signals.record`` job)."""
    row = BacktestSettings.objects.select_for_update().filter(pk=BacktestSettings.SINGLETON_PK).first()
    row = row or BacktestSettings.load()
    clean, errors = check_settings(values)
    if errors:
        raise ValidationFailed(errors)
    before = _settings_dict(row)
    changed = [f for f in SETTINGS_FIELDS if f in clean and clean[f] != getattr(row, f)]
    for field in changed:
        setattr(row, field, clean[field])
    if not changed:
        return row
    row.updated_at = timezone.now()
    row.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor, obj=row, action=AuditAction.UPDATE, before=before, after=_settings_dict(row), source=source
    )
    return row


@transaction.atomic
def signal_trust_set(
    *, actor: User, key: str, trusted: bool, evidence: dict[str, Any], note: str = "", source: str = "web"
) -> SignalTrust:
    """A new version of ``key``'s trust label. Marking it trusted needs its evidence (the back-test line at the
    widest horizon, as ``selectors.trust_evidence`` gives it) to clear the admin's thresholds: a lift above
    ``trust_min_lift`` with at least ``trust_min_outcomes`` churned or contracted accounts judged. Withdrawing trust ("unproven") is always allowed."""
    if key not in history.signal_keys():
        raise ValidationFailed({"key": [f"Unknown signal {key!r}."]})
    settings = BacktestSettings.load()
    thresholds = {"min_lift": str(settings.trust_min_lift), "min_outcomes": settings.trust_min_outcomes}
    if trusted:
        lift = evidence.get("lift")
        bad = int(evidence.get("bad") or 0)
        problems = []
        if bad < settings.trust_min_outcomes:
            problems.append(
                f"{bad} churned or contracted accounts judged; at least {settings.trust_min_outcomes} needed."
            )
        if lift is None or Decimal(str(lift)) <= settings.trust_min_lift:
            shown = "unknown" if lift is None else f"{Decimal(str(lift)):.2f}"  # not 1.1111111111111112
            problems.append(f"Lift {shown} is not above {settings.trust_min_lift}.")
        if problems:
            raise ValidationFailed({"trusted": problems})
    last = SignalTrust.objects.filter(key=key).aggregate(v=Max("version"))["v"] or 0
    previous = SignalTrust.objects.filter(key=key, version=last).first()
    row = SignalTrust.objects.create(
        key=key,
        version=last + 1,
        trusted=trusted,
        thresholds=thresholds,
        evidence=evidence,
        note=note[:500],
        decided_by=actor,
    )
    audit_record(
        actor=actor,
        obj=row,
        action=AuditAction.CREATE,
        before={"trusted": previous.trusted, "version": previous.version} if previous else None,
        after={"key": key, "trusted": trusted, "version": row.version, "thresholds": thresholds, "evidence": evidence},
        source=source,
    )
    return row


# --- Suggested weights -------------------------------------------------------------------------------------------


def signal_weights_draft(*, actor: User, fit: WeightFit, source: str = "web") -> HealthModelDraft:
    """A draft of the health model with ``fit``'s suggested weights (``weights.fit_weights``), made through the
    health app's draft service (admins only, audited there; not live: the editor previews it and saves it as the
    next version). A fit that suggests nothing is refused with its reason."""
    from tamarind.health.selectors import live_version
    from tamarind.health.services import health_model_draft_create

    if not fit.ok:
        raise ValidationFailed({"weights": [fit.message]})
    live = live_version()
    definition = draft_definition(live.definition, fit.suggested_weights())
    if definition == live.definition:
        raise ValidationFailed({"weights": [f"The suggested weights are those of version {live.version} already."]})
    shares = ", ".join(f"{m.label} {m.suggested}" for m in fit.measures)
    return health_model_draft_create(
        actor=actor,
        definition=definition,
        note=f"Suggested weights from the signals back-test ({fit.bad} of {fit.judged} judged accounts bad): {shares}",
        origin="signals:weights",
        detail=fit.summary(),
        source=source,
    )
