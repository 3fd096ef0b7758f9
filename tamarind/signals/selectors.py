"""Reads of the signal evidence: the back-test over what a user may see (with the page's filters), one signal's
detail, an account's signals before its outcome, the trust labels. Each a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from tamarind.accounts.models import Account, Segment
from tamarind.dashboards.indicators import add_months
from tamarind.engagement.models import Iteration, IterationAccount
from tamarind.health.models import HealthHistory
from tamarind.people.models import Region, User
from tamarind.signals import backtest, history
from tamarind.signals.models import BAD_KINDS, BacktestSettings, Outcome, SignalInterval, SignalTrust


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return None


@dataclass(frozen=True)
class BacktestFilters:
    """The page's (and the API's) filters; anything unparseable is ignored rather than an error."""

    segment: str = ""
    region: int | None = None
    engagement_model: str = ""
    iteration: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> BacktestFilters:
        segment = str(params.get("segment") or "")
        return cls(
            segment=segment if segment in Segment.values else "",
            region=_int(params.get("region")),
            engagement_model=str(params.get("engagement_model") or "")[:40],
            iteration=_int(params.get("iteration")),
            start=_date(params.get("start")),
            end=_date(params.get("end")),
        )

    def query(self) -> str:
        from urllib.parse import urlencode

        pairs = {
            "segment": self.segment,
            "region": self.region or "",
            "engagement_model": self.engagement_model,
            "iteration": self.iteration or "",
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v})


def scoped_accounts(user: User, filters: BacktestFilters) -> QuerySet[Account]:
    """The accounts the user may see, narrowed by the filters (a queryset used as a subquery: no query of its own)."""
    qs = Account.objects.visible_to(user)
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.region:
        qs = qs.filter(region_id=filters.region)
    if filters.engagement_model:
        qs = qs.filter(engagement_model=filters.engagement_model)
    if filters.iteration:
        members = IterationAccount.objects.filter(iteration_id=filters.iteration).values("account_id")
        qs = qs.filter(pk__in=members)
    return qs.order_by()


@dataclass
class Backtest:
    """The page's figures: per signal its lines by horizon, the health score's fit, and what was left out."""

    settings: BacktestSettings
    horizons: list[int]
    start: dt.date | None
    end: dt.date | None
    judged: int
    bad: int
    before_birth: int
    signals: list[dict[str, Any]] = field(default_factory=list)
    score: backtest.ScoreFit | None = None

    @property
    def window_reversed(self) -> bool:
        """The window ends before it starts (it holds no outcome: the page says why)."""
        return self.start is not None and self.end is not None and self.end < self.start


def _window(filters: BacktestFilters) -> tuple[dt.date | None, dt.date | None]:
    start, end = filters.start, filters.end
    if filters.iteration and (start is None or end is None):
        iteration = Iteration.objects.filter(pk=filters.iteration).values_list("starts_on", "ends_on").first()
        if iteration is not None:
            start, end = start or iteration[0], end or iteration[1]
    return start, end


def _judged(
    user: User, filters: BacktestFilters, start: dt.date | None, end: dt.date | None
) -> tuple[list[backtest.Judged], int]:
    rows = Outcome.objects.filter(account__in=scoped_accounts(user, filters))
    if start:
        rows = rows.filter(on__gte=start)
    if end:
        rows = rows.filter(on__lte=end)
    data = list(rows.values_list("account_id", "on", "kind", "account__customer_since").order_by())
    born = {a: since for a, _, _, since in data}
    return backtest.judge(((a, on, kind in BAD_KINDS) for a, on, kind, _ in data), born=born)


def _intervals(account_ids: list[int], keys: list[str]) -> dict[str, dict[int, list[tuple[dt.date, dt.date | None]]]]:
    out: dict[str, dict[int, list[tuple[dt.date, dt.date | None]]]] = {k: defaultdict(list) for k in keys}
    rows = (
        SignalInterval.objects.filter(account_id__in=account_ids, key__in=keys)
        .values_list("account_id", "key", "started_on", "ended_on")
        .order_by()
    )
    for account_id, key, started, ended in rows:
        out[key][account_id].append((started, ended))
    return out


SCORES_CHUNK = 5000  # judged accounts per query (two parameters each: under SQLite's 32,766)


def _scores_before(judged: list[backtest.Judged], months: int) -> list[tuple[int | None, bool]]:
    """Each judged account's health score ``months`` before its outcome (its newest history point then).

    The database picks each account's point (the newest on or before its cutoff, through the history's (account,
    day) index) rather than sending every point up to the latest cutoff to be scanned here: over 100,000 accounts
    that was millions of rows. One query per ``SCORES_CHUNK`` judged accounts."""
    cutoff = {j.account_id: add_months(j.on, -months) for j in judged}
    if not cutoff:
        return []
    table = connection.ops.quote_name(HealthHistory._meta.db_table)
    best: dict[int, int] = {}
    pairs = list(cutoff.items())
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), SCORES_CHUNK):
            chunk = pairs[start : start + SCORES_CHUNK]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"WITH cut(account_id, day) AS (VALUES {values}) "  # noqa: S608 (only placeholders and the table)
                f"SELECT cut.account_id, (SELECT h.score FROM {table} h WHERE h.account_id = cut.account_id "
                "AND h.day <= cut.day ORDER BY h.day DESC LIMIT 1) FROM cut",
                [v for account_id, day in chunk for v in (account_id, connection.ops.adapt_datefield_value(day))],
            )
            best.update({account_id: score for account_id, score in cursor.fetchall() if score is not None})
    return [(best.get(j.account_id), j.bad) for j in judged]


def trust_labels() -> dict[str, SignalTrust]:
    """The newest trust version of each signal (one query)."""
    labels: dict[str, SignalTrust] = {}
    for row in SignalTrust.objects.select_related("decided_by").order_by("key", "-version"):
        labels.setdefault(row.key, row)
    return labels


def run_backtest(*, user: User, filters: BacktestFilters, keys: list[str] | None = None) -> Backtest:
    """The back-test over the accounts ``user`` may see with ``filters``: every signal (or ``keys``) at every
    horizon, and the health score's AUC and calibration."""
    settings = BacktestSettings.load()
    start, end = _window(filters)
    judged, before_birth = _judged(user, filters, start, end)
    keys = keys or history.signal_keys()
    intervals = _intervals([j.account_id for j in judged], keys)
    labels = trust_labels()
    result = Backtest(
        settings=settings,
        horizons=settings.horizon_days,
        start=start,
        end=end,
        judged=len(judged),
        bad=sum(1 for j in judged if j.bad),
        before_birth=before_birth,
    )
    for key in keys:
        lines = [
            backtest.signal_line(key, judged, intervals[key], horizon=h, min_outcomes=settings.min_outcomes)
            for h in result.horizons
        ]
        label = labels.get(key)
        result.signals.append(
            {
                "key": key,
                "label": history.signal_label(key),
                "lines": lines,
                "trusted": bool(label and label.trusted),
                "trust": label,
                "rebuild_note": history.rebuild_note(key),
            }
        )
    result.score = backtest.score_fit(_scores_before(judged, settings.auc_months), min_outcomes=settings.min_outcomes)
    return result


def evidence(line: backtest.SignalLine) -> dict[str, Any]:
    """A back-test line as the JSON a trust label keeps."""
    return {
        "horizon": line.horizon,
        "judged": line.judged,
        "bad": line.bad,
        "fired": line.fired,
        "fired_bad": line.fired_bad,
        "status": line.status,
        "precision": line.precision.value,
        "recall": line.recall.value,
        "lift": line.lift.value,
        "lift_low": line.lift.low,
        "lift_high": line.lift.high,
        "lead_days": line.lead_days.value,
    }


def trust_evidence(*, user: User, key: str) -> dict[str, Any]:
    """The evidence a trust decision is judged on: the whole visible book, widest horizon."""
    result = run_backtest(user=user, filters=BacktestFilters(), keys=[key])
    return evidence(result.signals[0]["lines"][-1])


def account_signals_before(*, account: Account) -> dict[str, Any]:
    """The signals that fired for ``account`` in the year before its outcome (two queries)."""
    outcomes = list(Outcome.objects.filter(account=account).order_by("on"))
    judged, _ = backtest.judge(
        ((o.account_id, o.on, o.bad) for o in outcomes), born={account.pk: account.customer_since}
    )
    intervals = list(SignalInterval.objects.filter(account=account).order_by("started_on", "key"))
    # Outcomes dated before the account existed are left out of the back-test: the panel names them.
    since = account.customer_since
    before_birth = [o for o in outcomes if since is not None and o.on < since]
    if not judged:
        return {
            "outcome": None,
            "fired": [],
            "outcomes": outcomes,
            "intervals": intervals,
            "before_birth": before_birth,
        }
    j = judged[0]
    horizon = max(BacktestSettings.horizon_default())
    fired = []
    for row in intervals:
        lead = backtest.lead_before([(row.started_on, row.ended_on)], on=j.on, horizon=horizon)
        if lead is not None:
            fired.append({"key": row.key, "label": history.signal_label(row.key), "interval": row, "lead": lead})
    return {"outcome": j, "fired": fired, "outcomes": outcomes, "intervals": intervals, "before_birth": before_birth}


def regions() -> list[Region]:
    return list(Region.objects.order_by("name"))


def iterations() -> list[Iteration]:
    return list(Iteration.objects.order_by("-starts_on")[:50])


def engagement_models() -> list[str]:
    return sorted(
        {
            m
            for m in Account.objects.exclude(engagement_model="")
            .values_list("engagement_model", flat=True)
            .distinct()
            .order_by()
        }
    )


# --- Trust labels on the dashboards, the settings page ------------------------------------------------------------


def trusted_keys() -> frozenset[str]:
    """The signals whose newest trust version says trusted (one query, however many versions): what the dashboards
    list first, the others being shown as "unproven"."""
    newest = SignalTrust.objects.filter(key=OuterRef("key")).order_by("-version").values("version")[:1]
    return frozenset(
        SignalTrust.objects.filter(trusted=True, version=Subquery(newest)).values_list("key", flat=True).distinct()
    )


def trust_first(keys: list[str], trusted: frozenset[str]) -> list[str]:
    """``keys`` with the trusted ones first, each group keeping its order (pure)."""
    return [k for k in keys if k in trusted] + [k for k in keys if k not in trusted]


def settings_changes(limit: int = 10) -> list[dict[str, Any]]:
    """The newest audited changes of the back-test settings, each with the fields it changed (one query)."""
    from tamarind.audit.models import AuditEvent

    events = AuditEvent.objects.filter(object_type="signals.backtestsettings").order_by("-at", "-pk")[:limit]
    return [{"event": e, "changes": e.changed_fields()} for e in events]
